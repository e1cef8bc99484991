"""Shared helpers of the bench scripts: percentiles and the start barrier."""
import json
import os
import sys
import threading
import time


def percentile(values, fraction):
    """Nearest-rank percentile of a list of numbers (fraction in 0..1)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def wait_until(start_at):
    """Sleeps until the wall-clock time start_at, so every client process starts together."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def emit(**fields):
    """Prints one JSON line: the figures the Deno driver reads."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def timed_calls(count, call):
    """Makes `count` calls of `call(i)` from BENCH_IN_FLIGHT threads (default 1: one call at a time); returns the
    latencies in milliseconds, started and ended (unix seconds). gRPC and Redis clients release the GIL while they
    wait, so the threads keep that many calls in flight from one process."""
    threads = max(1, int(os.environ.get("BENCH_IN_FLIGHT", "1")))
    latencies = []
    counter = iter(range(count))
    lock = threading.Lock()

    def run():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            call(i)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)

    started = time.time()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, started, time.time()
