/**
 * Demultiplexing of the engine's attach/logs stream format.
 *
 * Without a TTY the engine frames stdout and stderr: an 8-byte header
 * (stream type byte, three zero bytes, big-endian payload size) then the
 * payload. Frames may be split or merged across chunks.
 * @module
 */

/** Which output stream a frame came from. */
export type OutputStream = "stdout" | "stderr";

/** One piece of container output. */
export interface OutputFrame {
  /** The stream the bytes were written to. */
  stream: OutputStream;
  /** The bytes, as written (not necessarily whole lines). */
  data: Uint8Array;
}

const HEADER_SIZE = 8;

/**
 * Splits a multiplexed byte stream into frames; with `tty` true the bytes are
 * passed through as stdout (a TTY container has one unframed stream).
 */
export async function* demuxFrames(
  chunks: AsyncIterable<Uint8Array>,
  options: { tty?: boolean } = {},
): AsyncGenerator<OutputFrame> {
  if (options.tty) {
    for await (const chunk of chunks) yield { stream: "stdout", data: chunk };
    return;
  }
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    pending = concat(pending, chunk);
    while (pending.length >= HEADER_SIZE) {
      const size = new DataView(pending.buffer, pending.byteOffset, HEADER_SIZE)
        .getUint32(4);
      if (pending.length < HEADER_SIZE + size) break;
      const type = pending[0];
      const data = pending.slice(HEADER_SIZE, HEADER_SIZE + size);
      pending = pending.slice(HEADER_SIZE + size);
      // Type 0 is stdin (echoed only with a TTY); 1 stdout; 2 stderr; 3 is the engine's own system error.
      yield { stream: type === 2 || type === 3 ? "stderr" : "stdout", data };
    }
  }
}

/** Splits frames into whole lines per stream (a trailing partial line is flushed at the end). */
export async function* frameLines(
  frames: AsyncIterable<OutputFrame>,
): AsyncGenerator<{ stream: OutputStream; line: string }> {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const partial = { stdout: "", stderr: "" };
  for await (const frame of frames) {
    const text = partial[frame.stream] +
      decoders[frame.stream].decode(frame.data, { stream: true });
    const lines = text.split("\n");
    partial[frame.stream] = lines.pop() ?? "";
    for (const line of lines) {
      yield { stream: frame.stream, line: line.replace(/\r$/, "") };
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const rest = partial[stream] + decoders[stream].decode();
    if (rest !== "") yield { stream, line: rest };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
