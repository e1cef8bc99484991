/**
 * Assembles request header blocks from HEADERS and CONTINUATION frames and
 * decodes them with the connection's HPACK state (RFC 9113 §4.3, §6.2,
 * §6.10).
 *
 * @module
 */

import { HpackDecoder, HpackError } from "./hpack.ts";
import { concat, ErrorCode, Flag, Http2ConnectionError, unpad } from "./frames.ts";

/**
 * Frames one header block may span. A block as large as we accept (twice the header list size) fits in 8 frames of
 * the default size; clients that split more finely than 1 KiB a frame are not worth serving.
 */
export const MAX_BLOCK_FRAMES = 128;

/** A complete, decoded header block. */
export interface HeaderBlock {
  streamId: number;
  /** The HEADERS frame carried END_STREAM. */
  endStream: boolean;
  /** Name/value pairs in order. */
  fields: [string, string][];
  /** The HEADERS frame's priority names the stream itself as its parent (a stream error, RFC 9113 §5.3.1). */
  dependsOnItself: boolean;
}

/** The header blocks of one connection, in arrival order. */
export class HeaderBlocks {
  #decoder: HpackDecoder;
  #maxBlockBytes: number;
  #open?: {
    streamId: number;
    endStream: boolean;
    parts: Uint8Array[];
    size: number;
    frames: number;
    since: number;
    dependsOnItself: boolean;
  };

  /** Blocks decode to at most `maxHeaderListSize` bytes and arrive in at most twice that. */
  constructor(maxHeaderListSize: number) {
    this.#decoder = new HpackDecoder({ maxHeaderListSize });
    this.#maxBlockBytes = 2 * maxHeaderListSize;
  }

  /** True while a block waits for CONTINUATION frames (no other frame may come between). */
  get open(): boolean {
    return this.#open !== undefined;
  }

  /** `Date.now()` when the block still waiting for CONTINUATION frames began; 0 when none is open. */
  get openSince(): number {
    return this.#open?.since ?? 0;
  }

  /** A HEADERS frame: returns the block when it is complete. */
  headers(flags: number, streamId: number, payload: Uint8Array): HeaderBlock | undefined {
    if (streamId === 0 || streamId % 2 === 0) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}`);
    }
    let fragment = unpad(flags, payload);
    let dependsOnItself = false;
    if (flags & Flag.PRIORITY) {
      if (fragment.length < 5) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS priority cut short");
      const parent = ((fragment[0] & 0x7f) << 24) | (fragment[1] << 16) | (fragment[2] << 8) | fragment[3];
      dependsOnItself = parent === streamId;
      fragment = fragment.subarray(5);
    }
    this.#open = {
      streamId,
      endStream: (flags & Flag.END_STREAM) !== 0,
      parts: [fragment.slice()],
      size: fragment.length,
      frames: 1,
      since: Date.now(),
      dependsOnItself,
    };
    return flags & Flag.END_HEADERS ? this.#finish() : undefined;
  }

  /** A CONTINUATION frame: returns the block when it is complete. */
  continuation(flags: number, streamId: number, payload: Uint8Array): HeaderBlock | undefined {
    const open = this.#open;
    if (!open || open.streamId !== streamId) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    }
    // Bounded in bytes and in frames: a header block that never ends (CONTINUATION flood, also of empty frames,
    // CVE-2024-27316) would otherwise grow without limit.
    if (++open.frames > MAX_BLOCK_FRAMES) {
      throw new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block of over ${MAX_BLOCK_FRAMES} frames`);
    }
    if (payload.length > 0) open.parts.push(payload.slice());
    open.size += payload.length;
    if (open.size > this.#maxBlockBytes) {
      throw new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
    return flags & Flag.END_HEADERS ? this.#finish() : undefined;
  }

  #finish(): HeaderBlock {
    const { streamId, endStream, parts, dependsOnItself } = this.#open!;
    this.#open = undefined;
    try {
      // Always decoded, even for a stream that is refused: the HPACK table must stay in step.
      const fields = this.#decoder.decode(parts.length === 1 ? parts[0] : concat(...parts));
      return { streamId, endStream, fields, dependsOnItself };
    } catch (error) {
      if (error instanceof HpackError) throw new Http2ConnectionError(ErrorCode.COMPRESSION_ERROR, error.message);
      throw error;
    }
  }
}
