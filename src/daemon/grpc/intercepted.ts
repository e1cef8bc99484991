/**
 * The router's interceptors on the fast gRPC path too, so that logging, error mapping and whatever else an
 * interceptor does (auth, metrics, tracing) is written once and no path skips it: each fast entry's implementation
 * is wrapped in the same chain Connect applies to its own handlers, outermost first.
 *
 * @module
 */
import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import type { CallContext } from "./grpc_context.ts";
import type { FastEntry } from "./grpc_unary.ts";

/** Returns `entry` whose implementation runs inside `interceptors`; unchanged when there are none. */
export function intercepted(entry: FastEntry, interceptors: readonly Interceptor[]): FastEntry {
  if (interceptors.length === 0) return entry;
  const { service, method, impl } = entry;
  const streaming = method.methodKind === "server_streaming";
  return {
    service,
    method,
    impl(request: unknown, context: CallContext) {
      // The innermost step: the implementation itself, its answer in Connect's response shape.
      // deno-lint-ignore no-explicit-any
      let next: (req: any) => Promise<UnaryResponse | StreamResponse> = async () => {
        const base = { service, method, header: context.responseHeader, trailer: context.responseTrailer };
        return streaming
          ? { ...base, stream: true, message: impl(request, context) as AsyncIterable<never> } as StreamResponse
          : { ...base, stream: false, message: await impl(request, context) } as UnaryResponse;
      };
      for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i](next as never) as typeof next;
      // Everything an interceptor may read is made only when it reads it: the signal, headers and values cost
      // allocations and listeners that most calls never need (the reason the fast path has a lean context).
      const req = {
        stream: streaming,
        service,
        method,
        requestMethod: "POST",
        init: {},
        message: streaming ? oneMessage(request) : request,
        get url() {
          return context.url;
        },
        get signal() {
          return context.signal;
        },
        get contextValues() {
          return context.values;
        },
        get header() {
          return context.requestHeader;
        },
      } as unknown as UnaryRequest | StreamRequest;
      return next(req).then((res) => res.message);
    },
  };
}

async function* oneMessage(message: unknown): AsyncGenerator<unknown> {
  yield message;
}
