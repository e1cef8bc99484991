"""The Celery side of bench/workers: the same two tasks, Redis as broker and result backend."""
import os
import time

from celery import Celery

_url = os.environ["BENCH_REDIS_URL"]
app = Celery("bench_workers", broker=f"{_url}/0", backend=f"{_url}/1")
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)


@app.task(name="bench.noop")
def noop(**payload):
    return payload


@app.task(name="bench.ten_ms")
def ten_ms(**payload):
    time.sleep(0.01)
    return payload
