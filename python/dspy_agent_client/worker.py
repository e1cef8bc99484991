"""Long-lived Python workers: functions registered with `@worker.task("name")` run as tasks the daemon pushes.

    from dspy_agent_client import Worker
    worker = Worker(slots=4)

    @worker.task("score")
    def score(payload, ctx):
        ctx.progress(0.5, "halfway")
        return {"score": len(payload["text"])}

    worker.run()          # until SIGTERM or SIGINT; reconnects when the daemon restarts

Given several daemons on one store (`Worker(address="host1:50052,host2:50052,host3:50052")`), a worker that loses its
daemon connects to the next one of the list (round robin, with the same backoff), registers again there and goes on
taking tasks. A task that finished while no daemon was connected is reported once a daemon is: the daemon's lease
check decides whether the outcome still counts (an attempt requeued meanwhile is refused, and the refusal is logged).

The daemon leases each task to the worker; heartbeats renew the leases. A worker that dies loses its leases when they
expire and the daemon requeues the tasks (without spending their attempts). On SIGTERM the worker stops taking tasks,
lets running ones finish within `grace_seconds`, and gives back the rest.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import signal as signals
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Mapping, Optional

import grpc

from . import _failover, _target
from ._gen.worker.v1 import worker_pb2 as wpb
from ._gen.worker.v1 import worker_pb2_grpc as wrpc

log = logging.getLogger("dspy_agent_client.worker")

# How long a finished task's outcome waits for a daemon to report to: longer than a reconnect round over a few
# daemons at the longest backoff (5 s), shorter than forever (a daemon that never comes back must not hold the thread).
REPORT_PATIENCE_SECONDS = 60.0


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
    """A worker process: registers its task functions and runs what the daemon pushes, `slots` at a time.

    `address` may list several daemons on one store, separated by commas: when its daemon goes away, the worker
    registers with the next one (round robin, with backoff) and goes on.
    """

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
        self._address = ""
        self._connected = threading.Event()

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
        # Made here, not in __init__: `python -m dspy_agent_client worker --address ...` replaces the target first.
        rotation = _failover.Rotation(self._target.addresses)
        backoff = 0.2
        try:
            while not self._stopping.is_set():
                index = rotation.current
                try:
                    self._session(rotation.addresses[index])
                    backoff = 0.2
                except grpc.RpcError as error:
                    if self._stopping.is_set():
                        break
                    if self._connected.is_set():
                        # It was registered: a fresh loss, so start the backoff again.
                        backoff = 0.2
                    self._connected.clear()
                    if rotation.several:
                        rotation.moved_from(index)
                        log.warning("worker %s: lost the daemon at %s (%s); connecting to %s", self.name,
                                    rotation.addresses[index], error.code() if hasattr(error, "code") else error,
                                    rotation.addresses[rotation.current])
                    time.sleep(backoff)
                    backoff = min(5.0, backoff * 2)
        finally:
            self._connected.clear()
            self._finish()

    def stop(self) -> None:
        """Stops taking tasks; running ones get `grace_seconds` to finish, then are given back."""
        self._stopping.set()
        if self._channel is not None:
            self._channel.close()

    def _session(self, address: str) -> None:
        old = self._channel
        self._channel = _target.open_channel(self._target, address)
        self._stub = wrpc.WorkerServiceStub(self._channel)
        self._address = address
        if old is not None:
            # A report still in flight on the old channel fails and is made again on this one (_outcome).
            old.close()
        md = _target.metadata(self._target) + [("x-dspy-agent-host", socket.gethostname())]
        reply = self._stub.RegisterWorker(wpb.RegisterWorkerRequest(
            name=self.name, task_types=list(self._functions), slots=self.slots, labels=self.labels,
            worker_id=self.worker_id, client_version="dspy-agent-client/0.1.0 python"), timeout=10, metadata=md)
        self.worker_id = reply.worker_id
        self._connected.set()
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
        ids = dict(worker_id=self.worker_id, task_id=assignment.task_id, lease_id=assignment.lease_id)
        error = future.exception()
        try:
            if error is None:
                try:
                    result_json = json.dumps(future.result())
                except (TypeError, ValueError) as bad:
                    self._outcome("FailWorkerTask", wpb.FailWorkerTaskRequest(
                        **ids, error=f"the result is not JSON-serialisable: {bad}", error_type="TypeError",
                        retryable=False))
                    return
                self._outcome("CompleteWorkerTask", wpb.CompleteWorkerTaskRequest(**ids, result_json=result_json))
            else:
                self._outcome("FailWorkerTask", wpb.FailWorkerTaskRequest(
                    **ids, error=str(error), error_type=type(error).__name__, retryable=True))
        finally:
            # Only now: until the outcome is reported, heartbeats keep renewing the lease.
            with self._lock:
                self._running.pop(assignment.lease_id, None)

    def _outcome(self, method: str, request: Any) -> None:
        """Reports a task's outcome to the daemon connected now, waiting for one across reconnects (bounded).

        Never raises: a refusal (the lease was requeued meanwhile) or a daemon that never comes back is logged.
        """
        started = time.monotonic()
        while True:
            stub, address = self._stub, self._address
            try:
                answer = getattr(stub, method)(request, timeout=10, metadata=_target.metadata(self._target))
            except (grpc.RpcError, ValueError) as error:
                # ValueError: grpcio's answer to a call on a channel a reconnect has just closed.
                gone = isinstance(error, ValueError) or _failover.daemon_gone(error)
                patience = 5.0 if self._stopping.is_set() else REPORT_PATIENCE_SECONDS
                if not gone or time.monotonic() - started >= patience:
                    log.warning("worker %s: could not report task %s to %s: %s", self.name, request.task_id,
                                address, error)
                    return
                # Until the run loop has registered with a daemon again (on a new channel), then try there.
                self._connected.wait(0.2)
                if self._stub is stub:
                    time.sleep(0.2)
                continue
            if not answer.accepted:
                log.warning("worker %s: the daemon at %s did not record task %s: %s", self.name, address,
                            request.task_id, answer.reason)
            return

    def _rpc(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=10, metadata=_target.metadata(self._target))
        except (grpc.RpcError, ValueError):
            # ValueError: the channel was closed by a reconnect to another daemon; the next beat uses the new one.
            return None

    def _finish(self) -> None:
        # Graceful stop: running tasks get the grace period, then whatever still runs is given back.
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.05)
        channel = _target.open_channel(self._target, self._address or None)
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
