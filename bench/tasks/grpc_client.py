"""dspy-agent client of bench/tasks, written like the existing Python clients (docs/compatibility.md §2).

  grpc_client.py ADDR submit COUNT START_AT   -> one process calling SubmitTask COUNT times (noop tasks)
  grpc_client.py ADDR health COUNT START_AT   -> one process calling Health COUNT times (the transport floor)
  grpc_client.py ADDR queue COUNT START_AT    -> as submit, into class gpu (waits on a host without GPUs): submits
                                                 alone, nothing run meanwhile
  grpc_client.py ADDR roundtrip COUNT         -> COUNT sequential noop tasks: SubmitTask, then wait for
                                                 status "completed" on one long-lived StreamTaskResults
BENCH_IN_FLIGHT=N: N calls in flight per process (threads) in submit, health and queue modes; default 1.
Prints one JSON line with latencies in milliseconds.
"""
import os
import sys
import threading
import time
import uuid

import grpc
from orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator.v1 import orchestrator_pb2_grpc as rpc

from _stats import emit, percentile, timed_calls, wait_until


def submit_request(prefix, i, task_class=""):
    # Clients call str() on every payload value (docs/compatibility.md §2.4).
    payload = {"task_type": str("noop"), "i": str(i)}
    return pb.SubmitTaskRequest(id=f"{prefix}-{i}", payload=payload, priority=0, **{"class": task_class})


def main():
    addr, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    channel = grpc.insecure_channel(addr)
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = rpc.OrchestratorServiceStub(channel)
    prefix = f"bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    warm = stub.SubmitTask(submit_request(prefix + "-warm", 0))
    assert warm.success, warm.error
    if mode in ("submit", "health", "queue"):
        wait_until(float(sys.argv[4]))

        def call(i):
            if mode == "health":
                stub.Health(pb.HealthRequest())
                return
            # "queue": into class gpu, which waits on a host without GPUs, so submits are measured alone, as
            # Celery's delay() is with no worker running (bench/scale).
            response = stub.SubmitTask(submit_request(prefix, i, "gpu" if mode == "queue" else ""))
            if not response.success:
                raise SystemExit(f"SubmitTask failed: {response.error}")

        latencies, started, ended = timed_calls(count, call)
        emit(count=count, started=started, ended=ended, p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99))
    elif mode == "roundtrip":
        roundtrip(stub, prefix, count)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


def roundtrip(stub, prefix, count):
    done = {}
    arrived = threading.Condition()
    stream = stub.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[], include_completed=False))

    def read():
        try:
            for result in stream:
                if result.status in ("completed", "failed"):
                    with arrived:
                        done[result.task_id] = (time.perf_counter(), result.status, result.error)
                        arrived.notify_all()
        except grpc.RpcError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.2)  # let the stream's initial snapshot pass
    latencies = []
    for i in range(count + 5):
        task_id = f"{prefix}-rt-{i}"
        t0 = time.perf_counter()
        response = stub.SubmitTask(pb.SubmitTaskRequest(id=task_id, payload={"task_type": "noop"}))
        if not response.success:
            raise SystemExit(f"SubmitTask failed: {response.error}")
        with arrived:
            if not arrived.wait_for(lambda: task_id in done, timeout=30):
                raise SystemExit(f"task {task_id} did not complete within 30 s")
        finished_at, status, error = done[task_id]
        if status != "completed":
            raise SystemExit(f"task {task_id} {status}: {error}")
        if i >= 5:  # the first five warm the path
            latencies.append((finished_at - t0) * 1000)
    stream.cancel()
    emit(count=count, p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99))


main()
