import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  toBinary,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import { toConnectError } from "../api/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Http2ServerStream } from "./h2/mod.ts";

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
 * protocols, compression, deadlines, streams) goes through Connect.
 */
export async function serveUnaryGrpc(
  entry: UnaryEntry,
  stream: Http2ServerStream,
  options: { readMaxBytes: number; shutdownSignal: AbortSignal; logger: Logger },
): Promise<void> {
  try {
    const limit = options.readMaxBytes;
    const body = await stream.readAll(
      limit + 5,
      () => new ConnectError(`message larger than ${limit} bytes`, Code.ResourceExhausted),
    );
    const request = decodeFrame(body, entry.method.input, limit);
    const context = new UnaryContext(entry, stream, options.shutdownSignal);
    let result: unknown;
    try {
      result = await entry.impl(request, context);
    } finally {
      context.end();
    }
    const output = entry.method.output;
    const message = isMessage(result, output) ? result : create(output, result as never);
    const bytes = toBinary(output, message);
    const frame = new Uint8Array(5 + bytes.length);
    new DataView(frame.buffer).setUint32(1, bytes.length);
    frame.set(bytes, 5);
    // Headers, message and trailers are queued together and leave in one socket write.
    stream.respond(RESPONSE_HEADERS);
    stream.write(frame);
    stream.end(OK_TRAILERS);
  } catch (err) {
    const error = toConnectError(err);
    if (error !== err) {
      options.logger.warn("RPC failed", { method: entry.method.name, error: error.cause ?? err });
    }
    if (stream.closed || stream.headersSent) return;
    stream.respond([
      ...RESPONSE_HEADERS,
      ["grpc-status", String(error.code)],
      ["grpc-message", encodeURIComponent(error.rawMessage)],
    ], true);
  }
}

const RESPONSE_HEADERS: [string, string][] = [[":status", "200"], ["content-type", "application/grpc"]];
const OK_TRAILERS: [string, string][] = [["grpc-status", "0"]];

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

/**
 * The handler context of a fast-path call. Connect's `createHandlerContext`
 * builds three `Headers` and a linked abort controller per call, a tenth of
 * the daemon's CPU under the bench/tasks load; here each part is made only
 * when a handler asks for it. The signal aborts when the daemon shuts down,
 * and when the call ends (as Connect's does); there is no deadline, since
 * calls with `grpc-timeout` go through Connect.
 */
class UnaryContext implements HandlerContext {
  readonly service: HandlerContext["service"];
  readonly method: HandlerContext["method"];
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  #stream: Http2ServerStream;
  #shutdown: AbortSignal;
  #controller?: AbortController;
  #onShutdown?: () => void;
  #requestHeader?: Headers;
  #responseHeader?: Headers;
  #responseTrailer?: Headers;
  #values?: ContextValues;

  constructor(entry: UnaryEntry, stream: Http2ServerStream, shutdown: AbortSignal) {
    this.service = entry.service;
    this.method = entry.method;
    this.#stream = stream;
    this.#shutdown = shutdown;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const shutdown = this.#shutdown;
      if (shutdown.aborted) controller.abort(shutdown.reason);
      else {
        this.#onShutdown = () => controller.abort(shutdown.reason);
        shutdown.addEventListener("abort", this.#onShutdown, { once: true });
      }
    }
    return this.#controller.signal;
  }

  timeoutMs(): number | undefined {
    return undefined;
  }

  get url(): string {
    return `http://${this.#stream.headers[":authority"] ?? "localhost"}${this.#stream.headers[":path"]}`;
  }

  get requestHeader(): Headers {
    if (!this.#requestHeader) {
      this.#requestHeader = new Headers();
      for (const [key, value] of Object.entries(this.#stream.headers)) {
        if (!key.startsWith(":")) this.#requestHeader.set(key, value);
      }
    }
    return this.#requestHeader;
  }

  get responseHeader(): Headers {
    return (this.#responseHeader ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new Headers());
  }

  get values(): ContextValues {
    return (this.#values ??= createContextValues());
  }

  /** Unhooks the call from the shutdown signal and aborts its own, as Connect does at a call's end. */
  end(): void {
    if (this.#onShutdown) this.#shutdown.removeEventListener("abort", this.#onShutdown);
    this.#controller?.abort(CALL_ENDED);
  }
}
