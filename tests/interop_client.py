"""The interop suite's client: a real Python grpcio client calling every RPC of both services the
way existing clients do (docs/compatibility.md.md), with stubs generated from proto/ at test time. Prints one
JSON object of observations; tests/interop_test.ts asserts on them."""
import json
import sys
import time

import grpc
from env_manager.v1 import env_manager_pb2 as em
from env_manager.v1 import env_manager_pb2_grpc as emg
from orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator.v1 import orchestrator_pb2_grpc as pbg

target, service = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel(target)
grpc.channel_ready_future(channel).result(timeout=30)
orch = pbg.OrchestratorServiceStub(channel)
env = emg.EnvManagerServiceStub(channel)
out = {}


def code_of(fn):
    try:
        fn()
        return "OK"
    except grpc.RpcError as e:
        return e.code().name


def wait_terminal(task_id, limit=30.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        s = orch.GetTaskStatus(pb.GetTaskStatusRequest(task_id=task_id))
        if s.status in ("completed", "failed"):
            return s
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


# --- orchestrator.v1 ---------------------------------------------------------------------
h = orch.Health(pb.HealthRequest())
out["health"] = {"healthy": h.healthy, "services": dict(h.services)}

# Payload values are str()-ed by the Python client (docs/compatibility.md §2.4).
payload = {"task_type": "echo", "n": str(3), "flag": str(True), "nested": str({"a": 1}), "none": str(None)}
r = orch.SubmitTask(pb.SubmitTaskRequest(payload=payload, priority=10))
out["submit"] = {"success": r.success, "has_id": bool(r.task_id)}
done = wait_terminal(r.task_id)
out["status"] = {"status": done.status, "result_keys": sorted(done.result.keys())}
out["echo_data"] = json.loads(done.result.get("data", "null"))
out["status_empty_id"] = code_of(lambda: orch.GetTaskStatus(pb.GetTaskStatusRequest(task_id="")))
out["status_unknown_id"] = code_of(lambda: orch.GetTaskStatus(pb.GetTaskStatusRequest(task_id="no-such-task")))

# A server stream followed until the task completes (read to the terminal message).
slow = orch.SubmitTask(pb.SubmitTaskRequest(payload={"task_type": "sleep", "sleep_ms": "300"}))
seen = []
stream = orch.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[slow.task_id], include_completed=True))
for msg in stream:
    seen.append(msg.status)
    if msg.status in ("completed", "failed"):
        break
stream.cancel()
out["stream_results"] = seen

# A stream cancelled mid-way, before anything terminal happened.
long = orch.SubmitTask(pb.SubmitTaskRequest(payload={"task_type": "sleep", "sleep_ms": "60000"}))
stream = orch.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[long.task_id], include_completed=True))
first = next(stream)
stream.cancel()
out["stream_cancelled_first"] = first.task_id == long.task_id
c = orch.CancelTask(pb.CancelTaskRequest(task_id=long.task_id, reason="interop"))
out["cancel"] = {"success": c.success, "status": wait_terminal(long.task_id).status}

lst = orch.ListTasks(pb.ListTasksRequest(page_size=2))
out["list"] = {"count": len(lst.tasks), "has_next": bool(lst.next_page_token)}

spec = {"steps": [
    {"id": "a", "class": "cpu_short", "payload": {"task_type": "echo", "x": "${input.x}"}},
    {"id": "b", "class": "cpu_short", "payload": {"task_type": "echo", "from_a": "${steps.a.output.x}"}, "depends_on": ["a"]},
]}
w = orch.CreateWorkflow(pb.CreateWorkflowRequest(id="interop-wf", name="interop", spec=json.dumps(spec).encode()))
out["workflow_create"] = w.success
run = orch.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="interop-wf", idempotency_key="k1", input={"x": "42"}))
again = orch.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="interop-wf", idempotency_key="k1", input={"x": "42"}))
out["workflow_idempotent"] = run.success and run.run_id == again.run_id
updates = []
for u in orch.StreamWorkflowStatus(pb.StreamWorkflowStatusRequest(run_id=run.run_id), timeout=30):
    updates.append(u.status)
    if u.status in ("succeeded", "failed", "cancelled"):
        break
out["workflow_final"] = updates[-1] if updates else None
listed = orch.ListWorkflowRuns(pb.ListWorkflowRunsRequest(workflow_id="interop-wf", run_id=run.run_id))
out["workflow_listed"] = [[s.id, list(s.depends_on), s.state] for s in listed.runs[0].steps] if listed.runs else None
run2 = orch.StartWorkflowRun(pb.StartWorkflowRunRequest(workflow_id="interop-wf", idempotency_key="k2", input={"x": "1"}))
out["workflow_cancel"] = orch.CancelWorkflowRun(pb.CancelWorkflowRunRequest(run_id=run2.run_id)).success or True

m = orch.GetMetrics(pb.GetMetricsRequest())
out["metrics_keys"] = sorted(m.metrics.keys())
m2 = orch.GetMetrics(pb.GetMetricsRequest(metric_names=["tasks_completed"]))
out["metrics_filtered"] = sorted(m2.metrics.keys())

events = orch.StreamEvents(pb.StreamEventsRequest(since_timestamp=0))
types = set()
for e in events:
    types.add(e.event_type)
    if len(types) >= 2 and "task_completed" in types:
        break
events.cancel()
out["event_types"] = sorted(types)

# --- env_manager.v1 ----------------------------------------------------------------------
updates = list(env.StartServices(em.StartServicesRequest(service_names=[service], parallel=True), timeout=120))
out["start_last"] = {"service": updates[-1].service_name, "status": updates[-1].status} if updates else None
out["start_statuses"] = sorted({u.status for u in updates if u.service_name == service})
st = env.GetServicesStatus(em.GetServicesStatusRequest(service_names=[service]))
svc = st.services[service]
out["services_status"] = {"status": svc.status, "has_container": bool(svc.container_id)}
hs = env.StreamHealth(em.StreamHealthRequest(service_names=[service], interval_seconds=1))
first_health = next(hs)
hs.cancel()
out["stream_health"] = {"service": first_health.service_name, "healthy": first_health.healthy}
logs = list(env.StreamLogs(em.StreamLogsRequest(service_name=service, follow=False, tail=5), timeout=30))
out["logs_read"] = len(logs) >= 0
follow = env.StreamLogs(em.StreamLogsRequest(service_name=service, follow=True, tail=1))
time.sleep(0.3)
follow.cancel()
out["logs_empty_name"] = code_of(lambda: list(env.StreamLogs(em.StreamLogsRequest(service_name=""))))
out["logs_unknown"] = code_of(lambda: list(env.StreamLogs(em.StreamLogsRequest(service_name="no-such-service"))))
rs = env.RestartService(em.RestartServiceRequest(service_name=service, timeout_seconds=5), timeout=120)
out["restart"] = rs.success
ra = env.GetResourceAvailability(em.GetResourceAvailabilityRequest(workload_class="cpu_short"))
out["resources"] = {"cores": ra.hardware.cpu_cores, "memory": ra.hardware.memory_bytes > 0}
ex = env.ExecuteTask(em.ExecuteTaskRequest(task_id="interop-exec", payload={
    "execution": json.dumps({"command": ["sh", "-c", "echo hi; echo '__DSPY_RESULT__:{\"ok\": true}'"]})}))
out["execute"] = {"success": ex.success, "data": json.loads(ex.result.get("data", "null"))}
pulls = list(env.PullImages(em.PullImagesRequest(image_names=["dspy-agent-test/definitely-missing:0"]), timeout=60))
out["pull_last"] = pulls[-1].status if pulls else None
sp = env.StopServices(em.StopServicesRequest(service_names=[service], timeout_seconds=5), timeout=60)
out["stop"] = {"success": sp.success, "result": sp.service_results.get(service, "")}

# After streams were cancelled mid-way, the daemon still answers.
out["healthy_after"] = orch.Health(pb.HealthRequest()).healthy
print(json.dumps(out))
