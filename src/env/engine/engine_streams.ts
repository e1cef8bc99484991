/**
 * Helpers for the engine's response bodies: streams, JSON lines, ids.
 * @module
 */
import type { Readable } from "node:stream";

/**
 * Iterates a response body (a stream, or a buffer for non-follow calls); destroys it when the consumer stops.
 * `fail` translates an error that cuts the stream.
 */
export async function* readBody<T>(
  body: Readable | Uint8Array,
  signal: AbortSignal | undefined,
  parse: (chunks: AsyncIterable<Uint8Array>) => AsyncIterable<T>,
  fail: (err: unknown) => unknown = (err) => err,
): AsyncGenerator<T> {
  if (body instanceof Uint8Array) {
    yield* parse((async function* () {
      yield body;
    })());
    return;
  }
  try {
    yield* parse(body as AsyncIterable<Uint8Array>);
  } catch (err) {
    // An aborted stream ends quietly: the caller asked for it to stop.
    if (signal?.aborted) return;
    // A stream cut mid-way (the engine stopped or restarted) fails like any other engine call.
    throw fail(err);
  } finally {
    body.destroy();
  }
}

/** Splits a byte stream of newline-separated JSON documents. */
export async function* jsonLines<T>(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") yield JSON.parse(line) as T;
  }
  if (pending.trim() !== "") yield JSON.parse(pending) as T;
}

/** Decodes UTF-8 chunks into one string. */
export function decode(parts: Uint8Array[]): string {
  const decoder = new TextDecoder();
  return parts.map((part) => decoder.decode(part, { stream: true })).join("") + decoder.decode();
}

/** A container id shortened to 12 characters, as `docker ps` shows it; names pass unchanged. */
export function short(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
