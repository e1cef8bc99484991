/**
 * What the transport costs: the same Python grpcio SubmitTask load (1 and 4
 * processes, noop tasks, the real orchestrator with its durable store) served
 * two ways in one process — through Connect on node:http2 as the daemon
 * does, and through a minimal hand-written gRPC unary path on the same
 * node:http2 server (one HEADERS, one DATA, trailers). The difference is the
 * share of the target gap that a faster unary path would close.
 *
 *   deno run -P=test bench/tasks/probe_transport.ts [--submits 4000]
 *
 * A measurement aid, not a server: no error mapping, no auth, SubmitTask only.
 *
 * @module
 */

import * as http2 from "node:http2";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import {
  OrchestratorService,
  SubmitTaskRequestSchema,
  SubmitTaskResponseSchema,
} from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { openOrchestrator, type Orchestrator } from "../../src/orchestrator/mod.ts";
import { freePort } from "../../tests/support/daemon.ts";
import { pythonEnv, runParallel } from "./processes.ts";

const { values } = parseArgs({ options: { submits: { type: "string", default: "4000" } } });
const submits = Number(values.submits);

async function submit(orchestrator: Orchestrator, bytes: Uint8Array): Promise<Uint8Array> {
  const request = fromBinary(SubmitTaskRequestSchema, bytes);
  const { task } = orchestrator.tasks.submit({ id: request.id, class: request.class, payload: request.payload });
  await orchestrator.flushed();
  return toBinary(SubmitTaskResponseSchema, create(SubmitTaskResponseSchema, { success: true, taskId: task.id }));
}

/** A gRPC unary SubmitTask on a bare node:http2 stream: read the frame, answer in one write plus trailers. */
function rawHandler(orchestrator: Orchestrator) {
  return (stream: http2.ServerHttp2Stream) => {
    const chunks: Uint8Array[] = [];
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("end", async () => {
      const body = Buffer.concat(chunks);
      const reply = await submit(orchestrator, body.subarray(5));
      const frame = new Uint8Array(5 + reply.length);
      new DataView(frame.buffer).setUint32(1, reply.length);
      frame.set(reply, 5);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    });
  };
}

async function measure(name: string, serve: (orchestrator: Orchestrator, port: number) => http2.Http2Server) {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-probe-" });
  const orchestrator = await openOrchestrator({
    stateDir: home,
    registry: new Registry(),
    hardware: { cpuCores: navigator.hardwareConcurrency, gpus: 0 },
    slurm: false,
  });
  const port = await freePort();
  const server = serve(orchestrator, port);
  const env = await pythonEnv("redis://unused");
  const args = (count: number) => (startAt: number) => [
    "grpc_client.py",
    `127.0.0.1:${port}`,
    "submit",
    String(count),
    String(startAt),
  ];
  const one = await runParallel(1, args(submits), env);
  const four = await runParallel(4, args(submits / 4), env);
  console.log(
    `${name.padEnd(44)}${one.perSecond.toFixed(0).padStart(8)}${four.perSecond.toFixed(0).padStart(8)}` +
      `${four.p50.toFixed(2).padStart(10)}${four.p99.toFixed(2).padStart(10)}`,
  );
  await new Promise((resolve) => server.close(resolve));
  await orchestrator[Symbol.asyncDispose]();
  await Deno.remove(home, { recursive: true });
}

console.log(
  `${"SubmitTask served by".padEnd(44)}${"1 proc".padStart(8)}${"4 procs".padStart(8)}${"p50 ms".padStart(10)}${
    "p99 ms".padStart(10)
  }`,
);
const viaConnect = (orchestrator: Orchestrator, port: number) => {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(OrchestratorService, {
        async submitTask(request) {
          const { task } = orchestrator.tasks.submit({
            id: request.id,
            class: request.class,
            payload: request.payload,
          });
          await orchestrator.flushed();
          return { success: true, taskId: task.id };
        },
      }),
  });
  return http2.createServer(handler).listen(port, "127.0.0.1");
};
const viaRawPath = (orchestrator: Orchestrator, port: number) => {
  const server = http2.createServer();
  server.on("stream", rawHandler(orchestrator));
  return server.listen(port, "127.0.0.1");
};
// Alternated, so neither side gains from running second (warm JIT, page cache).
await measure("Connect on node:http2 (as the daemon)", viaConnect);
await measure("hand-written unary path on node:http2", viaRawPath);
await measure("Connect on node:http2 (again)", viaConnect);
await measure("hand-written unary path (again)", viaRawPath);
