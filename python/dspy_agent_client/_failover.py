"""Failover over several daemons on one store: which daemon is in use, which errors mean that daemon is gone, and
the error once every one was tried.

How a gone daemon is told from one that answered UNAVAILABLE itself: the daemon attaches a `google.rpc.ErrorInfo`
(domain `dspy-agent`, reason = the domain error's class name) to every error it maps (docs/architecture.md, "Several
daemons on one PostgreSQL").
An UNAVAILABLE that carries the reason `StoreUnavailableError` or `DockerUnavailableError` was answered by a running
daemon about what it depends on: every daemon of the list shares that store (and another daemon manages another
host's Docker engine), so trying another would not help and the error is raised as it is. Any other UNAVAILABLE (the
connection refused or reset, the daemon stopping, no status from a server at all) means the daemon in use is gone.
"""
from __future__ import annotations

import threading
import uuid
from typing import List, Sequence

import grpc

from .errors import DaemonUnavailable, error_reason, from_rpc_error

# The daemon's own reasons for UNAVAILABLE about its dependencies (src/api/errors.ts maps them).
DEPENDENCY_REASONS = frozenset({"StoreUnavailableError", "DockerUnavailableError"})


def new_task_id() -> str:
    """A task id of the daemon's own form (`task-` and a random UUID), made by the client so a retry is idempotent."""
    return f"task-{uuid.uuid4()}"


def daemon_gone(error: grpc.RpcError) -> bool:
    """True when the call failed because the daemon in use cannot be reached (not because it answered so)."""
    code = error.code() if hasattr(error, "code") else None
    return code == grpc.StatusCode.UNAVAILABLE and error_reason(error) not in DEPENDENCY_REASONS


class Rotation:
    """The daemons of one store in the order to try, and the one in use; shared by the threads of one client."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(addresses)
        self._current = 0
        self._lock = threading.Lock()

    @property
    def several(self) -> bool:
        """True when there is another daemon to fail over to."""
        return len(self.addresses) > 1

    @property
    def current(self) -> int:
        """The index of the daemon in use."""
        return self._current

    def order(self) -> List[int]:
        """Every daemon once, starting with the one in use."""
        start = self._current
        return [(start + k) % len(self.addresses) for k in range(len(self.addresses))]

    def moved_from(self, index: int) -> None:
        """The daemon at `index` is gone: the next one is in use, unless another thread moved on already."""
        with self._lock:
            if self._current == index:
                self._current = (index + 1) % len(self.addresses)


def everywhere_unavailable(tried: Sequence[str], last: grpc.RpcError) -> DaemonUnavailable:
    """The error once every daemon of the list was tried for one call."""
    cause = from_rpc_error(last)
    return DaemonUnavailable(
        f"Cannot reach any daemon of {', '.join(tried)}: {cause}; start one (`dspy-agent serve` on the store's "
        "host) or fix the address list (ORCHESTRATOR_GRPC_ADDR or the address argument)",
        cause.code,
        cause.reason,
    )


def not_retried(address: str, following: str, last: grpc.RpcError) -> DaemonUnavailable:
    """The error when the daemon went away under a call that is not safe to repeat elsewhere."""
    cause = from_rpc_error(last)
    return DaemonUnavailable(
        f"The daemon at {address} went away during the call: {cause}; the call is not repeated on another daemon "
        f"because it may have taken effect (check, then call again: the next call goes to {following})",
        cause.code,
        cause.reason,
    )
