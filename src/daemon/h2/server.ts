/**
 * A plain-text HTTP/2 server (prior knowledge, RFC 9113 §3.3) on a Deno TCP
 * listener: accepts connections and hands each request stream to
 * `onStream`. It replaces `node:http2` on the gRPC port, where Deno's
 * implementation cost most of a unary call's CPU time (bench/tasks) and can
 * abort the process on a client's GOAWAY (docs/architecture.md).
 *
 * @module
 */

import { Http2Connection } from "./connection.ts";
import type { Http2ServerStream } from "./stream.ts";

/**
 * Connections held at once; past it new ones are closed at once, before the process runs out of file descriptors (a
 * user's default limit is 1,024, shared with the HTTP port, the store and the Docker socket).
 */
export const MAX_CONNECTIONS = 512;

/** Options of {@linkcode serveHttp2}. */
export interface Http2ServerOptions {
  /** Streams one connection may have open at once. @default 1000 */
  maxConcurrentStreams?: number;
  /** Connections held at once. @default {MAX_CONNECTIONS} */
  maxConnections?: number;
  /**
   * Called once per request, when its headers are complete; the work it
   * returns counts against `maxConcurrentStreams` until it settles.
   */
  onStream: (stream: Http2ServerStream) => Promise<unknown> | void;
  /** Hears of connection-level failures (protocol errors, socket errors). */
  onError: (error: unknown) => void;
}

/** A running server. */
export interface Http2Server {
  /** Connections open now. */
  readonly connections: number;
  /**
   * Stops accepting, tells every client (GOAWAY) and waits up to `graceMs`
   * for open streams to end, then closes every connection.
   */
  close(graceMs: number): Promise<void>;
}

/** Serves HTTP/2 on `listener` until closed. */
export function serveHttp2(listener: Deno.Listener, options: Http2ServerOptions): Http2Server {
  const connections = new Set<Http2Connection>();
  const connectionOptions = {
    maxConcurrentStreams: options.maxConcurrentStreams ?? 1000,
    onStream: options.onStream,
    onError: options.onError,
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        if (connections.size >= (options.maxConnections ?? MAX_CONNECTIONS)) {
          conn.close();
          continue;
        }
        const connection = new Http2Connection(conn, connectionOptions);
        connections.add(connection);
        connection.run().finally(() => connections.delete(connection));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) options.onError(error);
    }
  })();
  return {
    get connections() {
      return connections.size;
    },
    async close(graceMs) {
      try {
        listener.close();
      } catch { /* closed already */ }
      await accepting;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all([...connections].map((c) => c.drain())), grace]);
      clearTimeout(timer);
      for (const connection of connections) connection.close(true);
    },
  };
}
