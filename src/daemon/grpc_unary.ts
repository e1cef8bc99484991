import type * as http2 from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, createHandlerContext } from "@connectrpc/connect";
import { toConnectError } from "../api/mod.ts";
import type { Logger } from "../log/mod.ts";

/** One unary RPC's implementation, as registered on the router. */
export interface UnaryEntry {
  service: DescService;
  method: DescMethod;
  // deno-lint-ignore no-explicit-any
  impl: (request: any, context: any) => unknown;
}

/**
 * Wraps a router so that every unary implementation registered on it is also
 * recorded by path, for {@linkcode serveUnaryGrpc}.
 */
export function recordingUnary(router: ConnectRouter, into: Map<string, UnaryEntry>): ConnectRouter {
  const recorder: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, options) {
      router.service(service, implementation, options);
      for (const method of service.methods) {
        const impl = (implementation as Record<string, UnaryEntry["impl"] | undefined>)[method.localName];
        if (method.methodKind === "unary" && impl) {
          into.set(`/${service.typeName}/${method.name}`, { service, method, impl: impl.bind(implementation) });
        }
      }
      return recorder;
    },
    rpc(method, impl, options) {
      router.rpc(method, impl, options);
      return recorder;
    },
  };
  return recorder;
}

/** True when a request is plain binary gRPC that {@linkcode serveUnaryGrpc} handles itself. */
export function isPlainGrpc(headers: http2.IncomingHttpHeaders): boolean {
  const type = headers["content-type"];
  const encoding = headers["grpc-encoding"];
  return (type === "application/grpc" || type === "application/grpc+proto") &&
    (encoding === undefined || encoding === "identity") && headers["grpc-timeout"] === undefined;
}

/**
 * Serves one unary call of plain binary gRPC without Connect's protocol
 * pipeline, which costs more than the rest of a small call on Deno
 * (bench/rpc). The same implementation runs, with a Connect handler context,
 * and errors are mapped by the same `toConnectError`; everything else (other
 * protocols, compression, deadlines, streams) goes through Connect.
 */
export async function serveUnaryGrpc(
  entry: UnaryEntry,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  options: { readMaxBytes: number; shutdownSignal: AbortSignal; logger: Logger },
): Promise<void> {
  try {
    const body = await readBody(stream, options.readMaxBytes + 5);
    const request = decodeFrame(body, entry.method.input, options.readMaxBytes);
    const requestHeader = new Headers();
    for (const [key, value] of Object.entries(headers)) {
      if (!key.startsWith(":") && value !== undefined) requestHeader.set(key, String(value));
    }
    const context = createHandlerContext({
      service: entry.service,
      method: entry.method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: `http://${headers[":authority"] ?? "localhost"}${headers[":path"]}`,
      shutdownSignal: options.shutdownSignal,
      requestHeader,
    });
    let result: unknown;
    try {
      result = await entry.impl(request, context);
    } finally {
      // Ending the context unhooks it from the shutdown signal (Connect does the same); a shared
      // reason avoids building a DOMException per call.
      context.abort(CALL_ENDED);
    }
    const output = entry.method.output;
    const message = isMessage(result, output) ? result : create(output, result as never);
    const bytes = toBinary(output, message);
    const frame = new Uint8Array(5 + bytes.length);
    new DataView(frame.buffer).setUint32(1, bytes.length);
    frame.set(bytes, 5);
    if (stream.destroyed) return;
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame);
  } catch (err) {
    const error = toConnectError(err);
    if (error !== err) {
      options.logger.warn("RPC failed", { method: entry.method.name, error: error.cause ?? err });
    }
    if (stream.destroyed || stream.headersSent) return;
    if (!stream.readableEnded) stream.resume();
    stream.respond({
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(error.code),
      "grpc-message": encodeURIComponent(error.rawMessage),
    }, { endStream: true });
  }
}

async function readBody(stream: http2.ServerHttp2Stream, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new ConnectError(`message larger than ${limit - 5} bytes`, Code.ResourceExhausted);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function decodeFrame(body: Uint8Array, schema: DescMessage, readMaxBytes: number) {
  if (body.length < 5) throw new ConnectError("protocol error: missing request message", Code.Unimplemented);
  if (body[0] & 1) throw new ConnectError("compressed message without grpc-encoding", Code.Internal);
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (length > readMaxBytes) {
    throw new ConnectError(`message larger than ${readMaxBytes} bytes`, Code.ResourceExhausted);
  }
  if (body.length !== 5 + length) {
    throw new ConnectError("protocol error: expected exactly one message", Code.InvalidArgument);
  }
  try {
    return fromBinary(schema, body.subarray(5));
  } catch (err) {
    // The fault is the client's (issue #2): Connect would answer INTERNAL.
    throw new ConnectError(`parse binary: ${(err as Error).message}`, Code.InvalidArgument);
  }
}

const CALL_ENDED = new Error("the call has ended");
