"""Long-lived Python workers: functions registered with `@worker.task("name")` run as tasks the daemon pushes.

    from dspy_agent_client import Worker
    worker = Worker(slots=4)

    @worker.task("score")
    def score(payload, ctx):
        ctx.progress(0.5, "halfway")
        return {"score": len(payload["text"])}

    worker.run()          # until SIGTERM or SIGINT; reconnects when the daemon restarts

The daemon leases each task to the worker; heartbeats renew the leases. A worker that dies loses its leases when they
expire and the daemon requeues the tasks (without spending their attempts). On SIGTERM the worker stops taking tasks,
lets running ones finish within `grace_seconds`, and gives back the rest.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import signal as signals
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Mapping, Optional

import grpc

from . import _target
from ._gen.worker.v1 import worker_pb2 as wpb
from ._gen.worker.v1 import worker_pb2_grpc as wrpc


class TaskContext:
    """What a task function gets besides its payload: progress, log lines, and whether it should stop."""

    def __init__(self, worker: "Worker", assignment: Any) -> None:
        self._worker = worker
        self.task_id: str = assignment.task_id
        self.attempt: int = assignment.attempt
        self.labels: Dict[str, str] = dict(assignment.labels)
        self._lease_id: str = assignment.lease_id
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once the task was cancelled (or its lease lost): stop and return."""
        return self._cancelled.is_set()

    def progress(self, fraction: float = -1.0, message: str = "", log_lines: Optional[list] = None) -> None:
        """Reports progress (0..1, or -1 for unknown), a message and output lines; notices a cancel."""
        answer = self._worker._rpc(self._worker._stub.ReportTaskProgress, wpb.ReportTaskProgressRequest(
            worker_id=self._worker.worker_id, task_id=self.task_id, lease_id=self._lease_id,
            progress=fraction, message=message, log_lines=list(log_lines or [])))
        if answer is not None and answer.stop:
            self._cancelled.set()

    def log(self, line: str) -> None:
        """Records one output line of the task."""
        self.progress(-1.0, "", [line])


class Worker:
    """A worker process: registers its task functions and runs what the daemon pushes, `slots` at a time."""

    def __init__(self, name: Optional[str] = None, *, slots: int = 1, labels: Optional[Mapping[str, str]] = None,
                 address: Optional[str] = None, token: Optional[str] = None, tls: Optional[bool] = None,
                 root_certificates: Optional[bytes] = None, grace_seconds: float = 30.0) -> None:
        self.name = name or f"worker@{socket.gethostname()}"
        self.slots = slots
        self.labels = dict(labels or {})
        self.grace_seconds = grace_seconds
        self.worker_id = ""
        self._target = _target.resolve(address, token, tls, root_certificates)
        self._functions: Dict[str, Callable[..., Any]] = {}
        self._running: Dict[str, TaskContext] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pool: Optional[ThreadPoolExecutor] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._channel: Optional[grpc.Channel] = None
        self._stub: Any = None

    def task(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Registers a sync or async function for task type `name`: called with (payload, ctx) or (payload)."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._functions[name] = fn
            return fn
        return register

    # Running

    def run(self, install_signal_handlers: bool = True) -> None:
        """Runs until stop() or SIGTERM/SIGINT; reconnects with backoff when the daemon goes away."""
        if not self._functions:
            raise ValueError("no task functions: decorate one with @worker.task(\"name\")")
        if install_signal_handlers and threading.current_thread() is threading.main_thread():
            for sig in (signals.SIGTERM, signals.SIGINT):
                signals.signal(sig, lambda *_: self.stop())
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="dspy-agent-task")
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="dspy-agent-async").start()
        backoff = 0.2
        try:
            while not self._stopping.is_set():
                try:
                    self._session()
                    backoff = 0.2
                except grpc.RpcError:
                    if self._stopping.is_set():
                        break
                    time.sleep(backoff)
                    backoff = min(5.0, backoff * 2)
        finally:
            self._finish()

    def stop(self) -> None:
        """Stops taking tasks; running ones get `grace_seconds` to finish, then are given back."""
        self._stopping.set()
        if self._channel is not None:
            self._channel.close()

    def _session(self) -> None:
        self._channel = _target.open_channel(self._target)
        self._stub = wrpc.WorkerServiceStub(self._channel)
        md = _target.metadata(self._target) + [("x-dspy-agent-host", socket.gethostname())]
        reply = self._stub.RegisterWorker(wpb.RegisterWorkerRequest(
            name=self.name, task_types=list(self._functions), slots=self.slots, labels=self.labels,
            worker_id=self.worker_id, client_version="dspy-agent-client/0.1.0 python"), timeout=10, metadata=md)
        self.worker_id = reply.worker_id
        beat = threading.Thread(target=self._heartbeats, args=(reply.heartbeat_interval_ms / 1000.0,), daemon=True)
        beat.start()
        stream = self._stub.ListenForTasks(wpb.ListenForTasksRequest(worker_id=self.worker_id), metadata=md)
        for message in stream:
            if self._stopping.is_set():
                break
            if message.HasField("assignment"):
                self._start(message.assignment)
            elif message.HasField("cancel"):
                with self._lock:
                    ctx = self._running.get(message.cancel.lease_id)
                if ctx:
                    ctx._cancelled.set()

    def _heartbeats(self, interval: float) -> None:
        channel = self._channel
        while not self._stopping.is_set() and channel is self._channel:
            with self._lock:
                leases = list(self._running)
            answer = self._rpc(self._stub.WorkerHeartbeat,
                               wpb.WorkerHeartbeatRequest(worker_id=self.worker_id, lease_ids=leases))
            if answer is not None:
                for lost in answer.lost_lease_ids:
                    with self._lock:
                        ctx = self._running.get(lost)
                    if ctx:
                        ctx._cancelled.set()
            time.sleep(interval)

    def _start(self, assignment: Any) -> None:
        ctx = TaskContext(self, assignment)
        with self._lock:
            self._running[assignment.lease_id] = ctx
        fn = self._functions.get(assignment.task_type)
        payload = json.loads(assignment.payload_json or "{}")
        if inspect.iscoroutinefunction(fn):
            future = asyncio.run_coroutine_threadsafe(self._call_async(fn, payload, ctx), self._loop)
            future.add_done_callback(lambda f: self._report(assignment, ctx, f))
        else:
            self._pool.submit(self._call_sync, fn, payload, ctx).add_done_callback(
                lambda f: self._report(assignment, ctx, f))

    @staticmethod
    def _call_sync(fn: Callable[..., Any], payload: Any, ctx: TaskContext) -> Any:
        return fn(payload, ctx) if len(inspect.signature(fn).parameters) >= 2 else fn(payload)

    @staticmethod
    async def _call_async(fn: Callable[..., Any], payload: Any, ctx: TaskContext) -> Any:
        return await (fn(payload, ctx) if len(inspect.signature(fn).parameters) >= 2 else fn(payload))

    def _report(self, assignment: Any, ctx: TaskContext, future: Any) -> None:
        with self._lock:
            self._running.pop(assignment.lease_id, None)
        ids = dict(worker_id=self.worker_id, task_id=assignment.task_id, lease_id=assignment.lease_id)
        error = future.exception()
        if error is None:
            try:
                result_json = json.dumps(future.result())
            except (TypeError, ValueError) as bad:
                self._rpc(self._stub.FailWorkerTask, wpb.FailWorkerTaskRequest(
                    **ids, error=f"the result is not JSON-serialisable: {bad}", error_type="TypeError", retryable=False))
                return
            self._rpc(self._stub.CompleteWorkerTask, wpb.CompleteWorkerTaskRequest(**ids, result_json=result_json))
        else:
            self._rpc(self._stub.FailWorkerTask, wpb.FailWorkerTaskRequest(
                **ids, error=str(error), error_type=type(error).__name__, retryable=True))

    def _rpc(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=10, metadata=_target.metadata(self._target))
        except grpc.RpcError:
            return None

    def _finish(self) -> None:
        # Graceful stop: running tasks get the grace period, then whatever still runs is given back.
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.05)
        channel = _target.open_channel(self._target)
        stub = wrpc.WorkerServiceStub(channel)
        with self._lock:
            left = list(self._running.values())
        md = _target.metadata(self._target)
        for ctx in left:
            ctx._cancelled.set()
            try:
                stub.ReleaseWorkerTask(wpb.ReleaseWorkerTaskRequest(
                    worker_id=self.worker_id, task_id=ctx.task_id, lease_id=ctx._lease_id,
                    reason="the worker was stopped"), timeout=5, metadata=md)
            except grpc.RpcError:
                pass
        channel.close()
        if self._pool:
            self._pool.shutdown(wait=False)
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
