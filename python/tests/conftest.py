"""A real daemon for the tests: `dspy-agent serve` from the repository's source, in a temp state folder, on free
ports, under the production permission set; stopped at the end of the session."""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _deno() -> str:
    return os.environ.get("DENO") or str(REPO / ".tools/node_modules/.bin/deno")


class Daemon:
    """A running daemon subprocess."""

    def __init__(self, config: str = "", grpc_host: str = "127.0.0.1") -> None:
        self.home = tempfile.mkdtemp(prefix="dspy-agent-pytest-")
        Path(self.home, "config.toml").write_text("[services]\nredis = false\n" + config)
        port = _free_port()
        self.listen_addr = f"{grpc_host}:{port}"
        # Where clients connect: a daemon listening on every interface is reached through loopback.
        self.grpc_addr = f"127.0.0.1:{port}"
        self.http_addr = f"127.0.0.1:{_free_port()}"
        self.process: subprocess.Popen | None = None
        self.client_options: dict = {}

    def start(self) -> None:
        env = dict(os.environ, DSPY_AGENT_HOME=self.home, ORCHESTRATOR_GRPC_ADDR=self.listen_addr,
                   ORCHESTRATOR_HTTP_ADDR=self.http_addr)
        self.process = subprocess.Popen(
            [_deno(), "run", "-q", "--no-prompt", "-P=dspy-agent", "--config", str(REPO / "deno.json"),
             str(REPO / "src/main.ts"), "serve"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(Path(self.home, "serve.log"), "w"))
        from dspy_agent_client import Client

        client = Client(self.grpc_addr, **self.client_options)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if client.health()["healthy"]:
                    client.close()
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError(f"the daemon did not start: {Path(self.home, 'serve.log').read_text()[-2000:]}")

    def stop(self, sig: int = 15) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)


@pytest.fixture(scope="session")
def daemon():
    d = Daemon()
    d.start()
    yield d
    d.stop()


@pytest.fixture()
def client(daemon):
    from dspy_agent_client import Client

    c = Client(daemon.grpc_addr)
    yield c
    c.close()
