"""A dspy-agent worker process for bench/workers: a noop task and a 10 ms task."""
import sys
import time

from dspy_agent_client import Worker

worker = Worker(name=f"bench-{sys.argv[2]}", slots=1, address=sys.argv[1])


@worker.task("bench_noop")
def noop(payload):
    return payload


@worker.task("bench_10ms")
def ten_ms(payload):
    time.sleep(0.01)
    return payload


print("ready", flush=True)
worker.run()
