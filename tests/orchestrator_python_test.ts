/**
 * A Python grpcio client following docs/compatibility.md §2 exactly, against the
 * orchestrator handlers on a real HTTP/2 server: str()-ed payload values,
 * streaming until completed or failed, NOT_FOUND for unknown ids.
 */
import { Registry } from "prom-client";
import { orchestratorHandlers } from "../src/api/orchestrator_service.ts";
import { startGrpcServer } from "../src/daemon/grpc/grpc_server.ts";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { silentLogger } from "../src/log/mod.ts";
import { openOrchestrator } from "../src/orchestrator/mod.ts";
import { assertEquals } from "./support/assert.ts";
import { runPythonJson } from "./support/python.ts";

const CLIENT = `
import json, sys, grpc
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc

channel = grpc.insecure_channel(sys.argv[1])
grpc.channel_ready_future(channel).result()
stub = rpc.OrchestratorServiceStub(channel)
out = {}

def submit(task_id, payload, klass="", priority=10):
    # What the training code does: str() on every payload value.
    req = pb.SubmitTaskRequest(id=task_id, payload={k: str(v) for k, v in payload.items()}, priority=priority)
    if klass:
        req.__setattr__("class", klass)
    try:
        r = stub.SubmitTask(req)
        return {"success": r.success, "task_id": r.task_id}
    except grpc.RpcError as e:
        return {"success": False, "error": e.details(), "code": e.code().name}

def wait(task_id):
    seen = []
    for r in stub.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[task_id])):
        seen.append(r.status)
        if r.status in ("completed", "failed"):
            return seen, dict(r.result), r.error
    return seen, {}, "stream ended"

out["submit"] = submit("py-echo", {
    "task_type": "echo",
    "nested": {"a": 1},
    "flag": True,
    "nothing": None,
    "n": 5,
    "f": 0.5,
    "config_json": json.dumps({"lr": 0.01, "layers": [1, 2]}),
    "workflow_id": "wf-py",
})
seen, result, error = wait("py-echo")
out["statuses"] = seen
out["data"] = json.loads(result["data"])
out["data_json"] = json.loads(result["data_json"])
out["result_keys"] = sorted(result.keys())
meta = json.loads(result["metadata"])
out["stdout_tail"] = meta["logs"]["stdout_tail"]
out["outputs_summary"] = meta["result"]["outputs_summary"]

out["fail_submit"] = submit("py-fail", {"task_type": "fail", "message": "bad batch"})
seen, result, error = wait("py-fail")
out["fail"] = [seen[-1], error]

out["dup"] = submit("py-echo", {"task_type": "noop"})
out["slurm"] = submit("py-slurm", {"task_type": "noop"}, klass="gpu_slurm")

for bad in ("", "does-not-exist"):
    try:
        stub.GetTaskStatus(pb.GetTaskStatusRequest(task_id=bad))
        out["status_" + (bad or "empty")] = "OK"
    except grpc.RpcError as e:
        out["status_" + (bad or "empty")] = e.code().name

s = stub.GetTaskStatus(pb.GetTaskStatusRequest(task_id="py-echo"))
out["status"] = s.status
m = stub.GetMetrics(pb.GetMetricsRequest())
out["metric_keys"] = sorted(k for k in m.metrics.keys() if "." not in k)
events = []
for e in stub.StreamEvents(pb.StreamEventsRequest(event_types=["task_completed"], since_timestamp=1)):
    events.append([e.event_type, e.resource_id, e.data["class"]])
    break
out["events"] = events
print(json.dumps(out))
`;

Deno.test("a Python grpcio client following docs/compatibility.md §2 submits, streams and reads results", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "dspy-orch-py-" });
  await using orchestrator = await openOrchestrator({
    stateDir,
    registry: new Registry(),
    hardware: { cpuCores: 2, gpus: 0 },
    slurm: false,
  });
  const shutdown = new AbortController();
  const server = await startGrpcServer({
    address: "127.0.0.1:0",
    routes: (router) => router.service(OrchestratorService, orchestratorHandlers(orchestrator)),
    shutdownSignal: shutdown.signal,
    token: "unused-on-loopback",
    logger: silentLogger,
  });
  try {
    const out = await runPythonJson<Record<string, unknown>>(CLIENT, { args: [server.address] });
    assertEquals(out.submit, { success: true, task_id: "py-echo" });
    assertEquals((out.statuses as string[]).at(-1), "completed");
    assertEquals(out.data, {
      task_type: "echo",
      nested: "{'a': 1}",
      flag: true,
      nothing: "None",
      n: 5,
      f: 0.5,
      config_json: { lr: 0.01, layers: [1, 2] },
      workflow_id: "wf-py",
    });
    assertEquals(out.data_json, out.data);
    assertEquals(out.result_keys, ["class", "data", "data_json", "latency_ms", "metadata", "workflow_id"]);
    assertEquals(out.stdout_tail, "");
    assertEquals(out.fail, ["failed", 'Task "py-fail" failed: bad batch']);
    assertEquals(out.dup, { success: true, task_id: "py-echo" });
    assertEquals((out.slurm as Record<string, string>).code, "FAILED_PRECONDITION");
    assertEquals([out.status_empty, out["status_does-not-exist"], out.status], [
      "INVALID_ARGUMENT",
      "NOT_FOUND",
      "completed",
    ]);
    for (
      const key of [
        "concurrency_limit",
        "env_queue_depth",
        "gpu_wait_seconds",
        "task_error_rate",
        "tasks_completed",
        "tasks_pending",
        "tasks_running",
        "tasks_tracked_total",
      ]
    ) {
      if (!(out.metric_keys as string[]).includes(key)) throw new Error(`GetMetrics lacks ${key}`);
    }
    assertEquals(out.events, [["task_completed", "py-echo", "cpu_short"]]);
  } finally {
    shutdown.abort();
    await server.close(1000);
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
});
