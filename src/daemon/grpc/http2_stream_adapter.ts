/**
 * Serves a Connect universal handler on one of our HTTP/2 server's streams (everything the fast path does not take).
 *
 * @module
 */
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import type { Http2ServerStream } from "../h2/mod.ts";

/**
 * Serves one of Connect's universal handlers on an HTTP/2 stream of our own
 * server (`./h2`): every protocol Connect speaks (gRPC, gRPC-Web, Connect),
 * server streams, compression and deadlines. Headers go out with the first
 * body chunk, trailers after the last, as `universalResponseToNodeResponse`
 * does.
 */
export async function serveStream(
  handler: UniversalHandler,
  stream: Http2ServerStream,
  /** Adjusts the trailers just before they are sent. */
  fixTrailers: (trailer: Headers) => void,
): Promise<void> {
  const header = new Headers();
  for (const [key, value] of Object.entries(stream.headers)) {
    if (!key.startsWith(":")) header.set(key, value);
  }
  const req: UniversalServerRequest = {
    httpVersion: "2.0",
    method: stream.headers[":method"],
    url: `http://${stream.headers[":authority"] ?? "localhost"}${stream.headers[":path"]}`,
    header,
    // Connect may stop reading early on a bad request; the stream then drops the rest of it.
    body: stream.body(),
    signal: stream.signal,
  };
  const res = await handler(req);
  const it = (res.body as AsyncIterable<Uint8Array> | undefined)?.[Symbol.asyncIterator]();
  let chunk = it ? await it.next() : { done: true as const, value: undefined };
  if (stream.closed) return;
  const out: [string, string][] = [[":status", String(res.status)]];
  res.header?.forEach((value, key) => out.push([key, value]));
  stream.respond(out);
  for (; !chunk.done; chunk = await it!.next()) {
    if (stream.closed) return;
    await stream.write(chunk.value);
  }
  if (!res.trailer) return stream.end();
  fixTrailers(res.trailer);
  const trailers: [string, string][] = [];
  res.trailer.forEach((value, key) => trailers.push([key, value]));
  stream.end(trailers);
}
