"""The references for bench/rpc: minimal Python grpcio servers doing the same work as the daemon
for the measured RPCs -- Health with a component map, and StreamTaskResults that sends one stored
result and then waits until the client cancels. Two flavours, both printed by the bench:
`sync` is the canonical grpcio server (a thread pool, as in grpc.io's Python quick start);
`aio` is grpcio's asyncio server."""
import asyncio
import os
import sys
import threading
import time
from concurrent import futures

import grpc
from orchestrator.v1 import orchestrator_pb2 as pb
from orchestrator.v1 import orchestrator_pb2_grpc as pbg

STARTED = time.time()


class Reference(pbg.OrchestratorServiceServicer):
    async def Health(self, request, context):
        return pb.HealthResponse(
            healthy=True,
            version="reference",
            services={"grpc": "ready", "http": "ready", "store": "ready", "docker": "ready"},
            pid=os.getpid(),
            uptime_seconds=time.time() - STARTED,
        )

    async def StreamTaskResults(self, request, context):
        for task_id in request.task_ids:
            yield pb.TaskResult(task_id=task_id, status="completed", result={"class": "cpu_short"}, completed_at=int(time.time()))
        await asyncio.Event().wait()  # until cancelled, like a live stream


class SyncReference(pbg.OrchestratorServiceServicer):
    def Health(self, request, context):
        return pb.HealthResponse(
            healthy=True,
            version="reference",
            services={"grpc": "ready", "http": "ready", "store": "ready", "docker": "ready"},
            pid=os.getpid(),
            uptime_seconds=time.time() - STARTED,
        )

    def StreamTaskResults(self, request, context):
        for task_id in request.task_ids:
            yield pb.TaskResult(task_id=task_id, status="completed", result={"class": "cpu_short"}, completed_at=int(time.time()))
        done = threading.Event()
        context.add_callback(done.set)
        done.wait()  # until cancelled, like a live stream


def main_sync(port: int) -> None:
    # Enough workers for 64 calls in flight, streams included.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=80))
    pbg.add_OrchestratorServiceServicer_to_server(SyncReference(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


async def main(port: int) -> None:
    server = grpc.aio.server()
    pbg.add_OrchestratorServiceServicer_to_server(Reference(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "sync":
        main_sync(int(sys.argv[1]))
    else:
        asyncio.run(main(int(sys.argv[1])))
