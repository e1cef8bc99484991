"""Exceptions that name what happened, mapped from the daemon's gRPC status codes."""
from __future__ import annotations

import grpc


class DspyAgentError(Exception):
    """Any failure of a call to the daemon."""

    def __init__(self, message: str, code: "grpc.StatusCode | None" = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class DaemonUnavailable(DspyAgentError):
    """No daemon answers at the address (or it is stopping): start it with `dspy-agent start` or `ensure_daemon()`."""


class InvalidArgument(DspyAgentError):
    """The daemon refused the request; the message names the field and the limit."""


class TaskNotFound(DspyAgentError):
    """No task (or workflow, run, service) has that id."""


class TimedOut(DspyAgentError):
    """The wait or the call ran past its deadline."""


class TaskFailed(DspyAgentError):
    """The task ended without completing (failed, cancelled or timed out); `task` holds its record."""

    def __init__(self, message: str, task: dict) -> None:
        super().__init__(message)
        self.task = task


_BY_CODE = {
    grpc.StatusCode.UNAVAILABLE: DaemonUnavailable,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: TaskNotFound,
    grpc.StatusCode.DEADLINE_EXCEEDED: TimedOut,
}


def from_rpc_error(error: grpc.RpcError) -> DspyAgentError:
    """The exception for a failed call, keeping its code and message."""
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    cls = _BY_CODE.get(code, DspyAgentError)
    return cls(f"{details} ({code.name if code else 'no status'})", code)
