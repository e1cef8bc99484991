"""The synchronous client: tasks, batches, waits, streams, workflows and services of one daemon."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import grpc

from . import _target
from ._convert import TERMINAL, decode_output, submit_request, task_dict
from ._gen.env_manager.v1 import env_manager_pb2 as env_pb
from ._gen.env_manager.v1 import env_manager_pb2_grpc as env_rpc
from ._gen.orchestrator.v1 import orchestrator_pb2 as pb
from ._gen.orchestrator.v1 import orchestrator_pb2_grpc as rpc
from ._gen.worker.v1 import worker_pb2 as wpb
from ._gen.worker.v1 import worker_pb2_grpc as wrpc
from .errors import DaemonUnavailable, DspyAgentError, TaskFailed, TimedOut, from_rpc_error


class Client:
    """A client of one daemon.

    The address and token come from the arguments, else ORCHESTRATOR_GRPC_ADDR and the state folder's token file,
    else 127.0.0.1:50052. The channel is opened lazily and again in a forked child (grpcio channels must not cross
    os.fork()), so one Client may be shared with multiprocessing and data-loader workers.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        *,
        token: Optional[str] = None,
        tls: Optional[bool] = None,
        root_certificates: Optional[bytes] = None,
        timeout: float = 30.0,
    ) -> None:
        self._target = _target.resolve(address, token, tls, root_certificates)
        self._timeout = timeout
        self._pid = -1
        self._channel: Optional[grpc.Channel] = None

    @property
    def address(self) -> str:
        """The daemon's `host:port`."""
        return self._target.address

    def _stubs(self) -> tuple:
        if self._pid != os.getpid() or self._channel is None:
            # A channel inherited across fork() belongs to the parent: make our own, leave theirs alone.
            self._channel = _target.open_channel(self._target)
            self._pid = os.getpid()
            self._orch = rpc.OrchestratorServiceStub(self._channel)
            self._env = env_rpc.EnvManagerServiceStub(self._channel)
            self._workers = wrpc.WorkerServiceStub(self._channel)
        return self._orch, self._env

    def _call(self, method: Any, request: Any, timeout: Optional[float] = None) -> Any:
        try:
            return method(request, timeout=timeout or self._timeout, metadata=_target.metadata(self._target))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def _stream(self, method: Any, request: Any, timeout: Optional[float] = None) -> Iterator[Any]:
        try:
            yield from method(request, timeout=timeout, metadata=_target.metadata(self._target))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def close(self) -> None:
        """Closes the channel (a later call opens a new one)."""
        if self._channel is not None and self._pid == os.getpid():
            self._channel.close()
        self._channel = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Health

    def health(self) -> dict:
        """The daemon's readiness: `{"healthy": bool, "version": str, "services": {component: state}}`."""
        orch, _ = self._stubs()
        answer = self._call(orch.Health, pb.HealthRequest())
        return {"healthy": answer.healthy, "version": answer.version, "services": dict(answer.services)}

    # Tasks

    def submit(self, task_type: Optional[str] = None, payload: Optional[Mapping[str, Any]] = None, **options: Any) -> str:
        """Submits one task and returns its id once it is stored (it survives a crash of the daemon from then on).

        `options`: id, task_class, priority, labels, max_attempts, timeout_seconds, at_most_once, worker_labels.
        Payload values that are not strings are sent as JSON.
        """
        orch, _ = self._stubs()
        answer = self._call(orch.SubmitTask, submit_request(task_type, payload, **options))
        if not answer.success:
            raise DspyAgentError(answer.error or "the daemon refused the task")
        return answer.task_id

    def submit_many(self, tasks: Iterable[Mapping[str, Any]]) -> list:
        """Submits many tasks in one call, stored in one commit; returns their ids in order.

        Each item is a dict of `submit`'s arguments (`task_type`, `payload`, `id`, ...). At most 10,000 per call.
        A task the daemon refuses raises InvalidArgument naming it; the others are stored.
        """
        orch, _ = self._stubs()
        request = pb.SubmitTasksRequest(tasks=[submit_request(**dict(t)) for t in tasks])
        answer = self._call(orch.SubmitTasks, request)
        refused = [r for r in answer.results if not r.success]
        if refused:
            from .errors import InvalidArgument

            raise InvalidArgument(f"{len(refused)} task(s) refused; first: {refused[0].error}")
        return [r.task_id for r in answer.results]

    def get(self, task_id: str) -> dict:
        """The task's whole record (state, attempts, result, output, error, ...)."""
        orch, _ = self._stubs()
        return task_dict(self._call(orch.GetTaskStatus, pb.GetTaskStatusRequest(task_id=task_id)).task)

    def wait(self, task_id: str, timeout: Optional[float] = None) -> Any:
        """Waits for the task to end and returns its output; raises TaskFailed or TimedOut."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                for result in self.stream_results([task_id], timeout=remaining):
                    if result["state"] == "completed":
                        return decode_output(result["result"])
                    if result["state"] in TERMINAL:
                        task = self.get(task_id)
                        raise TaskFailed(f"task {task_id} {task['state']}: {task['error']}", task)
            except TimedOut:
                raise TimedOut(f"task {task_id} did not finish within {timeout} s") from None
            except DaemonUnavailable:
                # The daemon restarted: the task is durable, so wait again once it answers.
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    def stream_results(self, task_ids: Sequence[str] = (), timeout: Optional[float] = None) -> Iterator[dict]:
        """Each task's state now, then every change (every task when `task_ids` is empty)."""
        orch, _ = self._stubs()
        request = pb.StreamTaskResultsRequest(task_ids=list(task_ids), include_completed=True)
        for r in self._stream(orch.StreamTaskResults, request, timeout):
            yield {"task_id": r.task_id, "status": r.status, "state": r.state or r.status, "error": r.error,
                   "attempts": r.attempts, "result": dict(r.result)}

    def events(self, types: Sequence[str] = (), after_sequence: int = 0) -> Iterator[dict]:
        """The event log from `after_sequence` on, then live events; resumes after a reconnect from the last one."""
        orch, _ = self._stubs()
        last = after_sequence
        while True:
            try:
                request = pb.StreamEventsRequest(event_types=list(types), after_sequence=last)
                for e in self._stream(orch.StreamEvents, request):
                    last = max(last, e.sequence)
                    yield {"type": e.event_type, "resource_id": e.resource_id, "data": dict(e.data),
                           "sequence": e.sequence, "timestamp_ms": e.timestamp_ms}
                return
            except DaemonUnavailable:
                time.sleep(0.5)

    def cancel(self, task_id: str, reason: str = "") -> bool:
        """Cancels a pending or running task; True when it was cancelled now."""
        orch, _ = self._stubs()
        return self._call(orch.CancelTask, pb.CancelTaskRequest(task_id=task_id, reason=reason)).success

    def list(self, states: Sequence[str] = (), task_class: str = "", labels: Optional[Mapping[str, str]] = None,
             limit: int = 100) -> list:
        """Tasks, newest first, filtered by state, class and labels; at most `limit`."""
        orch, _ = self._stubs()
        out: list = []
        token = ""
        while len(out) < limit:
            request = pb.ListTasksRequest(states=list(states), labels=dict(labels or {}),
                                          page_size=min(1000, limit - len(out)), page_token=token,
                                          **{"class": task_class})
            page = self._call(orch.ListTasks, request)
            out.extend(task_dict(t) for t in page.tasks)
            token = page.next_page_token
            if not token:
                break
        return out

    # Workflows

    def create_workflow(self, workflow_id: str, spec: Mapping[str, Any], name: str = "") -> str:
        """Stores a workflow spec (steps of a DAG); returns its id."""
        import json

        orch, _ = self._stubs()
        answer = self._call(orch.CreateWorkflow, pb.CreateWorkflowRequest(
            id=workflow_id, name=name, spec=json.dumps(dict(spec)).encode()))
        if not answer.success:
            raise DspyAgentError(answer.error)
        return answer.workflow_id

    def start_workflow(self, workflow_id: str, idempotency_key: str = "", input: Optional[Mapping[str, Any]] = None) -> str:
        """Starts a run (the same key gives the same run); returns the run id."""
        from ._convert import payload_strings

        orch, _ = self._stubs()
        answer = self._call(orch.StartWorkflowRun, pb.StartWorkflowRunRequest(
            workflow_id=workflow_id, idempotency_key=idempotency_key, input=payload_strings(input or {})))
        if not answer.success:
            raise DspyAgentError(answer.error)
        return answer.run_id

    def workflow_status(self, run_id: str) -> Iterator[dict]:
        """The run's status now, then every change, until it ends."""
        orch, _ = self._stubs()
        for u in self._stream(orch.StreamWorkflowStatus, pb.StreamWorkflowStatusRequest(run_id=run_id)):
            yield {"run_id": u.run_id, "status": u.status, "current_step": u.current_step,
                   "steps_completed": u.steps_completed, "total_steps": u.total_steps,
                   "output": dict(u.output), "error": u.error}

    def cancel_workflow(self, run_id: str) -> bool:
        """Cancels a run and its unfinished steps."""
        orch, _ = self._stubs()
        return self._call(orch.CancelWorkflowRun, pb.CancelWorkflowRunRequest(run_id=run_id)).success

    # Workers

    def workers(self) -> list:
        """The workers this daemon knows: `name`, `state`, `address`, `slots`, `running`, `task_types`, `labels`,
        `last_heartbeat_ms`, `running_task_ids`."""
        self._stubs()
        answer = self._call(self._workers.ListWorkers, wpb.ListWorkersRequest())
        return [{"worker_id": w.worker_id, "name": w.name, "state": w.state, "address": w.address, "slots": w.slots,
                 "running": w.running, "task_types": list(w.task_types), "labels": dict(w.labels),
                 "last_heartbeat_ms": w.last_heartbeat_ms, "running_task_ids": list(w.running_task_ids)}
                for w in answer.workers]

    # Services

    def services(self, names: Sequence[str] = ()) -> dict:
        """Service name to its status (`status`, `container_id`, `ports`)."""
        _, env = self._stubs()
        answer = self._call(env.GetServicesStatus, env_pb.GetServicesStatusRequest(service_names=list(names)))
        return {name: {"status": s.status, "container_id": s.container_id, "ports": list(s.ports)}
                for name, s in answer.services.items()}

    def start_services(self, names: Sequence[str] = (), timeout: float = 300) -> list:
        """Starts services (every enabled one when empty) and returns the progress updates."""
        _, env = self._stubs()
        request = env_pb.StartServicesRequest(service_names=list(names))
        return [{"service": u.service_name, "status": u.status, "message": u.message}
                for u in self._stream(env.StartServices, request, timeout)]

    def stop_services(self, names: Sequence[str] = ()) -> bool:
        """Stops services (every one when empty)."""
        _, env = self._stubs()
        return self._call(env.StopServices, env_pb.StopServicesRequest(service_names=list(names)), 120).success

    def logs(self, service: str, tail: int = 100, follow: bool = False) -> Iterator[dict]:
        """A service's log lines (the engine's own timestamps), following when asked."""
        _, env = self._stubs()
        request = env_pb.StreamLogsRequest(service_name=service, tail=tail, follow=follow)
        for line in self._stream(env.StreamLogs, request):
            yield {"stream": line.stream, "message": line.message, "timestamp": line.timestamp}


def ensure_daemon(client: Optional[Client] = None, timeout: float = 120.0, cli: Optional[str] = None) -> Client:
    """Returns a client of a healthy daemon, running `dspy-agent start` first when nothing answers.

    The CLI is DSPY_AGENT_CLI_PATH, else `dspy-agent` on PATH (as the earlier AgentInfra did).
    """
    client = client or Client()
    try:
        if client.health()["healthy"]:
            return client
    except DspyAgentError:
        pass
    program = cli or os.environ.get("DSPY_AGENT_CLI_PATH") or shutil.which("dspy-agent") or "dspy-agent"
    subprocess.run([program, "start", "--timeout", str(int(timeout))], check=True, timeout=timeout + 30)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.health()["healthy"]:
                return client
        except DspyAgentError:
            pass
        time.sleep(0.2)
    raise TimedOut(f"the daemon at {client.address} was not healthy within {timeout} s")
