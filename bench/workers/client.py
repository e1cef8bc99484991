"""One submitting process of bench/workers: throughput of N tasks end to end, latency of sequential tasks, and a
batch of 10,000 (dspy-agent only). Prints one JSON line. argv: system (dspy|celery), address, n, latency_n."""
import json
import statistics
import sys
import time


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else 0.0


def dspy(address, n, latency_n):
    from dspy_agent_client import Client

    client = Client(address)
    out = {}
    for kind in ("bench_noop", "bench_10ms"):
        start = time.perf_counter()
        ids = []
        for i in range(0, n, 500):
            ids += client.submit_many([{"task_type": kind, "payload": {"i": j}} for j in range(i, min(n, i + 500))])
        pending = set(ids)
        for r in client.stream_results([]):
            if r["task_id"] in pending and r["state"] == "completed":
                pending.discard(r["task_id"])
                if not pending:
                    break
        out[f"{kind}_per_s"] = n / (time.perf_counter() - start)
    to_start, to_result = [], []
    for _ in range(latency_n):
        t0 = time.time()
        task_id = client.submit("bench_noop", {"x": 1})
        client.wait(task_id, timeout=30)
        to_result.append(time.time() - t0)
        task = client.get(task_id)
        to_start.append(max(0.0, task["started_at_ms"] / 1000 - t0))
    out.update(start_p50=pct(to_start, 0.5), start_p99=pct(to_start, 0.99),
               result_p50=pct(to_result, 0.5), result_p99=pct(to_result, 0.99))
    # Accepted, not run: 10,000 queued tasks (a built-in 1 ms sleep, which waits for its class's slots). A batch of
    # noop tasks also runs them inside the accepting commit, which is another measurement.
    t0 = time.perf_counter()
    client.submit_many([{"task_type": "sleep", "payload": {"i": i, "sleep_ms": 1}} for i in range(10_000)])
    out["batch_10k_s"] = time.perf_counter() - t0
    return out


def celery(n, latency_n):
    from celery_app import noop, ten_ms

    out = {}
    for name, task in (("bench_noop", noop), ("bench_10ms", ten_ms)):
        start = time.perf_counter()
        results = [task.delay(i=i) for i in range(n)]
        for r in results:
            r.get(timeout=120)
        out[f"{name}_per_s"] = n / (time.perf_counter() - start)
    to_result = []
    for _ in range(latency_n):
        t0 = time.time()
        noop.delay(x=1).get(timeout=30)
        to_result.append(time.time() - t0)
    out.update(start_p50=0.0, start_p99=0.0, result_p50=pct(to_result, 0.5), result_p99=pct(to_result, 0.99))
    return out


def noop_only(system, address, n):
    """The noop throughput phase alone, with this process's own CPU time: the bench samples the other sides."""
    cpu0, t0 = time.process_time(), time.perf_counter()
    if system == "dspy":
        from dspy_agent_client import Client

        client = Client(address)
        ids = []
        for i in range(0, n, 500):
            ids += client.submit_many([{"task_type": "bench_noop", "payload": {"i": j}} for j in range(i, min(n, i + 500))])
        pending = set(ids)
        for r in client.stream_results([]):
            if r["task_id"] in pending and r["state"] == "completed":
                pending.discard(r["task_id"])
                if not pending:
                    break
    else:
        from celery_app import noop

        for r in [noop.delay(i=i) for i in range(n)]:
            r.get(timeout=120)
    return {"per_s": n / (time.perf_counter() - t0), "cpu_ms": (time.process_time() - cpu0) * 1000}


if __name__ == "__main__":
    system, address, n, latency_n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if system.endswith("-noop"):
        result = noop_only(system[: -len("-noop")], address, n)
    elif system == "dspy":
        result = dspy(address, n, latency_n)
    else:
        result = celery(n, latency_n)
    print(json.dumps(result))
