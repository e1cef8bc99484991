/**
 * The lean handler context of the fast gRPC path: its signal follows the daemon's shutdown and the client's reset.
 *
 * @module
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";
import type { Http2ServerStream } from "../h2/mod.ts";

const CALL_ENDED = new Error("the call has ended");

/**
 * The handler context of a fast-path call (`grpc_unary.ts`,
 * `grpc_stream.ts`). Connect's `createHandlerContext` builds three `Headers`
 * and a linked abort controller per call, a tenth of the daemon's CPU under
 * the bench/tasks load; here each part is made only when a handler asks for
 * it. The signal aborts when the daemon shuts down, when the call ends (as
 * Connect's does) and, with `followClient`, when the client resets the
 * stream; there is no deadline, since calls with `grpc-timeout` go through
 * Connect.
 */
export class CallContext implements HandlerContext {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  #stream: Http2ServerStream;
  #shutdown: AbortSignal;
  #followClient: boolean;
  #controller?: AbortController;
  #unhook?: () => void;
  #requestHeader?: Headers;
  #responseHeader?: Headers;
  #responseTrailer?: Headers;
  #values?: ContextValues;

  /** A context for one call on `stream`. */
  constructor(
    entry: { service: DescService; method: DescMethod },
    stream: Http2ServerStream,
    shutdown: AbortSignal,
    followClient = false,
  ) {
    this.service = entry.service;
    this.method = entry.method;
    this.#stream = stream;
    this.#shutdown = shutdown;
    this.#followClient = followClient;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const sources = this.#followClient ? [this.#shutdown, this.#stream.signal] : [this.#shutdown];
      const gone = sources.find((source) => source.aborted);
      if (gone) controller.abort(gone.reason);
      else {
        const listeners = sources.map((source) => {
          const listener = () => controller.abort(source.reason);
          source.addEventListener("abort", listener, { once: true });
          return () => source.removeEventListener("abort", listener);
        });
        this.#unhook = () => listeners.forEach((remove) => remove());
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

  /** Unhooks the call from the signals it follows and aborts its own, as Connect does at a call's end. */
  end(): void {
    this.#unhook?.();
    this.#controller?.abort(CALL_ENDED);
  }
}
