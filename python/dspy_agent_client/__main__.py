"""`python -m dspy_agent_client worker MODULE:ATTR`: runs the Worker that a module defines, without a `run()` call of
its own. Flags override what the module set (address, token, TLS, slots, name), so one module serves every machine:

    python -m dspy_agent_client worker my_tasks:worker --address daemon.lan:50052 --ca ca.pem --token-file token
    python -m dspy_agent_client worker my_tasks:worker --address host1:50052,host2:50052,host3:50052
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import List, Optional

from . import _target
from .worker import Worker


def _load(spec: str) -> Worker:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SystemExit(f"dspy_agent_client worker: {spec!r} is not MODULE:ATTR (for example my_tasks:worker)")
    # Like `python -m`, the current folder is importable.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SystemExit(f"dspy_agent_client worker: cannot import {module_name!r}: {error}") from error
    worker = getattr(module, attr, None)
    if not isinstance(worker, Worker):
        raise SystemExit(
            f"dspy_agent_client worker: {module_name}.{attr} is {type(worker).__name__}, not a Worker; "
            "define `worker = Worker(...)` there and decorate functions with @worker.task(\"name\")")
    return worker


def main(argv: Optional[List[str]] = None) -> int:
    """The command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m dspy_agent_client")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("worker", help="run the Worker defined at MODULE:ATTR until SIGTERM or SIGINT")
    run.add_argument("spec", metavar="MODULE:ATTR")
    run.add_argument("--address", help="the daemon's gRPC address, or several daemons on one store separated by commas "
                     "(the worker moves to the next when its daemon goes away; default: the Worker's, "
                     "ORCHESTRATOR_GRPC_ADDR)")
    run.add_argument("--token-file", type=Path, help="a file holding the daemon's token (off loopback)")
    run.add_argument("--ca", type=Path, help="the CA certificate that signed the daemon's; implies TLS")
    run.add_argument("--tls", action="store_true", help="connect with TLS, trusting the system's CAs")
    run.add_argument("--slots", type=int, help="tasks run at once")
    run.add_argument("--name", help="the name `dspy-agent workers` shows")
    args = parser.parse_args(argv)

    worker = _load(args.spec)
    if args.slots is not None:
        if args.slots < 1:
            parser.error("--slots must be at least 1")
        worker.slots = args.slots
    if args.name:
        worker.name = args.name
    if args.address or args.token_file or args.ca or args.tls:
        old = worker._target
        token = args.token_file.read_text().strip() if args.token_file else old.token
        ca = args.ca.read_bytes() if args.ca else old.root_certificates
        try:
            worker._target = _target.resolve(args.address or old.spec, token, args.tls or old.tls, ca)
        except ValueError as error:
            parser.error(str(error))
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
