"""Where the daemons are and how to reach them: addresses, token and TLS, resolved as the existing clients do."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import grpc

DEFAULT_ADDRESS = "127.0.0.1:50052"

# More daemons than anyone runs on one store; a longer list is a mistake (or a pasted file), refused before any dial.
MAX_ADDRESSES = 64


@dataclass(frozen=True)
class Target:
    """Resolved daemon addresses (one, or several daemons on one store, in the order to try) with their credentials."""

    addresses: Tuple[str, ...]
    token: Optional[str]
    root_certificates: Optional[bytes]
    tls: bool

    @property
    def address(self) -> str:
        """The first address: the one a single-daemon client uses."""
        return self.addresses[0]

    @property
    def spec(self) -> str:
        """The addresses as one comma-separated string, as `resolve` takes them."""
        return ",".join(self.addresses)


def home_dir() -> Path:
    """The daemon's state folder: DSPY_AGENT_HOME, else ~/.dspy-agent."""
    return Path(os.environ.get("DSPY_AGENT_HOME") or Path.home() / ".dspy-agent")


def _is_loopback(address: str) -> bool:
    host = address[1 : address.index("]")] if address.startswith("[") else address.rsplit(":", 1)[0]
    return host in ("localhost", "::1") or host.startswith("127.")


def parse_addresses(spec: str) -> Tuple[str, ...]:
    """The daemons in `spec`: one `host:port`, or several separated by commas (spaces and repeats ignored).

    ":50052" (the Go form) means 127.0.0.1:50052.
    """
    out: list = []
    for part in spec.split(","):
        address = part.strip()
        if address.startswith(":"):
            address = "127.0.0.1" + address
        if address and address not in out:
            out.append(address)
    if not out:
        raise ValueError(f"Cannot use daemon address {spec!r}: it is empty; give host:port, or several separated by commas")
    if len(out) > MAX_ADDRESSES:
        raise ValueError(f"Cannot use daemon address list: {len(out)} addresses, at most {MAX_ADDRESSES}")
    return tuple(out)


def resolve(
    address: Optional[str] = None,
    token: Optional[str] = None,
    tls: Optional[bool] = None,
    root_certificates: Optional[bytes] = None,
) -> Target:
    """Arguments first, then ORCHESTRATOR_GRPC_ADDR and the home's token file, then the default address.

    The address may be a comma-separated list of daemons on one store (see `parse_addresses`). One token and one TLS
    setting serve the whole list: the token is looked up (DSPY_AGENT_TOKEN, else the home's auth.token) when any
    address is off loopback, where the daemon asks for it, and is then sent to every daemon of the list.
    """
    addrs = parse_addresses(address or os.environ.get("ORCHESTRATOR_GRPC_ADDR") or DEFAULT_ADDRESS)
    if token is None and not all(_is_loopback(a) for a in addrs):
        token = os.environ.get("DSPY_AGENT_TOKEN")
        if token is None:
            try:
                token = (home_dir() / "auth.token").read_text().strip() or None
            except OSError:
                token = None
    use_tls = bool(tls) or root_certificates is not None
    return Target(addrs, token, root_certificates, use_tls)


def open_channel(target: Target, address: Optional[str] = None) -> grpc.Channel:
    """A grpcio channel to one of the target's addresses (the first by default; TLS when asked)."""
    address = address or target.address
    if target.tls:
        return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=target.root_certificates))
    return grpc.insecure_channel(address)


def open_aio_channel(target: Target, address: Optional[str] = None) -> "grpc.aio.Channel":
    """An asyncio grpcio channel to one of the target's addresses (the first by default; TLS when asked)."""
    address = address or target.address
    if target.tls:
        creds = grpc.ssl_channel_credentials(root_certificates=target.root_certificates)
        return grpc.aio.secure_channel(address, creds)
    return grpc.aio.insecure_channel(address)


def metadata(target: Target) -> list:
    """The call metadata: the bearer token when there is one."""
    return [("authorization", f"Bearer {target.token}")] if target.token else []
