"""Python client of the dspy-agent daemon.

    from dspy_agent_client import Client
    client = Client()                      # ORCHESTRATOR_GRPC_ADDR, else 127.0.0.1:50052
    task_id = client.submit("echo", {"x": 1})
    print(client.wait(task_id, timeout=30))

Several daemons on one PostgreSQL store, with failover from one to the next (Client, AsyncClient and Worker alike):

    client = Client("host1:50052,host2:50052,host3:50052")
"""
import os as _os

# grpcio keeps process-wide state (pollers, threads) that a forked child inherits; with fork support on and the poll
# strategy, a child can open channels of its own (grpcio's documented setting). Effective only when this package is
# imported before grpc itself; set the two variables yourself otherwise.
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "true")
_os.environ.setdefault("GRPC_POLL_STRATEGY", "poll")

from .aio import AsyncClient  # noqa: E402
from .client import Client, ensure_daemon  # noqa: E402
from .worker import TaskContext, Worker  # noqa: E402
from .errors import DaemonUnavailable, DspyAgentError, InvalidArgument, TaskFailed, TaskNotFound, TimedOut

__all__ = [
    "AsyncClient",
    "Client",
    "DaemonUnavailable",
    "DspyAgentError",
    "InvalidArgument",
    "TaskFailed",
    "TaskNotFound",
    "TimedOut",
    "TaskContext",
    "Worker",
    "ensure_daemon",
]
__version__ = "0.1.0"
