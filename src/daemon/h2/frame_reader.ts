/**
 * Reads a client's side of an HTTP/2 connection from a socket: checks the
 * preface, then splits what arrives into frames (RFC 9113 §3.4, §4.1).
 *
 * @module
 */

import { concat, DEFAULT_MAX_FRAME_SIZE, ErrorCode, Http2ConnectionError, PREFACE } from "./frames.ts";

/** What the reader has seen so far, for the connection's deadlines (slow or stalled clients). */
export interface FrameReaderProgress {
  /** The client's preface arrived. */
  prefaceSeen: boolean;
  /** `Date.now()` when bytes of an unfinished frame (or preface) began to wait; 0 when none wait. */
  partialSince: number;
}

/** Called per frame; `payload` is valid only during the call (the read buffer is reused). */
export type FrameHandler = (type: number, flags: number, streamId: number, payload: Uint8Array) => void;

/**
 * Reads frames from `conn` into `onFrame` until the peer closes the socket
 * or `stopped()` holds. Throws {@linkcode Http2ConnectionError} for a bad
 * preface or a frame larger than we accept.
 */
export async function readFrames(
  conn: Deno.Conn,
  onFrame: FrameHandler,
  stopped: () => boolean,
  progress: FrameReaderProgress = { prefaceSeen: false, partialSince: 0 },
): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let pending: Uint8Array = new Uint8Array(0);
  let prefaceSeen = false;
  while (!stopped()) {
    const n = await conn.read(buffer);
    if (n === null) return;
    let data: Uint8Array = buffer.subarray(0, n);
    if (pending.length > 0) data = concat(pending, data);
    let at = 0;
    if (!prefaceSeen) {
      if (data.length < PREFACE.length) {
        pending = data.slice();
        progress.partialSince ||= Date.now();
        continue;
      }
      for (let i = 0; i < PREFACE.length; i++) {
        if (data[i] !== PREFACE[i]) {
          throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "the client did not speak HTTP/2");
        }
      }
      prefaceSeen = progress.prefaceSeen = true;
      at = PREFACE.length;
    }
    while (data.length - at >= 9 && !stopped()) {
      const length = (data[at] << 16) | (data[at + 1] << 8) | data[at + 2];
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
      }
      if (data.length - at < 9 + length) break;
      const streamId = ((data[at + 5] & 0x7f) << 24) | (data[at + 6] << 16) | (data[at + 7] << 8) | data[at + 8];
      onFrame(data[at + 3], data[at + 4], streamId, data.subarray(at + 9, at + 9 + length));
      at += 9 + length;
    }
    // The read buffer is reused: keep a copy of a partial frame.
    pending = at < data.length ? data.slice(at) : new Uint8Array(0);
    // A frame that stays half-sent is one of the deadlines' concerns: when its bytes began to wait.
    if (pending.length === 0) progress.partialSince = 0;
    else if (at > 0 || progress.partialSince === 0) progress.partialSince = Date.now();
  }
}
