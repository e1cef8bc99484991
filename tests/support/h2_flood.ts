/**
 * A hostile HTTP/2 client for the flood tests: sends pre-encoded frames as fast as the socket takes them, reads (or
 * deliberately does not read) the answers, and reports whether the server ended the connection with GOAWAY and which
 * code. Every flood is bounded in frames and in time, and connects to loopback only.
 * @module
 */
import { encodeFrame, Flag, FrameType, PREFACE } from "../../src/daemon/h2/frames.ts";
import { HpackEncoder } from "../../src/daemon/h2/hpack.ts";

/** How a flood ended. */
export interface FloodOutcome {
  /** Frames written before the server closed the connection (or the bound was reached). */
  framesSent: number;
  /** The GOAWAY error code the server sent, if any. */
  goAwayCode?: number;
  /** The server closed the socket. */
  closed: boolean;
}

/** Options of {@linkcode flood}. */
export interface FloodOptions {
  /** The most frames to send. */
  maxFrames: number;
  /** The most time to spend sending, in ms. @default {10000} */
  maxMs?: number;
  /** Read the server's answers (false: a client that never reads). @default {true} */
  read?: boolean;
  /** Frames sent once before the flood (for example a HEADERS frame that opens a stream). */
  prelude?: Uint8Array[];
  /** How long to wait, after sending, for the server to close the connection. @default {5000} */
  waitMs?: number;
}

/** Connects to `port` on 127.0.0.1, sends the preface, then `frame(i)` for i = 0, 1, … within the bounds. */
export async function flood(
  port: number,
  frame: (i: number) => Uint8Array,
  options: FloodOptions,
): Promise<FloodOutcome> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const outcome: FloodOutcome = { framesSent: 0, closed: false };
  const reading = options.read === false ? Promise.resolve() : readUntilClosed(conn, outcome);
  const deadline = Date.now() + (options.maxMs ?? 10_000);
  try {
    await writeAll(conn, PREFACE);
    await writeAll(conn, encodeFrame(FrameType.SETTINGS, 0, 0));
    for (const f of options.prelude ?? []) await writeAll(conn, f);
    // Frames go out in batches of about 64 KiB, so the server sees them as a real flood would arrive.
    while (
      outcome.framesSent < options.maxFrames && Date.now() < deadline && !outcome.closed &&
      outcome.goAwayCode === undefined
    ) {
      const batch: Uint8Array[] = [];
      let size = 0;
      while (size < 65_536 && outcome.framesSent + batch.length < options.maxFrames) {
        const f = frame(outcome.framesSent + batch.length);
        batch.push(f);
        size += f.length;
      }
      const bytes = new Uint8Array(size);
      let at = 0;
      for (const f of batch) {
        bytes.set(f, at);
        at += f.length;
      }
      await writeAll(conn, bytes);
      outcome.framesSent += batch.length;
      // A client that reads lets its reader keep up: while the server drains a closing connection our writes never
      // block, and a reader starved that long loses the GOAWAY to the reset that follows.
      if (options.read !== false) await new Promise((r) => setTimeout(r, 0));
    }
  } catch {
    outcome.closed = true; // the server closed the connection under us
  }
  if (options.read === false) {
    // Now read, to learn how the server ended it.
    await readUntilClosed(conn, outcome, options.waitMs ?? 5_000);
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([reading, new Promise((r) => (timer = setTimeout(r, options.waitMs ?? 5_000)))]);
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch { /* closed already */ }
  await reading;
  return outcome;
}

/** A request's HEADERS frame (`endHeaders` false leaves the block open for CONTINUATION frames). */
export function requestHeaders(streamId: number, path: string, options: { endStream: boolean; endHeaders?: boolean }) {
  const block = new HpackEncoder().encode([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "127.0.0.1"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ]);
  const flags = (options.endHeaders === false ? 0 : Flag.END_HEADERS) | (options.endStream ? Flag.END_STREAM : 0);
  return encodeFrame(FrameType.HEADERS, flags, streamId, block);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

async function readUntilClosed(conn: Deno.Conn, outcome: FloodOutcome, maxMs = 30_000): Promise<void> {
  const buffer = new Uint8Array(256 * 1024);
  let pending = new Uint8Array(0);
  const deadline = Date.now() + maxMs;
  try {
    while (Date.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      // Only the frame headers matter here; keep the tail of a frame cut by the read.
      const data = new Uint8Array(pending.length + n);
      data.set(pending);
      data.set(buffer.subarray(0, n), pending.length);
      let at = 0;
      while (data.length - at >= 9) {
        const length = (data[at] << 16) | (data[at + 1] << 8) | data[at + 2];
        if (data.length - at < 9 + length) break;
        if (data[at + 3] === FrameType.GOAWAY && length >= 8) {
          const p = at + 9 + 4;
          outcome.goAwayCode = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
        }
        at += 9 + length;
      }
      pending = data.slice(at);
    }
  } catch { /* reset by the server */ }
  outcome.closed = true;
}
