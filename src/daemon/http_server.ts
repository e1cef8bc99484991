import * as http from "node:http";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { errorInterceptor } from "../api/mod.ts";
import type { Logger } from "../log/mod.ts";
import { authorized } from "./auth.ts";
import { READ_MAX_BYTES } from "./grpc_server.ts";
import { bind, type ListeningServer } from "./listen.ts";
import { createNodeHandler } from "./node_adapter.ts";

/** A plain-HTTP route outside Connect: returns undefined when it does not handle the request. */
export type HttpRoute = (
  req: { method: string; path: string; body?: Uint8Array },
) => Promise<{ status: number; body: unknown } | undefined>;

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  /** `HOST:PORT` to listen on. */
  address: string;
  routes: (router: ConnectRouter) => void;
  shutdownSignal: AbortSignal;
  token: string;
  /** Scraped at `GET /metrics`. */
  registry: Registry;
  /** True when the daemon is ready (`GET /health`). */
  healthy: () => boolean;
  /** Extra routes such as the legacy queue endpoints (CONTRACT §3). */
  extraRoutes?: HttpRoute[];
  logger: Logger;
}

/**
 * Serves HTTP/1.1: `GET /health`, `GET /metrics`, the legacy routes, and the
 * same Connect services with the Connect and gRPC-Web protocols for browsers
 * and curl.
 */
export async function startHttpServer(
  options: HttpServerOptions,
): Promise<ListeningServer> {
  const connect = createNodeHandler({
    routes: options.routes,
    readMaxBytes: READ_MAX_BYTES,
    shutdownSignal: options.shutdownSignal,
    interceptors: [errorInterceptor(options.logger)],
    logger: options.logger,
  });
  const server = http.createServer(async (req, res) => {
    try {
      if (
        !authorized(
          req.socket.remoteAddress,
          req.headers.authorization,
          options.token,
        )
      ) {
        return send(res, 401, {
          error: "a bearer token is required from non-loopback clients",
        });
      }
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "GET" && path === "/health") {
        const ok = options.healthy();
        return send(res, ok ? 200 : 503, { status: ok ? "ok" : "starting" });
      }
      if (req.method === "GET" && path === "/metrics") {
        const text = await options.registry.metrics();
        res.writeHead(200, { "content-type": options.registry.contentType });
        return void res.end(text);
      }
      if (path.startsWith("/queue/") && options.extraRoutes) {
        const body = req.method === "POST" ? await readBody(req) : undefined;
        for (const route of options.extraRoutes) {
          const out = await route({ method: req.method ?? "GET", path, body });
          if (out) return send(res, out.status, out.body);
        }
      }
      // The same node objects, typed by the other of the two Node type versions in our graph (see JsonResponse).
      type Args = Parameters<typeof connect>;
      if (!connect(req as unknown as Args[0], res as unknown as Args[1])) {
        send(res, 404, { error: `no route for ${req.method} ${path}` });
      }
    } catch (err) {
      options.logger.error("HTTP request failed", { url: req.url, error: err });
      if (!res.headersSent) {
        send(res, err instanceof BodyTooLargeError ? 413 : 500, {
          error: String(err),
        });
      }
    }
  });
  const address = await bind(server, "http", options.address);
  return {
    address,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

class BodyTooLargeError extends Error {}

async function readBody(req: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > READ_MAX_BYTES) {
      throw new BodyTooLargeError(`request body over ${READ_MAX_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * What `send` needs of a response. Typed by shape, not as `http.ServerResponse`: two versions of
 * the Node types meet in our graph (@types/ssh2, under @types/dockerode, pins ^18), and their
 * `ServerResponse` classes are not assignable to each other.
 */
interface JsonResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

function send(res: JsonResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
