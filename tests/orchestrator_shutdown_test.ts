/**
 * SIGTERM under load with streams open, seen by a real grpcio client: open streams end with UNAVAILABLE and a message
 * saying the daemon is stopping (so clients reconnect), and every submit that was acknowledged is there after the
 * restart.
 * @module
 */
import { assertEquals, assertStringIncludes } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { generatePythonStubs, PYTHON } from "./support/python.ts";

const CLIENT = `
import grpc, json, sys, threading, time
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc
stub = rpc.OrchestratorServiceStub(grpc.insecure_channel(sys.argv[1]))
ends = {}
def follow(name, call):
    try:
        for _ in call:
            pass
        ends[name] = ["OK", ""]
    except grpc.RpcError as e:
        ends[name] = [e.code().name, e.details()]
threads = [
    threading.Thread(target=follow, args=("events", stub.StreamEvents(pb.StreamEventsRequest()))),
    threading.Thread(target=follow, args=("results", stub.StreamTaskResults(pb.StreamTaskResultsRequest()))),
]
for t in threads:
    t.start()
acked = []
print("ready", flush=True)
# Submit until the daemon goes away; only acknowledged ids count.
deadline = time.time() + 30
while time.time() < deadline:
    try:
        r = stub.SubmitTask(pb.SubmitTaskRequest(payload={"task_type": "sleep", "sleep_ms": "50"}), timeout=5)
        if r.success:
            acked.append(r.task_id)
    except grpc.RpcError:
        break
for t in threads:
    t.join(30)
print(json.dumps({"ends": ends, "acked": acked}))
`;

Deno.test("SIGTERM under load: open streams end UNAVAILABLE saying the daemon is stopping; nothing acknowledged is lost", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-shutdown-" });
  try {
    const daemon = await startDaemonProcess({ home });
    const stubs = await generatePythonStubs();
    const client = new Deno.Command(PYTHON, {
      args: ["-c", CLIENT, daemon.grpcAddr],
      env: { PYTHONPATH: stubs },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = client.stdout.pipeThrough(new TextDecoderStream());
    let text = "";
    const reader = output.getReader();
    while (!text.includes("ready")) text += (await reader.read()).value ?? "";
    // Let the load run a moment, then stop the daemon the way systemd does.
    await new Promise((r) => setTimeout(r, 700));
    daemon.kill("SIGTERM");
    assertEquals(await daemon.exited, 0, daemon.output());
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const status = await client.status;
    assertEquals(status.code, 0, new TextDecoder().decode(await new Response(client.stderr).arrayBuffer()));
    const { ends, acked } = JSON.parse(text.trim().split("\n").at(-1)!);
    for (const name of ["events", "results"]) {
      assertEquals(ends[name][0], "UNAVAILABLE", `${name} ended ${ends[name]}`);
      assertStringIncludes(ends[name][1], "daemon is stopping");
    }
    // After a restart, every acknowledged task is there.
    await using again = await startDaemonProcess({ home });
    const check = await new Deno.Command(PYTHON, {
      args: [
        "-c",
        `
import grpc, json, sys
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc
stub = rpc.OrchestratorServiceStub(grpc.insecure_channel(sys.argv[1]))
missing = []
for task_id in json.loads(sys.argv[2]):
    try:
        stub.GetTaskStatus(pb.GetTaskStatusRequest(task_id=task_id), timeout=5)
    except grpc.RpcError as e:
        missing.append([task_id, e.code().name])
print(json.dumps(missing))
`,
        again.grpcAddr,
        JSON.stringify(acked),
      ],
      env: { PYTHONPATH: stubs },
      stdout: "piped",
    }).output();
    const missing = JSON.parse(new TextDecoder().decode(check.stdout).trim());
    console.log(`${acked.length} submits acknowledged before SIGTERM; ${missing.length} missing after the restart`);
    assertEquals(missing, []);
    assertEquals(acked.length > 0, true);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
