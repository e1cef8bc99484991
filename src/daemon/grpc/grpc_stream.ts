/**
 * The fast path for server-streaming calls of plain binary gRPC on our HTTP/2 server.
 *
 * @module
 */
import { create, isMessage, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "../../log/mod.ts";
import type { Http2ServerStream } from "../h2/mod.ts";
import { CallContext } from "./grpc_context.ts";
import { encodeFrame, endWithError, type FastEntry, OK_TRAILERS, readRequest, RESPONSE_HEADERS } from "./grpc_unary.ts";

/**
 * Serves one server-streaming call of plain binary gRPC without Connect's
 * protocol pipeline (its async-iterable stages cost a stream about 40% of
 * its throughput in bench/rpc): the implementation's messages are framed
 * and written as it yields them, under the stream's flow control. The
 * handler's signal aborts when the client resets the stream or the daemon
 * shuts down; a thrown error ends the stream with its mapped status.
 */
export async function serveServerStreamGrpc(
  entry: FastEntry,
  stream: Http2ServerStream,
  options: { readMaxBytes: number; shutdownSignal: AbortSignal; logger: Logger },
): Promise<void> {
  const context = new CallContext(entry, stream, options.shutdownSignal, true);
  try {
    const request = await readRequest(entry, stream, options.readMaxBytes);
    const output = entry.method.output;
    // Touch the signal now, so a client that leaves aborts it even while the handler waits.
    void context.signal;
    // The implementation inside the interceptor chain (intercepted.ts) answers a promise of its messages.
    const items = await entry.impl(request, context) as AsyncIterable<unknown>;
    for await (const item of items) {
      if (stream.closed) break; // the client left; breaking ends the handler's generator
      const message = isMessage(item, output) ? item : create(output, item as never);
      if (!stream.headersSent) stream.respond(RESPONSE_HEADERS);
      await stream.write(encodeFrame(toBinary(output, message)));
    }
    if (stream.closed) return;
    if (!stream.headersSent) stream.respond(RESPONSE_HEADERS);
    stream.end(OK_TRAILERS);
  } catch (err) {
    endWithError(entry, stream, err, options.logger);
  } finally {
    context.end();
  }
}
