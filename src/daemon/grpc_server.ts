import * as http2 from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { errorInterceptor } from "../api/mod.ts";
import type { Logger } from "../log/mod.ts";
import { authorized } from "./auth.ts";
import { bind, type ListeningServer } from "./listen.ts";
import { createStreamHandler } from "./node_adapter.ts";

/** The largest request message accepted (issue #2: oversized input → RESOURCE_EXHAUSTED). */
export const READ_MAX_BYTES = 4 * 1024 * 1024;

/** Streams one connection may have open at once. */
const MAX_CONCURRENT_STREAMS = 1000;

/** Options of {@linkcode startGrpcServer}. */
export interface GrpcServerOptions {
  /** `HOST:PORT` to listen on. */
  address: string;
  /** Registers the services. */
  routes: (router: ConnectRouter) => void;
  /** Aborted when the daemon shuts down: every handler's signal aborts with it. */
  shutdownSignal: AbortSignal;
  /** The bearer token non-loopback clients must send. */
  token: string;
  logger: Logger;
}

/**
 * Serves gRPC (and Connect, gRPC-Web) over plain-text HTTP/2, as existing
 * Python clients dial it with an insecure channel (CONTRACT §2.1).
 */
export async function startGrpcServer(
  options: GrpcServerOptions,
): Promise<ListeningServer> {
  const handler = createStreamHandler({
    routes: options.routes,
    readMaxBytes: READ_MAX_BYTES,
    shutdownSignal: options.shutdownSignal,
    interceptors: [errorInterceptor(options.logger)],
    logger: options.logger,
  });
  // Cancelled streams count against the limit until they close; a small limit refuses new ones
  // under load (REFUSED_STREAM). Bounded all the same: each stream holds memory.
  const server = http2.createServer({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } });
  server.on("stream", (stream, headers) => {
    // A stream the peer resets or refuses emits "error"; unheard, that would end the process.
    stream.on("error", (err) => options.logger.debug("HTTP/2 stream error", { error: err }));
    if (!authorized(stream.session?.socket?.remoteAddress, headers.authorization, options.token)) {
      return trailersOnly(stream, 16, "a bearer token is required from non-loopback clients"); // UNAUTHENTICATED
    }
    if (!handler(stream, headers)) trailersOnly(stream, 12, `unknown method ${headers[":path"]}`); // UNIMPLEMENTED
  });
  // Open streams per session, so shutdown knows when a session is idle.
  const sessions = new Map<http2.ServerHttp2Session, number>();
  server.on("session", (session) => {
    session.on("error", (err) => options.logger.debug("HTTP/2 session error", { error: err }));
    sessions.set(session, 0);
    session.on("stream", (stream) => {
      sessions.set(session, (sessions.get(session) ?? 0) + 1);
      stream.once("close", () => sessions.set(session, Math.max(0, (sessions.get(session) ?? 1) - 1)));
    });
    session.once("close", () => sessions.delete(session));
  });
  const address = await bind(server, "grpc", options.address);
  return {
    address,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Handlers end their streams when the shutdown signal aborts; wait for that, up to the grace period.
      const deadline = Date.now() + graceMs;
      while ([...sessions.values()].some((open) => open > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // Every stream has ended (or the grace period is over): drop the connections. A graceful
      // GOAWAY round adds nothing here, and GOAWAY handling is where Deno 2.9's node:http2 can
      // abort the process (docs/architecture.md, "Known runtime issues").
      for (const session of sessions.keys()) session.destroy();
      await closed;
    },
  };
}

/** Ends a call with only a status, in one HEADERS frame as gRPC requires. */
function trailersOnly(
  stream: http2.ServerHttp2Stream,
  code: number,
  message: string,
): void {
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(code),
      "grpc-message": encodeURIComponent(message),
    },
    { endStream: true },
  );
}
