"""Celery client of bench/tasks.

  celery_client.py delay COUNT START_AT   -> one process calling noop.delay() COUNT times (BENCH_IN_FLIGHT threads)
  celery_client.py roundtrip COUNT        -> COUNT sequential noop.delay().get() with a running worker
Prints one JSON line with latencies in milliseconds.
"""
import sys
import time

from _stats import emit, percentile, timed_calls, wait_until
from celery_app import noop


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    noop.delay(warmup=True)  # connect to the broker before the clock starts
    if mode == "delay":
        wait_until(float(sys.argv[3]))
        latencies, started, ended = timed_calls(count, lambda i: noop.delay(task_type="noop", i=i))
        emit(count=count, started=started, ended=ended, p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99))
    elif mode == "roundtrip":
        for _ in range(5):  # warm the path, as grpc_client.py does
            noop.delay(warmup=True).get(timeout=30)
        latencies = []
        for i in range(count):
            t0 = time.perf_counter()
            noop.delay(task_type="noop", i=i).get(timeout=30)
            latencies.append((time.perf_counter() - t0) * 1000)
        emit(count=count, p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


main()
