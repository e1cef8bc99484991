/**
 * The orchestrator end to end in a real daemon process under the production
 * permission set: a Python grpcio client, the legacy HTTP endpoints and the
 * Prometheus text, and tasks surviving a restart.
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { runPythonJson } from "./support/python.ts";

const CLIENT = `
import json, sys, grpc
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc
channel = grpc.insecure_channel(sys.argv[1])
grpc.channel_ready_future(channel).result()
stub = rpc.OrchestratorServiceStub(channel)
r = stub.SubmitTask(pb.SubmitTaskRequest(id="d-echo", payload={"task_type": "echo", "x": str({"k": [1]})}, priority=10))
last = None
for res in stub.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[r.task_id])):
    last = res
    if res.status in ("completed", "failed"):
        break
held = stub.SubmitTask(pb.SubmitTaskRequest(id="d-held", payload={"task_type": "noop"}, not_before_ms=4102444800000))
print(json.dumps({"status": last.status, "data": json.loads(last.result["data"]), "held": held.success}))
`;

Deno.test("a real daemon serves tasks to a Python grpcio client, the legacy HTTP API and /metrics; tasks survive a restart", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-orch-daemon-" });
  try {
    {
      await using daemon = await startDaemonProcess({ home });
      const out = await runPythonJson<Record<string, unknown>>(CLIENT, { args: [daemon.grpcAddr] });
      assertEquals(out, { status: "completed", data: { task_type: "echo", x: "{'k': [1]}" }, held: true });

      const submitted = await fetch(`http://${daemon.httpAddr}/queue/submit`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "d-http", payload: { task_type: "noop" } }),
      });
      assertEquals(await submitted.json(), { ok: true, id: "d-http" });
      let status: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        status = await (await fetch(`http://${daemon.httpAddr}/queue/status`)).json();
        if (status.completed === 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(status, { pending: 1, done: 2, submitted: 3, processed: 2, completed: 2 });
      const metrics = await (await fetch(`http://${daemon.httpAddr}/metrics`)).text();
      assertStringIncludes(metrics, 'queue_tasks_completed_total{class="cpu_short"} 2');
      assertStringIncludes(metrics, 'env_queue_depth{class="cpu_short"} 1');
      assertEquals(await daemon.stop(), 0);
    }
    // The held task and the finished ones are still there after a restart.
    await using daemon = await startDaemonProcess({ home });
    const status = await (await fetch(`http://${daemon.httpAddr}/queue/status`)).json();
    assertEquals(status, { pending: 1, done: 2, submitted: 3, processed: 2, completed: 2 });
    assert(daemon.pid > 0);
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("a store file that is not a database stops the daemon with its path and what to do, and is left as it was", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-damaged-" });
  try {
    const junk = "this is not a SQLite database\n".repeat(200);
    await Deno.writeTextFile(`${home}/orchestrator.db`, junk);
    const daemon = await startDaemonProcess({ home, waitReady: false });
    const code = await daemon.exited;
    assert(code !== 0, "the daemon started on a damaged store");
    const output = daemon.output();
    assertStringIncludes(output, `${home}/orchestrator.db`);
    assertStringIncludes(output, "Move the file aside");
    assertStringIncludes(output, "dspy-agent store backup");
    assertEquals(await Deno.readTextFile(`${home}/orchestrator.db`), junk);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
