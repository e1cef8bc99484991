"""Exceptions that name what happened, mapped from the daemon's gRPC status codes."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import grpc

# Where the daemon puts an error's machine-readable reason: a google.rpc.Status in this trailer, with a
# google.rpc.ErrorInfo of this domain among its details (docs/architecture.md, "Several daemons on one PostgreSQL").
ERROR_DOMAIN = "dspy-agent"
_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


class DspyAgentError(Exception):
    """Any failure of a call to the daemon; `code` is the gRPC status, `reason` the daemon's error class when it sent
    one (for example `StoreUnavailableError`)."""

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


def _varint(data: bytes, i: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes) -> Iterator[Tuple[int, object]]:
    # The protobuf wire format (protobuf.dev/programming-guides/encoding): enough of it to read google.rpc.Status,
    # whose Python classes (googleapis-common-protos) are not among the package's dependencies.
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        kind = key & 7
        if kind == 0:
            value, i = _varint(data, i)
        elif kind == 2:
            length, i = _varint(data, i)
            value, i = data[i : i + length], i + length
        elif kind in (1, 5):
            size = 8 if kind == 1 else 4
            value, i = data[i : i + size], i + size
        else:
            raise ValueError(f"wire type {kind}")
        yield key >> 3, value


def error_reason(error: grpc.RpcError) -> Optional[str]:
    """The dspy-agent ErrorInfo reason the daemon attached to a failed call, or None when there is none."""
    try:
        trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
        for key, value in trailers or ():
            if key != _DETAILS_KEY or not isinstance(value, bytes):
                continue
            for number, detail in _fields(value):
                if number != 3 or not isinstance(detail, bytes):
                    continue
                parts = dict(_fields(detail))
                if parts.get(1) != _ERROR_INFO.encode() or not isinstance(parts.get(2), bytes):
                    continue
                info = dict(_fields(parts[2]))
                if info.get(2) == ERROR_DOMAIN.encode() and isinstance(info.get(1), bytes):
                    return info[1].decode("utf-8", "replace")
    except (ValueError, IndexError, TypeError):
        return None
    return None


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
    return cls(f"{details} ({code.name if code else 'no status'})", code, error_reason(error))
