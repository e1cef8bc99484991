"""The Celery side of bench/tasks: one noop task, Redis as broker and result backend.

The Redis URL comes from BENCH_REDIS_URL (the bench starts its own redis-server on a free loopback port).
"""
import os

from celery import Celery

_url = os.environ["BENCH_REDIS_URL"]
app = Celery("bench_tasks", broker=f"{_url}/0", backend=f"{_url}/1")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop(**payload):
    """Returns its payload, like the orchestrator's built-in noop/echo tasks."""
    return payload
