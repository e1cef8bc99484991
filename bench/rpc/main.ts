/**
 * bench/rpc: a Python grpcio client against the daemon and against
 * a minimal Python grpcio server doing the same work, in the same run.
 * Unary Health and a server stream, at 1 and 64 calls in flight.
 *
 *   deno task bench:rpc            (BENCH_SCALE=0.2 for a quick run)
 */
import { freePort, startDaemonProcess } from "../../tests/support/daemon.ts";
import { generatePythonStubs, PYTHON, runPythonJson } from "../../tests/support/python.ts";

const HERE = new URL(".", import.meta.url).pathname;
const SCALE = Number(Deno.env.get("BENCH_SCALE") ?? "1");

interface Figures {
  calls_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

async function load(target: string, kind: string, inFlight: number, taskId: string): Promise<Figures> {
  const total = Math.round(
    (kind === "health" ? (inFlight === 1 ? 3000 : 20000) : (inFlight === 1 ? 1000 : 5000)) * SCALE,
  );
  const stubs = await generatePythonStubs();
  const out = await new Deno.Command(PYTHON, {
    args: [`${HERE}client.py`, target, kind, String(inFlight), String(total), taskId],
    env: { PYTHONPATH: stubs },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`client failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function startReference(flavour: "sync" | "aio"): Promise<{ addr: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = new Deno.Command(PYTHON, {
    args: [`${HERE}reference_server.py`, String(port), flavour],
    env: { PYTHONPATH: await generatePythonStubs() },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  if (!first.value?.includes("ready")) throw new Error("the reference server did not start");
  reader.releaseLock();
  return {
    addr: `127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** Submits a noop task and waits until it completes, so the stream has a stored result to send. */
function completedTask(grpcAddr: string): Promise<string> {
  return runPythonJson<string>(
    `
import grpc, json, sys, time
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as pbg
stub = pbg.OrchestratorServiceStub(grpc.insecure_channel(sys.argv[1]))
r = stub.SubmitTask(pb.SubmitTaskRequest(id="bench-rpc-task", payload={"task_type": "noop"}))
for _ in range(200):
    if stub.GetTaskStatus(pb.GetTaskStatusRequest(task_id=r.task_id)).status == "completed":
        break
    time.sleep(0.05)
print(json.dumps(r.task_id))
`,
    { args: [grpcAddr] },
  );
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9);

await using daemon = await startDaemonProcess();
const references = { sync: await startReference("sync"), aio: await startReference("aio") };
try {
  const taskId = await completedTask(daemon.grpcAddr);
  console.log(`bench/rpc — Python grpcio client, same machine, same run (scale ${SCALE})`);
  console.log("references: grpcio's thread-pool server (sync, grpc.io quick start) and its asyncio server (aio)");
  console.log("target: at 64 in flight the daemon serves Health at least as fast as the reference\n");
  console.log(
    "rpc      in-flight | dspy-agent calls/s  p50 ms  p99 ms | sync calls/s  p50 ms  p99 ms | aio calls/s  p50 ms  p99 ms | vs sync  vs aio",
  );
  const cell = (f: Figures, width: number) =>
    `${fmt(f.calls_per_s).padStart(width)} ${fmt(f.p50_ms, 2)} ${fmt(f.p99_ms, 2)}`;
  for (const kind of ["health", "stream"]) {
    for (const inFlight of [1, 64]) {
      // Rotate the order so no server always runs on a warmer machine.
      const order = inFlight === 1 ? ["ours", "sync", "aio"] : ["aio", "sync", "ours"];
      const figures: Record<string, Figures> = {};
      for (const who of order) {
        const addr = who === "ours" ? daemon.grpcAddr : references[who as "sync" | "aio"].addr;
        figures[who] = await load(addr, kind, inFlight, taskId).catch((err) => {
          throw new Error(`${who === "ours" ? "dspy-agent" : `the ${who} reference`} failed: ${err.message}`);
        });
      }
      const { ours, sync, aio } = figures;
      console.log(
        `${kind.padEnd(8)} ${String(inFlight).padStart(9)} | ${cell(ours, 18)} | ${cell(sync, 12)} | ${
          cell(aio, 11)
        } | ${(ours.calls_per_s / sync.calls_per_s).toFixed(2).padStart(6)}x ${
          (ours.calls_per_s / aio.calls_per_s).toFixed(2).padStart(6)
        }x`,
      );
    }
  }
} finally {
  await references.sync.stop();
  await references.aio.stop();
}
