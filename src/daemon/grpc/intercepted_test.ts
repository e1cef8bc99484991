import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { assertEquals } from "../../../tests/support/assert.ts";
import {
  HealthRequestSchema,
  HealthResponseSchema,
  OrchestratorService,
} from "../../gen/orchestrator/v1/orchestrator_pb.ts";
import { silentLogger } from "../../log/mod.ts";
import { serveHttp2 } from "../h2/mod.ts";
import { createStreamHandler } from "./dispatcher.ts";

Deno.test("the fast gRPC path runs the router's interceptors, like Connect's handlers", async () => {
  const seen: string[] = [];
  const counting: Interceptor = (next) => async (req) => {
    seen.push(`${req.method.name} ${req.header.get("x-test") ?? ""}`);
    const res = await next(req);
    if (!res.stream) res.trailer.set("x-intercepted", "yes");
    return res;
  };
  const routes = (router: ConnectRouter) =>
    router.service(OrchestratorService, { health: () => ({ healthy: true, version: "t" }) } as never);
  const handler = createStreamHandler({
    routes,
    readMaxBytes: 1024,
    shutdownSignal: new AbortController().signal,
    interceptors: [counting],
    logger: silentLogger,
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = serveHttp2(listener, { onStream: (stream) => handler(stream), onError: () => {} });
  using client = Deno.createHttpClient({ http1: false, http2: true });
  try {
    const message = toBinary(HealthRequestSchema, create(HealthRequestSchema, {}));
    const frame = new Uint8Array(5 + message.length);
    new DataView(frame.buffer).setUint32(1, message.length);
    frame.set(message, 5);
    // Plain binary gRPC: the fast path takes it (no grpc-timeout, no compression).
    const res = await fetch(`http://127.0.0.1:${listener.addr.port}/orchestrator.v1.OrchestratorService/Health`, {
      method: "POST",
      headers: { "content-type": "application/grpc", te: "trailers", "x-test": "fast" },
      body: frame,
      client,
    });
    const body = new Uint8Array(await res.arrayBuffer());
    assertEquals(fromBinary(HealthResponseSchema, body.subarray(5)).healthy, true);
    assertEquals(seen, ["Health fast"]);
  } finally {
    await server.close(100);
  }
});
