"""The synchronous client: tasks, batches, waits, streams, workflows and services of one daemon, or of several on one
store with failover."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Sequence

import grpc

from . import _failover, _target
from ._convert import TERMINAL, decode_output, submit_request, task_dict
from ._gen.env_manager.v1 import env_manager_pb2 as env_pb
from ._gen.env_manager.v1 import env_manager_pb2_grpc as env_rpc
from ._gen.orchestrator.v1 import orchestrator_pb2 as pb
from ._gen.orchestrator.v1 import orchestrator_pb2_grpc as rpc
from ._gen.worker.v1 import worker_pb2 as wpb
from ._gen.worker.v1 import worker_pb2_grpc as wrpc
from .errors import DaemonUnavailable, DspyAgentError, TaskFailed, TimedOut, from_rpc_error


class Client:
    """A client of one daemon, or of several daemons on one store with failover.

    The address and token come from the arguments, else ORCHESTRATOR_GRPC_ADDR and the state folder's token file,
    else 127.0.0.1:50052. The channel is opened lazily and again in a forked child (grpcio channels must not cross
    os.fork()), so one Client may be shared with multiprocessing and data-loader workers.

    Several daemons sharing one PostgreSQL store are given as one comma-separated address,
    `"host1:50052,host2:50052,host3:50052"`. Calls go to one daemon at a time; when it cannot be reached (the
    connection refused or reset, the daemon stopping), the client moves to the next and repeats the call there if that
    is safe (reads, cancels, submits, runs started with an idempotency key), each daemon at most once per call, then
    raises DaemonUnavailable naming all of them. `submit` and `submit_many` give every task an id when the caller gave
    none, so a repeated submit answers the stored task instead of making a second one. Streams (`stream_results`,
    `wait`, `events`) reopen on the next daemon and resume. Calls that are not repeated elsewhere (`create_workflow`,
    a run without idempotency key, and the service calls, which act on the Docker engine of the daemon's own host)
    raise DaemonUnavailable, and the next call goes to the next daemon. An UNAVAILABLE the daemon answered about its
    store is raised as it is: the other daemons share that store.
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
        self._rotation = _failover.Rotation(self._target.addresses)
        self._timeout = timeout
        self._pid = -1
        self._channels: Dict[int, grpc.Channel] = {}
        self._stubs_by_index: Dict[int, Dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        """The `host:port` of the daemon in use."""
        return self._rotation.addresses[self._rotation.current]

    @property
    def addresses(self) -> tuple:
        """Every daemon this client may use, in the order it tries them."""
        return self._rotation.addresses

    def _stubs_at(self, index: int) -> Dict[str, Any]:
        with self._lock:
            if self._pid != os.getpid():
                # Channels inherited across fork() belong to the parent: make our own, leave theirs alone.
                self._channels, self._stubs_by_index, self._pid = {}, {}, os.getpid()
            stubs = self._stubs_by_index.get(index)
            if stubs is None:
                channel = _target.open_channel(self._target, self._rotation.addresses[index])
                self._channels[index] = channel
                stubs = {"orch": rpc.OrchestratorServiceStub(channel), "env": env_rpc.EnvManagerServiceStub(channel),
                         "workers": wrpc.WorkerServiceStub(channel)}
                self._stubs_by_index[index] = stubs
            return stubs

    def _call(self, service: str, method: str, request: Any, timeout: Optional[float] = None, *,
              repeatable: bool = True) -> Any:
        """One unary call on the daemon in use; on a gone daemon, on the next ones when `repeatable` (see the class)."""
        tried: list = []
        for index in self._rotation.order():
            tried.append(self._rotation.addresses[index])
            try:
                return getattr(self._stubs_at(index)[service], method)(
                    request, timeout=timeout or self._timeout, metadata=_target.metadata(self._target))
            except grpc.RpcError as error:
                if not self._rotation.several or not _failover.daemon_gone(error):
                    raise from_rpc_error(error) from None
                self._rotation.moved_from(index)
                if not repeatable:
                    raise _failover.not_retried(tried[-1], self.address, error) from None
                last = error
        raise _failover.everywhere_unavailable(tried, last) from None

    def _stream(self, service: str, method: str, request: Callable[[], Any], timeout: Optional[float] = None, *,
                repeatable: bool = True) -> Iterator[Any]:
        """A server stream on the daemon in use, reopened on the next one when that one goes away.

        `request` makes the request at each opening, so a stream can resume where it was. Every daemon is tried at
        most once between two messages received; then DaemonUnavailable names them.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        tried: list = []
        while True:
            index = self._rotation.current
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            call = getattr(self._stubs_at(index)[service], method)(
                request(), timeout=remaining, metadata=_target.metadata(self._target))
            try:
                for message in call:
                    tried = []
                    yield message
                return
            except grpc.RpcError as error:
                if not self._rotation.several or not _failover.daemon_gone(error):
                    raise from_rpc_error(error) from None
                tried.append(self._rotation.addresses[index])
                self._rotation.moved_from(index)
                if not repeatable:
                    raise _failover.not_retried(tried[-1], self.address, error) from None
                if len(tried) >= len(self._rotation.addresses):
                    raise _failover.everywhere_unavailable(tried, error) from None
            finally:
                call.cancel()

    def close(self) -> None:
        """Closes the channels (a later call opens new ones)."""
        with self._lock:
            if self._pid == os.getpid():
                for channel in self._channels.values():
                    channel.close()
            self._channels, self._stubs_by_index = {}, {}

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Health

    def health(self) -> dict:
        """The daemon's readiness: `{"healthy": bool, "version": str, "services": {component: state}}`."""
        answer = self._call("orch", "Health", pb.HealthRequest())
        return {"healthy": answer.healthy, "version": answer.version, "services": dict(answer.services)}

    # Tasks

    def submit(self, task_type: Optional[str] = None, payload: Optional[Mapping[str, Any]] = None, **options: Any) -> str:
        """Submits one task and returns its id once it is stored (it survives a crash of the daemon from then on).

        `options`: id, task_class, priority, labels, max_attempts, timeout_seconds, at_most_once, worker_labels.
        Payload values that are not strings are sent as JSON. With several daemons, a task without `id` is given one
        here, so the submit can be repeated on another daemon without making a second task.
        """
        if not options.get("id") and self._rotation.several:
            options["id"] = _failover.new_task_id()
        request = submit_request(task_type, payload, **options)
        answer = self._call("orch", "SubmitTask", request, repeatable=bool(request.id))
        if not answer.success:
            raise DspyAgentError(answer.error or "the daemon refused the task")
        return answer.task_id

    def submit_many(self, tasks: Iterable[Mapping[str, Any]]) -> list:
        """Submits many tasks in one call, stored in one commit; returns their ids in order.

        Each item is a dict of `submit`'s arguments (`task_type`, `payload`, `id`, ...). At most 10,000 per call.
        A task the daemon refuses raises InvalidArgument naming it; the others are stored. With several daemons, tasks
        without `id` are given one here (as `submit` does).
        """
        items = [dict(t) for t in tasks]
        if self._rotation.several:
            for item in items:
                item["id"] = item.get("id") or _failover.new_task_id()
        request = pb.SubmitTasksRequest(tasks=[submit_request(**item) for item in items])
        answer = self._call("orch", "SubmitTasks", request, repeatable=all(t.id for t in request.tasks))
        refused = [r for r in answer.results if not r.success]
        if refused:
            from .errors import InvalidArgument

            raise InvalidArgument(f"{len(refused)} task(s) refused; first: {refused[0].error}")
        return [r.task_id for r in answer.results]

    def get(self, task_id: str) -> dict:
        """The task's whole record (state, attempts, result, output, error, ...)."""
        return task_dict(self._call("orch", "GetTaskStatus", pb.GetTaskStatusRequest(task_id=task_id)).task)

    def wait(self, task_id: str, timeout: Optional[float] = None) -> Any:
        """Waits for the task to end and returns its output; raises TaskFailed or TimedOut.

        The wait survives the daemon going away: it goes on at the next daemon of the list, or at the same one once it
        answers again.
        """
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
        request = pb.StreamTaskResultsRequest(task_ids=list(task_ids), include_completed=True)
        # Reopened on another daemon, the stream starts again with each task's state: a state may come twice.
        for r in self._stream("orch", "StreamTaskResults", lambda: request, timeout):
            yield {"task_id": r.task_id, "status": r.status, "state": r.state or r.status, "error": r.error,
                   "attempts": r.attempts, "result": dict(r.result)}

    def events(self, types: Sequence[str] = (), after_sequence: int = 0) -> Iterator[dict]:
        """The event log from `after_sequence` on, then live events; resumes after a reconnect from the last one.

        With several daemons, the stream moves to the next one when its daemon goes away, from the last event seen
        (every daemon of one store numbers events in one sequence).
        """
        last = after_sequence
        while True:
            try:
                def request() -> Any:
                    return pb.StreamEventsRequest(event_types=list(types), after_sequence=last)

                for e in self._stream("orch", "StreamEvents", request):
                    last = max(last, e.sequence)
                    yield {"type": e.event_type, "resource_id": e.resource_id, "data": dict(e.data),
                           "sequence": e.sequence, "timestamp_ms": e.timestamp_ms}
                return
            except DaemonUnavailable:
                time.sleep(0.5)

    def cancel(self, task_id: str, reason: str = "") -> bool:
        """Cancels a pending or running task; True when it was cancelled now."""
        return self._call("orch", "CancelTask", pb.CancelTaskRequest(task_id=task_id, reason=reason)).success

    def list(self, states: Sequence[str] = (), task_class: str = "", labels: Optional[Mapping[str, str]] = None,
             limit: int = 100) -> list:
        """Tasks, newest first, filtered by state, class and labels; at most `limit`."""
        out: list = []
        token = ""
        while len(out) < limit:
            request = pb.ListTasksRequest(states=list(states), labels=dict(labels or {}),
                                          page_size=min(1000, limit - len(out)), page_token=token,
                                          **{"class": task_class})
            page = self._call("orch", "ListTasks", request)
            out.extend(task_dict(t) for t in page.tasks)
            token = page.next_page_token
            if not token:
                break
        return out

    # Workflows

    def create_workflow(self, workflow_id: str, spec: Mapping[str, Any], name: str = "") -> str:
        """Stores a workflow spec (steps of a DAG); returns its id. Not repeated on another daemon (see the class)."""
        import json

        answer = self._call("orch", "CreateWorkflow", pb.CreateWorkflowRequest(
            id=workflow_id, name=name, spec=json.dumps(dict(spec)).encode()), repeatable=False)
        if not answer.success:
            raise DspyAgentError(answer.error)
        return answer.workflow_id

    def start_workflow(self, workflow_id: str, idempotency_key: str = "", input: Optional[Mapping[str, Any]] = None) -> str:
        """Starts a run (the same key gives the same run); returns the run id. Repeated on another daemon only with a
        key."""
        from ._convert import payload_strings

        answer = self._call("orch", "StartWorkflowRun", pb.StartWorkflowRunRequest(
            workflow_id=workflow_id, idempotency_key=idempotency_key, input=payload_strings(input or {})),
            repeatable=bool(idempotency_key))
        if not answer.success:
            raise DspyAgentError(answer.error)
        return answer.run_id

    def workflow_status(self, run_id: str) -> Iterator[dict]:
        """The run's status now, then every change, until it ends."""
        request = pb.StreamWorkflowStatusRequest(run_id=run_id)
        for u in self._stream("orch", "StreamWorkflowStatus", lambda: request):
            yield {"run_id": u.run_id, "status": u.status, "current_step": u.current_step,
                   "steps_completed": u.steps_completed, "total_steps": u.total_steps,
                   "output": dict(u.output), "error": u.error}

    def cancel_workflow(self, run_id: str) -> bool:
        """Cancels a run and its unfinished steps."""
        return self._call("orch", "CancelWorkflowRun", pb.CancelWorkflowRunRequest(run_id=run_id)).success

    # Workers

    def workers(self) -> list:
        """The workers this daemon knows: `name`, `state`, `address`, `slots`, `running`, `task_types`, `labels`,
        `last_heartbeat_ms`, `running_task_ids`."""
        answer = self._call("workers", "ListWorkers", wpb.ListWorkersRequest())
        return [{"worker_id": w.worker_id, "name": w.name, "state": w.state, "address": w.address, "slots": w.slots,
                 "running": w.running, "task_types": list(w.task_types), "labels": dict(w.labels),
                 "last_heartbeat_ms": w.last_heartbeat_ms, "running_task_ids": list(w.running_task_ids)}
                for w in answer.workers]

    # Services

    def services(self, names: Sequence[str] = ()) -> dict:
        """Service name to its status (`status`, `container_id`, `ports`), on the daemon in use's host."""
        answer = self._call("env", "GetServicesStatus", env_pb.GetServicesStatusRequest(service_names=list(names)),
                            repeatable=False)
        return {name: {"status": s.status, "container_id": s.container_id, "ports": list(s.ports)}
                for name, s in answer.services.items()}

    def start_services(self, names: Sequence[str] = (), timeout: float = 300) -> list:
        """Starts services (every enabled one when empty) and returns the progress updates."""
        request = env_pb.StartServicesRequest(service_names=list(names))
        return [{"service": u.service_name, "status": u.status, "message": u.message}
                for u in self._stream("env", "StartServices", lambda: request, timeout, repeatable=False)]

    def stop_services(self, names: Sequence[str] = ()) -> bool:
        """Stops services (every one when empty)."""
        return self._call("env", "StopServices", env_pb.StopServicesRequest(service_names=list(names)), 120,
                          repeatable=False).success

    def logs(self, service: str, tail: int = 100, follow: bool = False) -> Iterator[dict]:
        """A service's log lines (the engine's own timestamps), following when asked."""
        request = env_pb.StreamLogsRequest(service_name=service, tail=tail, follow=follow)
        for line in self._stream("env", "StreamLogs", lambda: request, repeatable=False):
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
