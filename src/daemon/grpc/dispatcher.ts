/**
 * The RPC dispatcher of both ports: routes each request to its Connect handler, or to the fast path for plain binary
 * gRPC.
 *
 * @module
 */
import type * as http from "node:http";
import { Code, type ConnectRouter, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../../log/mod.ts";
import { serveServerStreamGrpc } from "./grpc_stream.ts";
import { type FastEntry, isPlainGrpc, recordingFast, serveUnaryGrpc } from "./grpc_unary.ts";
import { ErrorCode, type Http2ServerStream } from "../h2/mod.ts";
import { serveStream } from "./http2_stream_adapter.ts";
import { intercepted } from "./intercepted.ts";

type NodeRequest = http.IncomingMessage;
type NodeResponse = http.ServerResponse;

/** Options of {@linkcode createNodeHandler}. */
export interface NodeHandlerOptions {
  routes: (router: ConnectRouter) => void;
  /** The largest request message accepted, in bytes. */
  readMaxBytes: number;
  /** Aborts every handler's signal when the daemon shuts down. */
  shutdownSignal: AbortSignal;
  interceptors: Interceptor[];
  logger: Logger;
}

/**
 * Connect's `connectNodeAdapter`, with one change: a request message that is
 * not valid protobuf answers INVALID_ARGUMENT rather than Connect's INTERNAL,
 * because the fault is the client's. Returns undefined
 * for paths that are not RPCs, so the caller can serve other routes.
 */
export function createNodeHandler(
  options: NodeHandlerOptions,
): (req: NodeRequest, res: NodeResponse) => boolean {
  const paths = handlersByPath(options);
  return (req, res) => {
    const handler = paths.get((req.url ?? "").split("?", 2)[0]);
    if (!handler) return false;
    const uReq = universalRequestFromNodeRequest(
      req,
      res,
      undefined,
      undefined,
    );
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(clientFaultForParseErrors(uRes), res))
      .catch((err) => {
        if ((err as { code?: number })?.code !== Code.Aborted) {
          options.logger.debug("RPC response not written", {
            method: handler.method.name,
            error: err,
          });
        }
      });
    return true;
  };
}

function clientFaultForParseErrors(
  res: UniversalServerResponse,
): UniversalServerResponse {
  const body = res.body;
  const trailer = res.trailer;
  if (!trailer || !body || !(Symbol.asyncIterator in body)) return res;
  return {
    ...res,
    body: (async function* () {
      yield* body as AsyncIterable<Uint8Array>;
      parseErrorIsClientFault(trailer);
    })(),
  };
}

/** Turns Connect's INTERNAL for an unparsable request into INVALID_ARGUMENT, in gRPC trailers. */
export function parseErrorIsClientFault(trailer: Headers): void {
  if (
    trailer.get("grpc-status") === String(Code.Internal) && trailer.get("grpc-message")?.startsWith("parse%20binary")
  ) {
    trailer.set("grpc-status", String(Code.InvalidArgument));
  }
}

/**
 * Like {@linkcode createNodeHandler}, for the streams of the gRPC listener's
 * own HTTP/2 server: returns the call's work, or undefined when the path is
 * not an RPC.
 */
export function createStreamHandler(
  options: NodeHandlerOptions,
): (stream: Http2ServerStream) => Promise<void> | undefined {
  const fastPaths = new Map<string, FastEntry>();
  const paths = handlersByPath(options, fastPaths);
  return (stream) => {
    const path = stream.headers[":path"].split("?", 2)[0];
    const fast = isPlainGrpc(stream.headers) ? fastPaths.get(path) : undefined;
    if (fast?.method.methodKind === "unary") return serveUnaryGrpc(fast, stream, options);
    if (fast) return serveServerStreamGrpc(fast, stream, options);
    const handler = paths.get(path);
    if (!handler) return undefined;
    return serveStream(handler, stream, parseErrorIsClientFault).catch((err) => {
      options.logger.debug("RPC response not written", { method: handler.method.name, error: err });
      stream.reset(ErrorCode.INTERNAL_ERROR);
    });
  };
}

function handlersByPath(options: NodeHandlerOptions, fast?: Map<string, FastEntry>): Map<string, UniversalHandler> {
  const router = createConnectRouter({
    readMaxBytes: options.readMaxBytes,
    shutdownSignal: options.shutdownSignal,
    interceptors: options.interceptors,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(fast ? recordingFast(router, fast) : router);
  // The fast path runs the same interceptor chain as Connect's handlers.
  for (const [path, entry] of fast ?? []) fast!.set(path, intercepted(entry, options.interceptors));
  const paths = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) paths.set(handler.requestPath, handler);
  return paths;
}
