/**
 * The fast path for unary calls of plain binary gRPC: headers, message and trailers leave in one socket write.
 *
 * @module
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { toConnectError } from "../../api/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Http2ServerStream } from "../h2/mod.ts";
import { CallContext } from "./grpc_context.ts";

/** One unary or server-streaming RPC's implementation, as registered on the router. */
export interface FastEntry {
  service: DescService;
  method: DescMethod;
  // deno-lint-ignore no-explicit-any
  impl: (request: any, context: any) => unknown;
}

/**
 * Wraps a router so that every unary and server-streaming implementation
 * registered on it is also recorded by path, for {@linkcode serveUnaryGrpc}
 * and `serveServerStreamGrpc`.
 */
export function recordingFast(router: ConnectRouter, into: Map<string, FastEntry>): ConnectRouter {
  const recorder: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, options) {
      router.service(service, implementation, options);
      for (const method of service.methods) {
        const impl = (implementation as Record<string, FastEntry["impl"] | undefined>)[method.localName];
        if ((method.methodKind === "unary" || method.methodKind === "server_streaming") && impl) {
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
export function isPlainGrpc(headers: Record<string, string>): boolean {
  const type = headers["content-type"];
  const encoding = headers["grpc-encoding"];
  return (type === "application/grpc" || type === "application/grpc+proto") &&
    (encoding === undefined || encoding === "identity") && headers["grpc-timeout"] === undefined;
}

/**
 * Serves one unary call of plain binary gRPC without Connect's protocol
 * pipeline, which costs more than the rest of a small call on Deno
 * (bench/rpc). The same implementation runs, with a lean handler context,
 * and errors are mapped by the same `toConnectError`; everything else (other
 * protocols, compression, deadlines) goes through Connect.
 */
export async function serveUnaryGrpc(
  entry: FastEntry,
  stream: Http2ServerStream,
  options: { readMaxBytes: number; shutdownSignal: AbortSignal; logger: Logger },
): Promise<void> {
  try {
    const request = await readRequest(entry, stream, options.readMaxBytes);
    const context = new CallContext(entry, stream, options.shutdownSignal);
    let result: unknown;
    try {
      result = await entry.impl(request, context);
    } finally {
      context.end();
    }
    const output = entry.method.output;
    const message = isMessage(result, output) ? result : create(output, result as never);
    // Headers, message and trailers are queued together and leave in one socket write.
    stream.respond(RESPONSE_HEADERS);
    stream.write(encodeFrame(toBinary(output, message)));
    stream.end(OK_TRAILERS);
  } catch (err) {
    endWithError(entry, stream, err, options.logger);
  }
}

/**
 * Ends a fast-path call with the gRPC status of `err`, mapped by
 * `toConnectError` (and logged when it was not a ConnectError): in the
 * trailers, or as the whole answer ("trailers-only") if nothing was sent.
 */
export function endWithError(entry: FastEntry, stream: Http2ServerStream, err: unknown, logger: Logger): void {
  const error = toConnectError(err);
  if (error !== err) logger.warn("RPC failed", { method: entry.method.name, error: error.cause ?? err });
  if (stream.closed) return;
  // Connect's own trailers, details included (grpc-status-details-bin): clients act on the ErrorInfo reason, for
  // example the Python client telling a daemon that answered UNAVAILABLE about its store from one that is gone
  // (docs/architecture.md, "Several daemons on one PostgreSQL").
  const status: [string, string][] = [...setTrailerStatus(new Headers(), error)];
  if (stream.headersSent) stream.end(status);
  else stream.respond([...RESPONSE_HEADERS, ...status], true);
}

/** The response headers of every fast-path answer. */
export const RESPONSE_HEADERS: [string, string][] = [[":status", "200"], ["content-type", "application/grpc"]];
/** The trailers of a call that succeeded. */
export const OK_TRAILERS: [string, string][] = [["grpc-status", "0"]];

/** One response message in its gRPC frame (uncompressed). */
export function encodeFrame(bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + bytes.length);
  new DataView(frame.buffer).setUint32(1, bytes.length);
  frame.set(bytes, 5);
  return frame;
}

/** Reads and decodes the one request message of a unary or server-streaming call. */
export async function readRequest(entry: FastEntry, stream: Http2ServerStream, readMaxBytes: number) {
  const body = await stream.readAll(
    readMaxBytes + 5,
    () => new ConnectError(`message larger than ${readMaxBytes} bytes`, Code.ResourceExhausted),
  );
  return decodeFrame(body, entry.method.input, readMaxBytes);
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
    // The fault is the client's: Connect would answer INTERNAL.
    throw new ConnectError(`parse binary: ${(err as Error).message}`, Code.InvalidArgument);
  }
}
