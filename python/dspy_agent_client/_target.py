"""Where the daemon is and how to reach it: address, token and TLS, resolved as the existing clients do."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import grpc

DEFAULT_ADDRESS = "127.0.0.1:50052"


@dataclass(frozen=True)
class Target:
    """A resolved daemon address with its credentials."""

    address: str
    token: Optional[str]
    root_certificates: Optional[bytes]
    tls: bool


def home_dir() -> Path:
    """The daemon's state folder: DSPY_AGENT_HOME, else ~/.dspy-agent."""
    return Path(os.environ.get("DSPY_AGENT_HOME") or Path.home() / ".dspy-agent")


def _is_loopback(address: str) -> bool:
    host = address[1 : address.index("]")] if address.startswith("[") else address.rsplit(":", 1)[0]
    return host in ("localhost", "::1") or host.startswith("127.")


def resolve(
    address: Optional[str] = None,
    token: Optional[str] = None,
    tls: Optional[bool] = None,
    root_certificates: Optional[bytes] = None,
) -> Target:
    """Arguments first, then ORCHESTRATOR_GRPC_ADDR and the home's token file, then the default address.

    ":50052" (the Go form) means 127.0.0.1:50052. The token is sent only off loopback, where the daemon asks for it.
    """
    addr = address or os.environ.get("ORCHESTRATOR_GRPC_ADDR") or DEFAULT_ADDRESS
    if addr.startswith(":"):
        addr = "127.0.0.1" + addr
    if token is None and not _is_loopback(addr):
        token = os.environ.get("DSPY_AGENT_TOKEN")
        if token is None:
            try:
                token = (home_dir() / "auth.token").read_text().strip() or None
            except OSError:
                token = None
    use_tls = bool(tls) or root_certificates is not None
    return Target(addr, token, root_certificates, use_tls)


def open_channel(target: Target) -> grpc.Channel:
    """A grpcio channel to the target (TLS when asked)."""
    if target.tls:
        return grpc.secure_channel(target.address, grpc.ssl_channel_credentials(root_certificates=target.root_certificates))
    return grpc.insecure_channel(target.address)


def open_aio_channel(target: Target) -> "grpc.aio.Channel":
    """An asyncio grpcio channel to the target (TLS when asked)."""
    if target.tls:
        creds = grpc.ssl_channel_credentials(root_certificates=target.root_certificates)
        return grpc.aio.secure_channel(target.address, creds)
    return grpc.aio.insecure_channel(target.address)


def metadata(target: Target) -> list:
    """The call metadata: the bearer token when there is one."""
    return [("authorization", f"Bearer {target.token}")] if target.token else []
