"""Load client for bench/rpc: N calls in flight on one grpcio (asyncio) channel for a bounded
number of calls; prints one JSON line with calls/s and p50/p99 latency in milliseconds."""
import asyncio
import json
import sys
import time

import grpc
from orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator.v1 import orchestrator_pb2_grpc as pbg


async def main(target: str, kind: str, in_flight: int, total: int, task_id: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pbg.OrchestratorServiceStub(channel)
        await stub.Health(pb.HealthRequest())  # warm the connection

        async def one() -> float:
            t0 = time.perf_counter()
            if kind == "health":
                await stub.Health(pb.HealthRequest())
            else:  # open a stream, read its first message, cancel: what result-waiting clients do
                call = stub.StreamTaskResults(pb.StreamTaskResultsRequest(task_ids=[task_id], include_completed=True))
                msg = await call.read()
                assert msg.task_id == task_id, msg
                call.cancel()
            return (time.perf_counter() - t0) * 1000

        latencies = []
        remaining = total

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                latencies.append(await one())

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(json.dumps({"calls_per_s": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "calls": len(latencies)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else "t"))
