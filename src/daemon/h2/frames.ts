/**
 * HTTP/2 wire constants (RFC 9113 §6, §7, §11) and the frame writer.
 *
 * @module
 */

/** Frame types (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags; END_STREAM and ACK share a bit on different frame types. */
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** What every client sends first (RFC 9113 §3.4). */
export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** The frame size every peer must accept, and the largest we accept. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** The initial flow-control window of a connection and of each stream. */
export const DEFAULT_WINDOW = 65_535;

/** The largest flow-control window (2^31 - 1). */
export const MAX_WINDOW = 0x7fff_ffff;

/** A connection-level failure: the connection ends with GOAWAY carrying `code`. */
export class Http2ConnectionError extends Error {
  /** An {@linkcode ErrorCode}. */
  readonly code: number;

  /** An error of type `code` with a message for the log. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "Http2ConnectionError";
    this.code = code;
  }
}

/** Serializes one frame: the 9-byte header, then the payload. */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Uint8Array {
  const length = payload?.length ?? 0;
  const out = new Uint8Array(9 + length);
  out[0] = (length >>> 16) & 0xff;
  out[1] = (length >>> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = (streamId >>> 24) & 0x7f;
  out[6] = (streamId >>> 16) & 0xff;
  out[7] = (streamId >>> 8) & 0xff;
  out[8] = streamId & 0xff;
  if (payload) out.set(payload, 9);
  return out;
}

/** A payload of 32-bit big-endian words (RST_STREAM, WINDOW_UPDATE, GOAWAY). */
export function uint32s(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0));
  return out;
}

/** A SETTINGS payload from identifier/value pairs. */
export function settingsPayload(settings: [number, number][]): Uint8Array {
  const out = new Uint8Array(settings.length * 6);
  const view = new DataView(out.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value >>> 0);
  });
  return out;
}

/** The 32-bit big-endian number at `at`. */
export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** The parts joined into one array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A DATA or HEADERS payload without its padding (RFC 9113 §6.1). */
export function unpad(flags: number, payload: Uint8Array): Uint8Array {
  if (!(flags & Flag.PADDED)) return payload;
  const pad = payload[0];
  if (payload.length === 0 || pad >= payload.length) {
    throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding longer than the frame");
  }
  return payload.subarray(1, payload.length - pad);
}
