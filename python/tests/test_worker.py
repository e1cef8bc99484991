"""Workers against a real daemon: sync and async tasks, slots, a worker killed mid-task (another completes the task
exactly once), cancel reaching a running task, ListWorkers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dspy_agent_client import TaskFailed
from dspy_agent_client._gen.worker.v1 import worker_pb2 as wpb
from dspy_agent_client._gen.worker.v1 import worker_pb2_grpc as wrpc

WORKER = textwrap.dedent('''
    import asyncio, os, sys, threading, time
    from dspy_agent_client import Worker
    labels = dict(kv.split("=", 1) for kv in sys.argv[4].split(",") if kv) if len(sys.argv) > 4 else {}
    worker = Worker(name=sys.argv[2], slots=int(sys.argv[3]), address=sys.argv[1], grace_seconds=1, labels=labels)
    lock = threading.Lock()
    running = [0, 0]

    @worker.task("py_square")
    def square(payload, ctx):
        return {"value": payload["n"] ** 2, "pid": os.getpid()}

    @worker.task("py_async")
    async def later(payload):
        await asyncio.sleep(0.01)
        return {"echo": payload, "pid": os.getpid()}

    @worker.task("py_slow")
    def slow(payload, ctx):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        try:
            end = time.monotonic() + payload.get("seconds", 0.3)
            while time.monotonic() < end and not ctx.cancelled:
                time.sleep(0.02)
            return {"pid": os.getpid(), "max_running": running[1], "cancelled": ctx.cancelled}
        finally:
            with lock:
                running[0] -= 1

    print("ready", flush=True)
    worker.run()
''')


@pytest.fixture()
def spawn_worker(daemon, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = []

    def spawn(name: str, slots: int = 2, labels: str = "", address: str = "") -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, str(script), address or daemon.grpc_addr, name, str(slots), labels],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _workers(daemon):
    import grpc

    stub = wrpc.WorkerServiceStub(grpc.insecure_channel(daemon.grpc_addr))
    return stub.ListWorkers(wpb.ListWorkersRequest(), timeout=5).workers


def _wait_connected(daemon, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(w.name == name and w.state == "connected" for w in _workers(daemon)):
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {name} never connected")


def test_sync_and_async_tasks_and_slots(client, daemon, spawn_worker):
    spawn_worker("w-basic", slots=2)
    _wait_connected(daemon, "w-basic")
    ids = client.submit_many([{"task_type": "py_square", "payload": {"n": n}} for n in range(20)])
    assert [client.wait(i, timeout=30)["value"] for i in ids] == [n * n for n in range(20)]
    one = client.submit("py_async", {"hello": "world"})
    assert client.wait(one, timeout=30)["echo"] == {"hello": "world"}
    slow = client.submit_many([{"task_type": "py_slow", "payload": {"seconds": 0.3}} for _ in range(6)])
    assert max(client.wait(i, timeout=60)["max_running"] for i in slow) <= 2
    listed = [w for w in _workers(daemon) if w.name == "w-basic"][0]
    assert listed.slots == 2 and set(listed.task_types) == {"py_square", "py_async", "py_slow"}
    # The CLI and the metrics see it too.
    from conftest import REPO, _deno

    env = dict(os.environ, DSPY_AGENT_HOME=daemon.home, ORCHESTRATOR_GRPC_ADDR=daemon.grpc_addr,
               ORCHESTRATOR_HTTP_ADDR=daemon.http_addr)
    cli = subprocess.run([_deno(), "run", "-q", "--no-prompt", "-P=dspy-agent", "--config", str(REPO / "deno.json"),
                          str(REPO / "src/main.ts"), "workers", "--json"], env=env, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert any(w["name"] == "w-basic" and w["slots"] == 2 for w in json.loads(cli.stdout)["workers"])
    import urllib.request

    scrape = urllib.request.urlopen(f"http://{daemon.http_addr}/metrics", timeout=10).read().decode()
    assert 'dspy_agent_workers{state="connected"}' in scrape


def test_killed_worker_task_completes_once_on_another(client, daemon, spawn_worker):
    doomed = spawn_worker("w-doomed", slots=1)
    _wait_connected(daemon, "w-doomed")
    task_id = client.submit("py_slow", {"seconds": 3})
    deadline = time.monotonic() + 20
    while client.get(task_id)["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(10)
    spawn_worker("w-survivor", slots=1)
    out = client.wait(task_id, timeout=60)
    task = client.get(task_id)
    assert out["pid"] != doomed.pid
    # One attempt counted, one interruption: the lost lease cost the task nothing, and the survivor's result is the
    # one recorded (a late report of the dead worker's lease would be refused).
    assert task["state"] == "completed" and task["attempts"] == 1 and task["interruptions"] == 1


def test_cancel_reaches_the_running_worker(client, daemon, spawn_worker):
    spawn_worker("w-cancel", slots=1)
    _wait_connected(daemon, "w-cancel")
    task_id = client.submit("py_slow", {"seconds": 30})
    deadline = time.monotonic() + 20
    while client.get(task_id)["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    assert client.cancel(task_id, "enough")
    with pytest.raises(TaskFailed):
        client.wait(task_id, timeout=30)
    assert client.get(task_id)["state"] == "cancelled"
    # The worker stopped the function: its slot is free again well before the 30 s it would have run.
    nxt = client.submit("py_square", {"n": 3})
    assert client.wait(nxt, timeout=20)["value"] == 9
    assert time.monotonic() - started < 20


def test_required_labels_route_to_the_worker_that_has_them(client, daemon, spawn_worker):
    plain = spawn_worker("w-plain", slots=2)
    gpu = spawn_worker("w-gpu", slots=2, labels="gpu=1")
    _wait_connected(daemon, "w-plain")
    _wait_connected(daemon, "w-gpu")
    ids = client.submit_many([{"task_type": "py_square", "payload": {"n": i}, "worker_labels": {"gpu": "1"}}
                              for i in range(10)])
    assert {client.wait(i, timeout=30)["pid"] for i in ids} == {gpu.pid}
    assert plain.poll() is None


def test_a_daemon_restart_under_a_running_worker_loses_nothing(tmp_path, spawn_worker):
    from conftest import Daemon

    from dspy_agent_client import Client

    own = Daemon()
    own.start()
    try:
        spawn_worker("w-restart", slots=1, address=own.grpc_addr)
        _wait_connected(own, "w-restart")
        client = Client(own.grpc_addr)
        task_id = client.submit("py_slow", {"seconds": 2})
        deadline = time.monotonic() + 20
        while client.get(task_id)["state"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        own.stop()            # SIGTERM: the running attempt is an interruption, requeued unspent
        own.start()           # the same state folder and ports; the worker reconnects by itself
        client = Client(own.grpc_addr)
        out = client.wait(task_id, timeout=60)
        task = client.get(task_id)
        assert task["state"] == "completed" and task["attempts"] == 1 and task["interruptions"] == 1
        assert out["cancelled"] in (False, True)
    finally:
        own.stop()


def test_a_late_report_on_an_expired_lease_is_refused(spawn_worker):
    """A worker that goes silent (here a raw protocol client that stops heartbeating) loses its lease; the task runs
    on another worker; the silent worker's late completion is refused and the recorded result is the other's."""
    import grpc

    from conftest import Daemon

    from dspy_agent_client import Client

    own = Daemon(config="[tasks]\nworker_lease_seconds = 2\n")
    own.start()
    channel = grpc.insecure_channel(own.grpc_addr)
    try:
        stub = wrpc.WorkerServiceStub(channel)
        silent = stub.RegisterWorker(wpb.RegisterWorkerRequest(name="w-silent", task_types=["py_square"], slots=1),
                                     timeout=5).worker_id
        pushes = stub.ListenForTasks(wpb.ListenForTasksRequest(worker_id=silent))
        client = Client(own.grpc_addr)
        task_id = client.submit("py_square", {"n": 7})
        assignment = next(m.assignment for m in pushes if m.HasField("assignment"))
        assert assignment.task_id == task_id
        # No heartbeat: after the 2 s lease the task is requeued and a real worker takes it.
        spawn_worker("w-on-time", slots=1, address=own.grpc_addr)
        assert client.wait(task_id, timeout=60)["value"] == 49
        late = stub.CompleteWorkerTask(wpb.CompleteWorkerTaskRequest(
            worker_id=silent, task_id=task_id, lease_id=assignment.lease_id, result_json='{"value": -1}'), timeout=5)
        assert not late.accepted and "no longer current" in late.reason
        task = client.get(task_id)
        assert task["state"] == "completed" and task["attempts"] == 1 and task["interruptions"] == 1
        assert client.wait(task_id, timeout=5)["value"] == 49
        pushes.cancel()
    finally:
        channel.close()
        own.stop()


def test_a_thousand_tasks_over_four_worker_processes(client, daemon, spawn_worker):
    for i in range(4):
        spawn_worker(f"w-many-{i}", slots=4)
    for i in range(4):
        _wait_connected(daemon, f"w-many-{i}")
    ids = client.submit_many([{"task_type": "py_square", "payload": {"n": n}} for n in range(1000)])
    assert len(set(ids)) == 1000
    done = {}
    for result in client.stream_results(ids, timeout=120):
        if result["state"] in ("completed", "failed", "cancelled"):
            done[result["task_id"]] = result
        if len(done) == 1000:
            break
    assert len(done) == 1000 and all(r["state"] == "completed" for r in done.values())
    outputs = [client.wait(i, timeout=10) for i in ids]
    assert [o["value"] for o in outputs] == [n * n for n in range(1000)]
    # Spread over all four processes, each task recorded once.
    assert len({o["pid"] for o in outputs}) == 4
    assert all(client.get(i)["attempts"] == 1 for i in ids[:50])


def test_python_m_runs_the_worker_a_module_defines(client, daemon, tmp_path):
    (tmp_path / "my_tasks.py").write_text(textwrap.dedent('''
        from dspy_agent_client import Worker
        worker = Worker(slots=1, address="127.0.0.1:1")     # overridden by --address

        @worker.task("py_module_task")
        def shout(payload):
            return {"text": payload["text"].upper()}
    '''))
    proc = subprocess.Popen([sys.executable, "-m", "dspy_agent_client", "worker", "my_tasks:worker",
                             "--address", daemon.grpc_addr, "--name", "w-module", "--slots", "2"], cwd=tmp_path)
    try:
        _wait_connected(daemon, "w-module")
        assert [w["slots"] for w in client.workers() if w["name"] == "w-module"] == [2]
        task_id = client.submit("py_module_task", {"text": "hi"})
        assert client.wait(task_id, timeout=30) == {"text": "HI"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    bad = subprocess.run([sys.executable, "-m", "dspy_agent_client", "worker", "my_tasks:nothing"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "not a Worker" in bad.stderr
