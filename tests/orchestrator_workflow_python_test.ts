/**
 * The workflow RPCs over the wire: a real daemon subprocess and a real
 * Python grpcio client (docs/compatibility.md §2.11): CreateWorkflow with a JSON spec,
 * StartWorkflowRun with an idempotency key, StreamWorkflowStatus until a
 * finished state, CancelWorkflowRun, and the gRPC codes of bad requests.
 */
import { startDaemonProcess } from "./support/daemon.ts";
import { runPythonJson } from "./support/python.ts";
import { assertEquals, assertStringIncludes } from "./support/assert.ts";

const SCRIPT = `
import json, sys
import grpc
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc

channel = grpc.insecure_channel(sys.argv[1])
stub = rpc.OrchestratorServiceStub(channel)
spec = {"steps": [
    {"id": "prep", "payload": {"task_type": "echo", "model": "\${input.model}"}},
    {"id": "train", "depends_on": ["prep"], "max_attempts": 2,
     "payload": {"task_type": "fail", "fail_attempts": 1, "model": "\${steps.prep.output.model}"}},
    {"id": "report", "depends_on": ["train"], "payload": {"task_type": "echo", "attempt": "\${steps.train.output.recovered_on_attempt}"}},
]}
created = stub.CreateWorkflow(pb.CreateWorkflowRequest(id="py-flow", name="py", spec=json.dumps(spec).encode()))
first = stub.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="py-flow", idempotency_key="k1", input={"model": str("gpt2")}))
again = stub.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="py-flow", idempotency_key="k1", input={"model": "other"}))
updates = []
for update in stub.StreamWorkflowStatus(pb.StreamWorkflowStatusRequest(run_id=first.run_id), timeout=30):
    updates.append({"status": update.status, "steps_completed": update.steps_completed, "total_steps": update.total_steps,
                    "output": dict(update.output), "error": update.error})
    if update.status in ("succeeded", "failed", "cancelled"):
        break

def code_of(call):
    try:
        call()
        return ["OK", ""]
    except grpc.RpcError as error:
        return [error.code().name, error.details()]

cycle = code_of(lambda: stub.CreateWorkflow(pb.CreateWorkflowRequest(id="loop", spec=json.dumps(
    {"steps": [{"id": "a", "depends_on": ["b"]}, {"id": "b", "depends_on": ["a"]}]}).encode())))
unknown_workflow = code_of(lambda: stub.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="nope")))
unknown_run = code_of(lambda: list(stub.StreamWorkflowStatus(pb.StreamWorkflowStatusRequest(run_id="run-nope"), timeout=10)))

stub.CreateWorkflow(pb.CreateWorkflowRequest(id="slow", spec=json.dumps(
    {"steps": [{"id": "wait", "payload": {"task_type": "sleep", "sleep_ms": 30000}}]}).encode()))
slow = stub.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="slow"))
cancel = stub.CancelWorkflowRun(pb.CancelWorkflowRunRequest(run_id=slow.run_id, reason="stop"))
slow_last = list(stub.StreamWorkflowStatus(pb.StreamWorkflowStatusRequest(run_id=slow.run_id), timeout=10))[-1]
task = stub.GetTaskStatus(pb.GetTaskStatusRequest(task_id=slow.run_id + ".wait"))

print(json.dumps({
    "created": [created.success, created.workflow_id],
    "same_run": first.run_id == again.run_id and first.success,
    "updates": updates,
    "cycle": cycle, "unknown_workflow": unknown_workflow, "unknown_run": unknown_run,
    "cancel": [cancel.success, cancel.status, slow_last.status, task.status],
}))
`;

Deno.test("a Python grpcio client runs, follows and cancels workflows through the daemon", async () => {
  await using daemon = await startDaemonProcess();
  const result = await runPythonJson<{
    created: [boolean, string];
    same_run: boolean;
    updates: {
      status: string;
      steps_completed: number;
      total_steps: number;
      output: Record<string, string>;
      error: string;
    }[];
    cycle: [string, string];
    unknown_workflow: [string, string];
    unknown_run: [string, string];
    cancel: [boolean, string, string, string];
  }>(SCRIPT, { args: [daemon.grpcAddr], signal: AbortSignal.timeout(60_000) });
  assertEquals(result.created, [true, "py-flow"]);
  assertEquals(result.same_run, true);
  const last = result.updates.at(-1)!;
  assertEquals(last, {
    status: "succeeded",
    steps_completed: 3,
    total_steps: 3,
    output: { "report.attempt": "2", "report.task_type": "echo" },
    error: "",
  });
  assertEquals(result.cycle, ["INVALID_ARGUMENT", `Cannot create workflow "loop": steps form a cycle: a -> b -> a`]);
  assertEquals(result.unknown_workflow[0], "NOT_FOUND");
  assertStringIncludes(result.unknown_workflow[1], `"nope"`);
  assertEquals(result.unknown_run[0], "NOT_FOUND");
  // A cancelled run reads as cancelled; its step task as failed in the v1 status (docs/compatibility.md §2.5).
  assertEquals(result.cancel, [true, "cancelled", "cancelled", "failed"]);
});
