"""The asyncio client: the same calls as Client, awaitable, on grpc.aio."""
from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterator, Dict, Iterable, Mapping, Optional, Sequence

import grpc

from . import _failover, _target
from ._convert import TERMINAL, submit_request, task_dict
from ._gen.orchestrator.v1 import orchestrator_pb2 as pb
from ._gen.orchestrator.v1 import orchestrator_pb2_grpc as rpc
from .errors import DaemonUnavailable, DspyAgentError, InvalidArgument, TaskFailed, TimedOut, from_rpc_error


class AsyncClient:
    """An asyncio client of one daemon, or of several on one store with the same failover as Client (address and
    token resolved as for Client)."""

    def __init__(self, address: Optional[str] = None, *, token: Optional[str] = None, tls: Optional[bool] = None,
                 root_certificates: Optional[bytes] = None, timeout: float = 30.0) -> None:
        self._target = _target.resolve(address, token, tls, root_certificates)
        self._rotation = _failover.Rotation(self._target.addresses)
        self._timeout = timeout
        self._pid = -1
        self._channels: Dict[int, grpc.aio.Channel] = {}
        self._stubs: Dict[int, rpc.OrchestratorServiceStub] = {}

    @property
    def address(self) -> str:
        """The `host:port` of the daemon in use."""
        return self._rotation.addresses[self._rotation.current]

    def _stub(self, index: int) -> rpc.OrchestratorServiceStub:
        if self._pid != os.getpid():
            self._channels, self._stubs, self._pid = {}, {}, os.getpid()
        if index not in self._stubs:
            self._channels[index] = _target.open_aio_channel(self._target, self._rotation.addresses[index])
            self._stubs[index] = rpc.OrchestratorServiceStub(self._channels[index])
        return self._stubs[index]

    async def _call(self, method: str, request: Any, timeout: Optional[float] = None, *,
                    repeatable: bool = True) -> Any:
        tried: list = []
        for index in self._rotation.order():
            tried.append(self._rotation.addresses[index])
            try:
                return await getattr(self._stub(index), method)(
                    request, timeout=timeout or self._timeout, metadata=_target.metadata(self._target))
            except grpc.RpcError as error:
                if not self._rotation.several or not _failover.daemon_gone(error):
                    raise from_rpc_error(error) from None
                self._rotation.moved_from(index)
                if not repeatable:
                    raise _failover.not_retried(tried[-1], self.address, error) from None
                last = error
        raise _failover.everywhere_unavailable(tried, last) from None

    async def close(self) -> None:
        """Closes the channels."""
        if self._pid == os.getpid():
            for channel in self._channels.values():
                await channel.close()
        self._channels, self._stubs = {}, {}

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def health(self) -> dict:
        """The daemon's readiness."""
        answer = await self._call("Health", pb.HealthRequest())
        return {"healthy": answer.healthy, "version": answer.version, "services": dict(answer.services)}

    async def submit(self, task_type: Optional[str] = None, payload: Optional[Mapping[str, Any]] = None,
                     **options: Any) -> str:
        """Submits one task; returns its id once stored (given an id here with several daemons, as Client does)."""
        if not options.get("id") and self._rotation.several:
            options["id"] = _failover.new_task_id()
        request = submit_request(task_type, payload, **options)
        answer = await self._call("SubmitTask", request, repeatable=bool(request.id))
        if not answer.success:
            raise DspyAgentError(answer.error or "the daemon refused the task")
        return answer.task_id

    async def submit_many(self, tasks: Iterable[Mapping[str, Any]]) -> list:
        """Submits many tasks in one call and one commit; returns their ids in order."""
        items = [dict(t) for t in tasks]
        if self._rotation.several:
            for item in items:
                item["id"] = item.get("id") or _failover.new_task_id()
        request = pb.SubmitTasksRequest(tasks=[submit_request(**item) for item in items])
        answer = await self._call("SubmitTasks", request, repeatable=all(t.id for t in request.tasks))
        refused = [r for r in answer.results if not r.success]
        if refused:
            raise InvalidArgument(f"{len(refused)} task(s) refused; first: {refused[0].error}")
        return [r.task_id for r in answer.results]

    async def get(self, task_id: str) -> dict:
        """The task's whole record."""
        answer = await self._call("GetTaskStatus", pb.GetTaskStatusRequest(task_id=task_id))
        return task_dict(answer.task)

    async def stream_results(self, task_ids: Sequence[str] = ()) -> AsyncIterator[dict]:
        """Each task's state now, then every change; reopened on the next daemon when its daemon goes away."""
        request = pb.StreamTaskResultsRequest(task_ids=list(task_ids), include_completed=True)
        tried: list = []
        while True:
            index = self._rotation.current
            call = self._stub(index).StreamTaskResults(request, metadata=_target.metadata(self._target))
            try:
                async for r in call:
                    tried = []
                    yield {"task_id": r.task_id, "status": r.status, "state": r.state or r.status, "error": r.error}
                return
            except grpc.RpcError as error:
                if not self._rotation.several or not _failover.daemon_gone(error):
                    raise from_rpc_error(error) from None
                tried.append(self._rotation.addresses[index])
                self._rotation.moved_from(index)
                if len(tried) >= len(self._rotation.addresses):
                    raise _failover.everywhere_unavailable(tried, error) from None
            finally:
                call.cancel()

    async def wait(self, task_id: str, timeout: Optional[float] = None) -> Any:
        """Waits for the task to end and returns its output; raises TaskFailed or TimedOut."""
        async def until_done() -> Any:
            while True:
                try:
                    async for result in self.stream_results([task_id]):
                        if result["state"] in TERMINAL:
                            task = await self.get(task_id)
                            if task["state"] != "completed":
                                raise TaskFailed(f"task {task_id} {task['state']}: {task['error']}", task)
                            return task["output"]
                except DaemonUnavailable:
                    # No daemon of the list answers now; the task is durable, so wait again (bounded by `timeout`).
                    if not self._rotation.several:
                        raise
                    await asyncio.sleep(0.5)
        try:
            return await asyncio.wait_for(until_done(), timeout)
        except asyncio.TimeoutError:
            raise TimedOut(f"task {task_id} did not finish within {timeout} s") from None

    async def cancel(self, task_id: str, reason: str = "") -> bool:
        """Cancels a pending or running task."""
        answer = await self._call("CancelTask", pb.CancelTaskRequest(task_id=task_id, reason=reason))
        return answer.success
