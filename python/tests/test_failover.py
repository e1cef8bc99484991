"""Failover over a list of daemons: address lists, which errors move on, which calls are repeated, against a real
daemon behind an address nothing listens on. (tests/python_failover_test.ts kills daemons on one PostgreSQL.)"""
from __future__ import annotations

import asyncio

import grpc
import pytest

from conftest import _free_port
from dspy_agent_client import AsyncClient, Client, DaemonUnavailable, TaskNotFound, _failover, _target
from dspy_agent_client._gen.orchestrator.v1 import orchestrator_pb2 as pb
from dspy_agent_client._gen.orchestrator.v1 import orchestrator_pb2_grpc as rpc


def test_an_address_list_is_parsed_in_order_without_repeats():
    assert _target.parse_addresses("a:1") == ("a:1",)
    assert _target.parse_addresses(" a:1, b:2,,a:1,:3 ") == ("a:1", "b:2", "127.0.0.1:3")
    with pytest.raises(ValueError, match="empty"):
        _target.parse_addresses(" , ")
    with pytest.raises(ValueError, match="at most 64"):
        _target.parse_addresses(",".join(f"h{i}:1" for i in range(65)))


def test_the_token_is_looked_up_when_any_address_of_the_list_is_off_loopback(monkeypatch):
    monkeypatch.setenv("DSPY_AGENT_TOKEN", "secret")
    assert _target.resolve("127.0.0.1:1,[::1]:2").token is None
    assert _target.resolve("127.0.0.1:1,daemon.lan:2").token == "secret"


def test_two_threads_losing_the_same_daemon_move_on_once():
    rotation = _failover.Rotation(["a", "b", "c"])
    rotation.moved_from(0)
    rotation.moved_from(0)
    assert rotation.addresses[rotation.current] == "b"
    assert rotation.order() == [1, 2, 0]


def test_the_daemon_attaches_its_error_reason(daemon):
    channel = grpc.insecure_channel(daemon.grpc_addr)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            rpc.OrchestratorServiceStub(channel).GetTaskStatus(pb.GetTaskStatusRequest(task_id="no-such-task"), timeout=10)
        assert _failover.error_reason(caught.value) == "TaskNotFoundError"
        assert not _failover.daemon_gone(caught.value)
    finally:
        channel.close()


def test_a_gone_daemon_is_skipped_and_submits_get_ids_of_the_daemons_form(daemon):
    dead = f"127.0.0.1:{_free_port()}"
    with Client(f"{dead},{daemon.grpc_addr}", timeout=10) as client:
        assert client.addresses == (dead, daemon.grpc_addr)
        task_id = client.submit("echo", {"x": 1})
        assert task_id.startswith("task-") and len(task_id) == len("task-") + 36
        assert client.address == daemon.grpc_addr
        assert client.wait(task_id, timeout=30) == {"x": 1, "task_type": "echo"}
        ids = client.submit_many([{"task_type": "noop"}, {"task_type": "noop", "id": "failover-given"}])
        assert ids[1] == "failover-given" and ids[0].startswith("task-")
        with pytest.raises(TaskNotFound) as caught:
            client.get("failover-missing")  # an answer of the daemon: raised, not repeated elsewhere
        assert caught.value.reason == "TaskNotFoundError"


def test_a_call_not_safe_to_repeat_raises_and_the_next_call_goes_to_the_next_daemon(daemon):
    dead = f"127.0.0.1:{_free_port()}"
    with Client(f"{dead},{daemon.grpc_addr}", timeout=10) as client:
        with pytest.raises(DaemonUnavailable, match="not repeated on another daemon"):
            client.create_workflow("failover-wf", {"steps": [{"id": "a", "payload": {"task_type": "noop"}}]})
        assert client.create_workflow("failover-wf", {"steps": [{"id": "a", "payload": {"task_type": "noop"}}]}) \
            == "failover-wf"


def test_every_daemon_gone_names_them_all():
    dead = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    with Client(",".join(dead), timeout=5) as client:
        with pytest.raises(DaemonUnavailable) as caught:
            client.health()
    assert all(address in str(caught.value) for address in dead)
    assert "dspy-agent serve" in str(caught.value)


def test_the_asyncio_client_fails_over_too(daemon):
    async def main():
        async with AsyncClient(f"127.0.0.1:{_free_port()},{daemon.grpc_addr}") as client:
            task_id = await client.submit("echo", {"y": 2})
            assert task_id.startswith("task-")
            assert client.address == daemon.grpc_addr
            return await client.wait(task_id, timeout=30)

    assert asyncio.run(main()) == {"y": 2, "task_type": "echo"}


def test_streams_open_on_the_next_daemon(daemon):
    with Client(f"127.0.0.1:{_free_port()},{daemon.grpc_addr}", timeout=10) as client:
        task_id = client.submit("noop")
        event = next(client.events(types=["task_submitted"]))
        assert event["type"] == "task_submitted" and event["sequence"] > 0
        assert client.address == daemon.grpc_addr
    with Client(f"127.0.0.1:{_free_port()},{daemon.grpc_addr}", timeout=10) as client:
        states = [r["state"] for r in client.stream_results([task_id], timeout=30)]
        assert states[-1] == "completed"
