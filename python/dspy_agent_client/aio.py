"""The asyncio client: the same calls as Client, awaitable, on grpc.aio."""
from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterator, Iterable, Mapping, Optional, Sequence

import grpc

from . import _target
from ._convert import TERMINAL, submit_request, task_dict
from ._gen.orchestrator.v1 import orchestrator_pb2 as pb
from ._gen.orchestrator.v1 import orchestrator_pb2_grpc as rpc
from .errors import DspyAgentError, InvalidArgument, TaskFailed, TimedOut, from_rpc_error


class AsyncClient:
    """An asyncio client of one daemon (address and token resolved as for Client)."""

    def __init__(self, address: Optional[str] = None, *, token: Optional[str] = None, tls: Optional[bool] = None,
                 root_certificates: Optional[bytes] = None, timeout: float = 30.0) -> None:
        self._target = _target.resolve(address, token, tls, root_certificates)
        self._timeout = timeout
        self._pid = -1
        self._channel: Optional[grpc.aio.Channel] = None

    def _stub(self) -> rpc.OrchestratorServiceStub:
        if self._pid != os.getpid() or self._channel is None:
            self._channel = _target.open_aio_channel(self._target)
            self._pid = os.getpid()
            self._orch = rpc.OrchestratorServiceStub(self._channel)
        return self._orch

    async def _call(self, method: Any, request: Any, timeout: Optional[float] = None) -> Any:
        try:
            return await method(request, timeout=timeout or self._timeout, metadata=_target.metadata(self._target))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def close(self) -> None:
        """Closes the channel."""
        if self._channel is not None and self._pid == os.getpid():
            await self._channel.close()
        self._channel = None

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def health(self) -> dict:
        """The daemon's readiness."""
        answer = await self._call(self._stub().Health, pb.HealthRequest())
        return {"healthy": answer.healthy, "version": answer.version, "services": dict(answer.services)}

    async def submit(self, task_type: Optional[str] = None, payload: Optional[Mapping[str, Any]] = None,
                     **options: Any) -> str:
        """Submits one task; returns its id once stored."""
        answer = await self._call(self._stub().SubmitTask, submit_request(task_type, payload, **options))
        if not answer.success:
            raise DspyAgentError(answer.error or "the daemon refused the task")
        return answer.task_id

    async def submit_many(self, tasks: Iterable[Mapping[str, Any]]) -> list:
        """Submits many tasks in one call and one commit; returns their ids in order."""
        request = pb.SubmitTasksRequest(tasks=[submit_request(**dict(t)) for t in tasks])
        answer = await self._call(self._stub().SubmitTasks, request)
        refused = [r for r in answer.results if not r.success]
        if refused:
            raise InvalidArgument(f"{len(refused)} task(s) refused; first: {refused[0].error}")
        return [r.task_id for r in answer.results]

    async def get(self, task_id: str) -> dict:
        """The task's whole record."""
        answer = await self._call(self._stub().GetTaskStatus, pb.GetTaskStatusRequest(task_id=task_id))
        return task_dict(answer.task)

    async def stream_results(self, task_ids: Sequence[str] = ()) -> AsyncIterator[dict]:
        """Each task's state now, then every change."""
        call = self._stub().StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=list(task_ids), include_completed=True),
                                              metadata=_target.metadata(self._target))
        try:
            async for r in call:
                yield {"task_id": r.task_id, "status": r.status, "state": r.state or r.status, "error": r.error}
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def wait(self, task_id: str, timeout: Optional[float] = None) -> Any:
        """Waits for the task to end and returns its output; raises TaskFailed or TimedOut."""
        async def until_done() -> Any:
            async for result in self.stream_results([task_id]):
                if result["state"] in TERMINAL:
                    task = await self.get(task_id)
                    if task["state"] != "completed":
                        raise TaskFailed(f"task {task_id} {task['state']}: {task['error']}", task)
                    return task["output"]
        try:
            return await asyncio.wait_for(until_done(), timeout)
        except asyncio.TimeoutError:
            raise TimedOut(f"task {task_id} did not finish within {timeout} s") from None

    async def cancel(self, task_id: str, reason: str = "") -> bool:
        """Cancels a pending or running task."""
        answer = await self._call(self._stub().CancelTask, pb.CancelTaskRequest(task_id=task_id, reason=reason))
        return answer.success
