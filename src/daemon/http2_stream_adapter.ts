import type * as http2 from "node:http2";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

/**
 * Serves Connect's universal handlers on raw HTTP/2 streams, skipping
 * node:http2's request/response compatibility objects: on Deno they cost
 * most of a unary call's CPU time (bench/rpc). Behaviour matches
 * `universalResponseToNodeResponse`: headers after the first body chunk,
 * trailers after the last.
 */
export async function serveStream(
  handler: UniversalHandler,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  /** Adjusts the trailers just before they are sent. */
  fixTrailers: (trailer: Headers) => void,
): Promise<void> {
  // Abort only when the client leaves before the answer is complete: an abort without a reason
  // builds a DOMException with a stack, a cost every call would pay (bench/tasks profile).
  const abort = new AbortController();
  let answered = false;
  stream.once("close", () => answered || abort.abort(CLIENT_GONE));
  const header = new Headers();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(":") || value === undefined) continue;
    header.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  const req: UniversalServerRequest = {
    httpVersion: "2.0",
    method: String(headers[":method"] ?? "POST"),
    url: `http://${headers[":authority"] ?? "localhost"}${headers[":path"] ?? "/"}`,
    header,
    // Connect stops reading early on a bad request; the default iterator would then destroy the
    // stream (RST_STREAM CANCEL) before the error status is sent.
    body: stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>,
    signal: abort.signal,
  };
  const res = await handler(req);
  const it = (res.body as AsyncIterable<Uint8Array> | undefined)?.[Symbol.asyncIterator]();
  let chunk = it ? await it.next() : { done: true as const, value: undefined };
  if (stream.destroyed) return;
  const out: http2.OutgoingHttpHeaders = { ":status": res.status };
  res.header?.forEach((value, key) => (out[key] = value));
  stream.respond(out, { waitForTrailers: res.trailer !== undefined });
  for (; !chunk.done; chunk = await it!.next()) {
    if (stream.destroyed) return;
    if (!stream.write(chunk.value)) await new Promise((resolve) => stream.once("drain", resolve));
  }
  if (stream.destroyed) return;
  // A request rejected early (malformed, oversized) leaves input unread; ending the stream
  // then would reset it (RST_STREAM CANCEL) and hide the status. Drain the rest.
  if (!stream.readableEnded) stream.resume();
  if (res.trailer) {
    fixTrailers(res.trailer);
    const trailers: http2.OutgoingHttpHeaders = {};
    res.trailer.forEach((value, key) => (trailers[key] = value));
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
  }
  answered = true;
  stream.end();
}

const CLIENT_GONE = new Error("the client closed the stream");
