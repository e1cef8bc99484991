/**
 * The HTTP/1.1 (or HTTPS) port: `/health`, `/metrics`, the legacy `/queue/*` routes and Connect, behind the edge
 * checks and connection limits.
 *
 * @module
 */
import * as http from "node:http";
import * as https from "node:https";
import { createHash } from "node:crypto";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { errorInterceptor, PEER_HEADER } from "../api/mod.ts";
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./dashboard_assets.ts";
import type { Logger } from "../log/mod.ts";
import { authorized } from "./auth.ts";
import { checkEdge, corsHeaders, createEdgePolicy, type EdgePolicy } from "./edge.ts";
import { READ_MAX_BYTES, type TlsMaterial } from "./grpc/grpc_server.ts";
import { bind, type ListeningServer } from "./listen.ts";
import { createNodeHandler } from "./grpc/dispatcher.ts";

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
  /** Extra routes such as the legacy queue endpoints (docs/compatibility.md §3). */
  extraRoutes?: HttpRoute[];
  /** The browser rules checked before any route (`docs/security.md`). @default {the strict rules, no page token accepted} */
  edge?: EdgePolicy;
  /** PEM certificate chain and key: the port serves HTTPS instead of plain HTTP. */
  tls?: TlsMaterial;
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
  const edge = options.edge ?? createEdgePolicy({ pageToken: crypto.randomUUID() });
  const connect = createNodeHandler({
    routes: options.routes,
    readMaxBytes: READ_MAX_BYTES,
    shutdownSignal: options.shutdownSignal,
    interceptors: [errorInterceptor(options.logger, options.shutdownSignal)],
    logger: options.logger,
  });
  const handle: http.RequestListener = async (req, res) => {
    try {
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      };
      const refused = checkEdge(edge, { method: req.method ?? "GET", header });
      if (refused) return send(res, refused.status, { error: refused.message });
      const cors = corsHeaders(edge, header("origin"));
      for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
      if (req.method === "OPTIONS") {
        // A CORS preflight: answered only for a configured origin; anything else learns nothing.
        res.writeHead(Object.keys(cors).length > 0 ? 204 : 403);
        return void res.end();
      }
      const path = (req.url ?? "/").split("?")[0];
      // The dashboard's own files hold no data: they load without the token, and the page asks for it (off loopback)
      // before it calls anything.
      const asset = req.method === "GET" ? DASHBOARD_FILES.get(path) : undefined;
      if (asset) {
        // The dashboard (web/, embedded): same-origin only, nothing inline, never framed. Revalidated on each load
        // by its content hash (RFC 9110 §8.8.3, §13.1.2), so a browser keeps the script it already has (and the code
        // it compiled from it) until the daemon ships another.
        const headers = {
          "content-type": asset.type,
          "cache-control": "no-cache",
          "etag": asset.etag,
          "content-security-policy": DASHBOARD_CSP,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "x-frame-options": "DENY",
        };
        if (req.headers["if-none-match"] === asset.etag) {
          res.writeHead(304, headers);
          return void res.end();
        }
        res.writeHead(200, headers);
        return void res.end(asset.body);
      }
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
      req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
      if (req.method === "GET" && path === "/dashboard/session") {
        // Same-origin pages read the page token here; a page of another site cannot read the answer (no CORS
        // header), and a rebinding name never gets this far (Host check above).
        res.setHeader("cache-control", "no-store");
        return send(res, 200, { pageToken: edge.pageToken });
      }
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
  };
  const server = options.tls ? https.createServer({ ...options.tls }, handle) : http.createServer(handle);
  boundConnections(server, options.tls ? "secureConnection" : "connection");
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

/** Connections held at once; past it the server closes new ones at once (a user's default limit is 1,024 files). */
export const MAX_HTTP_CONNECTIONS = 512;
/** Time a connection has to send a request's headers, from its start or from the end of the previous answer. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time a request has to send its whole body once its headers arrived. */
export const BODY_TIMEOUT_MS = 30_000;

/**
 * Bounds what idle or slow clients hold (slowloris): a connection cap, a deadline for each request's headers (which
 * also ends idle keep-alive connections) and one for its body. Deno's `node:http` ignores `headersTimeout` and
 * `requestTimeout`, so the deadlines are timers of our own on each socket.
 */
function boundConnections(server: http.Server, connectionEvent: "connection" | "secureConnection"): void {
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  const deadlines = new WeakMap<object, ReturnType<typeof setTimeout>>();
  const arm = (socket: { destroy(): void }, ms: number) => {
    clearTimeout(deadlines.get(socket));
    deadlines.set(socket, setTimeout(() => socket.destroy(), ms));
  };
  // With TLS, the deadlines run on the TLS socket that requests arrive on; the handshake itself is bounded by the
  // connection cap.
  server.on(connectionEvent, (socket: { destroy(): void; on(event: "close", fn: () => void): void }) => {
    arm(socket, HEADERS_TIMEOUT_MS);
    socket.on("close", () => clearTimeout(deadlines.get(socket)));
  });
  server.on("request", (req, res) => {
    const socket = req.socket;
    if (req.complete) clearTimeout(deadlines.get(socket));
    else {
      arm(socket, BODY_TIMEOUT_MS);
      req.on("end", () => clearTimeout(deadlines.get(socket)));
    }
    // A streamed answer (a Connect server stream) may last as long as it likes; the next request's headers are
    // due once it ends.
    res.on("finish", () => arm(socket, HEADERS_TIMEOUT_MS));
  });
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

/** The dashboard's files by path: the page at `/`, its script and stylesheet under `/dashboard/`. */
const DASHBOARD_FILES = new Map(
  [
    ["/", "text/html; charset=utf-8", DASHBOARD_HTML],
    ["/dashboard/app.js", "text/javascript; charset=utf-8", DASHBOARD_JS],
    ["/dashboard/app.css", "text/css; charset=utf-8", DASHBOARD_CSS],
  ].map((
    [path, type, body],
  ) => [path, { type, body, etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"` }]),
);

/** The page may load only its own files and call only its own origin. */
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function send(res: JsonResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
