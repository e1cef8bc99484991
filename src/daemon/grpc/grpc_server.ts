/**
 * The gRPC port: gRPC, Connect and gRPC-Web on our own HTTP/2 server, plain text or TLS, behind the edge checks and
 * the token.
 *
 * @module
 */
import { Code, type ConnectRouter } from "@connectrpc/connect";
import { errorInterceptor, PEER_HEADER } from "../../api/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { authorized } from "../auth.ts";
import { checkEdge, createEdgePolicy, type EdgePolicy } from "../edge.ts";
import { AddressInUseError } from "../errors.ts";
import { type Http2ServerStream, serveHttp2 } from "../h2/mod.ts";
import { type ListeningServer, splitAddress } from "../listen.ts";
import { createStreamHandler } from "./dispatcher.ts";

/** The largest request message accepted. */
export const READ_MAX_BYTES = 4 * 1024 * 1024;

/** A TLS certificate chain and its private key, both PEM text. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

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
  /** The browser rules checked before any route (`docs/security.md`). @default {the strict rules, no page token accepted} */
  edge?: EdgePolicy;
  /** PEM certificate chain and key: the port serves TLS (`h2` by ALPN) instead of plain text. */
  tls?: TlsMaterial;
  logger: Logger;
}

/**
 * Serves gRPC (and Connect, gRPC-Web) over plain-text HTTP/2, as existing
 * Python clients dial it with an insecure channel (docs/compatibility.md §2.1), on our
 * own HTTP/2 server (`./h2`).
 */
export function startGrpcServer(options: GrpcServerOptions): Promise<ListeningServer> {
  const edge = options.edge ?? createEdgePolicy({ pageToken: crypto.randomUUID(), checkHost: false });
  const handler = createStreamHandler({
    routes: options.routes,
    readMaxBytes: READ_MAX_BYTES,
    shutdownSignal: options.shutdownSignal,
    interceptors: [errorInterceptor(options.logger, options.shutdownSignal)],
    logger: options.logger,
  });
  const { host, port } = splitAddress(options.address);
  let listener: Deno.Listener;
  try {
    listener = options.tls
      ? Deno.listenTls({ hostname: host, port, transport: "tcp", ...options.tls, alpnProtocols: ["h2"] })
      : Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) throw new AddressInUseError("grpc", options.address, { cause: err });
    throw err;
  }
  const server = serveHttp2(listener, {
    maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
    onStream(stream) {
      const refused = checkEdge(edge, {
        method: stream.headers[":method"] ?? "",
        header: (name) => stream.headers[name],
      });
      if (refused) return trailersOnly(stream, refused.grpcCode, refused.message);
      if (!authorized(stream.remoteAddress, stream.headers.authorization, options.token)) {
        return trailersOnly(stream, Code.Unauthenticated, "a bearer token is required from non-loopback clients");
      }
      stream.headers[PEER_HEADER] = stream.remoteAddress;
      const work = handler(stream);
      if (!work) notFound(stream);
      return work;
    },
    onError: (error) => options.logger.debug("HTTP/2 connection error", { error }),
  });
  const bound = listener.addr as Deno.NetAddr;
  return Promise.resolve({
    address: `${bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname}:${bound.port}`,
    close: (graceMs) => server.close(graceMs),
  });
}

/**
 * Answers a path we do not serve: a gRPC method name (`/package.Service/Method`) gets UNIMPLEMENTED as gRPC clients
 * expect; anything else a plain 404 with a body that says what this port is.
 */
function notFound(stream: Http2ServerStream): void {
  const path = stream.headers[":path"];
  if (/^\/[^/?]+\/[^/?]+$/.test(path)) return trailersOnly(stream, Code.Unimplemented, `unknown method ${path}`);
  stream.respond([[":status", "404"], ["content-type", "text/plain; charset=utf-8"]]);
  void stream.write(NOT_FOUND_TEXT);
  stream.end();
}

const NOT_FOUND_TEXT = new TextEncoder().encode(
  "This is dspy-agent's gRPC port: it serves gRPC, gRPC-Web and Connect calls at /package.Service/Method.\n",
);

/** Ends a call with only a status, in one HEADERS frame as gRPC requires. */
function trailersOnly(stream: Http2ServerStream, code: number, message: string): void {
  stream.respond([
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-status", String(code)],
    ["grpc-message", encodeURIComponent(message)],
  ], true);
}
