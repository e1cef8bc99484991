"""The client against a real daemon: every call, batches, waits, streams, errors, asyncio, fork safety."""
from __future__ import annotations

import asyncio
import multiprocessing
import os

import pytest

from dspy_agent_client import (AsyncClient, Client, DaemonUnavailable, InvalidArgument, TaskFailed, TaskNotFound,
                               TimedOut)


def test_health(client):
    health = client.health()
    assert health["healthy"] is True
    assert health["version"]


def test_submit_get_wait(client):
    task_id = client.submit("echo", {"x": 1, "nested": {"a": [1, 2]}, "text": "hi"}, labels={"suite": "py"})
    out = client.wait(task_id, timeout=30)
    assert out["x"] == 1 and out["nested"] == {"a": [1, 2]} and out["text"] == "hi"
    task = client.get(task_id)
    assert task["state"] == "completed" and task["labels"] == {"suite": "py"} and task["attempts"] == 1


def test_failure_and_errors(client):
    failing = client.submit("fail", {"message": "boom"})
    with pytest.raises(TaskFailed) as caught:
        client.wait(failing, timeout=30)
    assert "boom" in str(caught.value) and caught.value.task["state"] == "failed"
    with pytest.raises(TaskNotFound):
        client.get("no-such-task")
    with pytest.raises(InvalidArgument) as invalid:
        client.submit("noop", max_attempts=500)
    assert "max_attempts" in str(invalid.value)
    slow = client.submit("sleep", {"sleep_ms": 5000})
    with pytest.raises(TimedOut):
        client.wait(slow, timeout=0.3)
    assert client.cancel(slow, "test") is True
    with pytest.raises(TaskFailed):
        client.wait(slow, timeout=30)


def test_batch_submit_is_idempotent_per_id(client):
    tasks = [{"task_type": "noop", "id": f"batch-py-{i}"} for i in range(500)]
    ids = client.submit_many(tasks)
    assert ids == [t["id"] for t in tasks]
    assert client.submit_many(tasks[:10]) == ids[:10]  # the same ids give the same tasks
    for task_id in ids[:5]:
        client.wait(task_id, timeout=30)
        assert client.get(task_id)["state"] == "completed"


def test_list_and_stream(client):
    task_id = client.submit("noop", labels={"list": "me"})
    client.wait(task_id, timeout=30)
    listed = client.list(labels={"list": "me"})
    assert [t["id"] for t in listed] == [task_id]
    states = [r["state"] for r in client.stream_results([task_id])]
    assert states[-1] == "completed"
    events = client.events(types=["task_completed"])
    assert any(e["resource_id"] == task_id for _, e in zip(range(10_000), events))


def test_workflow(client):
    spec = {"steps": [{"id": "a", "payload": {"task_type": "echo", "v": 1}},
                      {"id": "b", "depends_on": ["a"], "payload": {"task_type": "echo", "prev": "${steps.a.output}"}}]}
    client.create_workflow("py-flow", spec)
    run = client.start_workflow("py-flow", idempotency_key="k1")
    assert client.start_workflow("py-flow", idempotency_key="k1") == run
    final = list(client.workflow_status(run))[-1]
    assert final["status"] == "succeeded" and final["steps_completed"] == 2


def test_services_status(client):
    services = client.services()
    assert "redis" in services and services["redis"]["status"] in ("stopped", "running", "failed", "starting")


def test_asyncio_client(daemon):
    async def main():
        async with AsyncClient(daemon.grpc_addr) as c:
            assert (await c.health())["healthy"]
            ids = await c.submit_many([{"task_type": "echo", "payload": {"n": i}} for i in range(20)])
            outs = await asyncio.gather(*(c.wait(i, timeout=30) for i in ids))
            assert [o["n"] for o in outs] == list(range(20))
            one = await c.submit("noop")
            await c.wait(one, timeout=30)
            assert (await c.get(one))["state"] == "completed"
    asyncio.run(main())


def _child(client: Client, queue) -> None:
    queue.put(client.wait(client.submit("echo", {"pid": os.getpid()}), timeout=30)["pid"])


def test_fork_safety(client):
    assert client.health()["healthy"]  # the parent's channel exists before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_child, args=(client, queue)) for _ in range(3)]
    for p in children:
        p.start()
    pids = sorted(queue.get(timeout=60) for _ in children)
    for p in children:
        p.join(30)
        assert p.exitcode == 0
    assert pids == sorted(p.pid for p in children)
    assert client.health()["healthy"]  # and the parent's still works


def test_unavailable_daemon():
    with pytest.raises(DaemonUnavailable):
        Client("127.0.0.1:9", timeout=2).health()
