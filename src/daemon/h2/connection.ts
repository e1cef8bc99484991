/**
 * One server-side HTTP/2 connection over a Deno socket (RFC 9113): reads
 * frames, keeps the HPACK and flow-control state, opens a
 * {@linkcode Http2ServerStream} per request and writes every frame queued in
 * one turn of the event loop with one socket write.
 *
 * Only what a gRPC and Connect server needs: no server push, no priorities
 * (PRIORITY is read and ignored), no HTTP/1.1 upgrade (clients use prior
 * knowledge, as grpcio and Deno's fetch do on `http://`).
 *
 * @module
 */

import { type HeaderBlock, HeaderBlocks } from "./header_blocks.ts";
import { HpackEncoder } from "./hpack.ts";
import { type FrameReaderProgress, readFrames } from "./frame_reader.ts";
import {
  concat,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  encodeFrame,
  ErrorCode,
  Flag,
  FrameType,
  Http2ConnectionError,
  MAX_WINDOW,
  readUint32,
  Setting,
  settingsPayload,
  uint32s,
  unpad,
} from "./frames.ts";
import { declaredLength, malformedRequest, malformedTrailers } from "./request_headers.ts";
import { Http2ServerStream, StreamClosedError, type StreamOwner } from "./stream.ts";

/** Options of {@linkcode Http2Connection}. */
export interface Http2ConnectionOptions {
  /** Streams the peer may have open at once; more are refused (REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /**
   * Called once per request, when its headers are complete; returns the
   * handler's work, which counts against `maxConcurrentStreams` until it
   * settles, even if the client resets the stream first.
   */
  onStream: (stream: Http2ServerStream) => Promise<unknown> | void;
  /** Hears of connection-level failures (for the debug log). */
  onError: (error: unknown) => void;
}

/** Per-stream receive window we advertise: bounds what one unread request can buffer. */
const STREAM_WINDOW = 256 * 1024;
/** Connection-level receive window, replenished as data arrives. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** Response bytes queued for the socket beyond which streams stop sending until it drains. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Bytes queued for a peer that does not read, beyond which the connection is dropped. */
const MAX_QUEUED = 16 * 1024 * 1024;
/** The HPACK table size every peer starts with (RFC 9113 §6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
/** An HPACK dynamic table size update to 0 (RFC 7541 §6.3). */
const TABLE_SIZE_ZERO = new Uint8Array([0x20]);
/** Largest request header list (decoded), as advertised. */
const MAX_HEADER_LIST_SIZE = 64 * 1024;
/**
 * Frames that move no request forward (PING, SETTINGS, PRIORITY, RST_STREAM, WINDOW_UPDATE, GOAWAY, CONTINUATION,
 * empty DATA, unknown types, refused streams) a client may send beyond the answers it gets: each response frame we
 * send earns one back. Past it the connection ends with ENHANCE_YOUR_CALM: floods of any of these frames cost us a
 * bounded amount (the PING, SETTINGS, reset and empty-frame floods of CVE-2019-9512/9515/9518 and CVE-2023-44487).
 * Counted in frames, not per second, so the guard does not depend on the machine's speed.
 */
export const MAX_OVERHEAD_FRAMES = 10_000;
/** Time a client has to send its preface, and a started frame or header block to arrive whole (slowloris). */
export const READ_TIMEOUT_MS = 10_000;
/** A connection with no open stream and no frame for this long is closed (GOAWAY, NO_ERROR); clients reconnect. */
export const IDLE_TIMEOUT_MS = 5 * 60_000;
/** How often the deadlines are checked. */
const DEADLINE_TICK_MS = 1_000;

/** A client connection; {@linkcode run} serves it until it closes. */
export class Http2Connection implements StreamOwner {
  #conn: Deno.Conn;
  #options: Http2ConnectionOptions;
  #remoteAddress: string;
  #headerBlocks = new HeaderBlocks(MAX_HEADER_LIST_SIZE);
  #encoder = new HpackEncoder();
  #streams = new Map<number, Http2ServerStream>();
  #lastStreamId = 0;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #sendWindow = DEFAULT_WINDOW;
  #received = 0;
  #waiting = new Set<Http2ServerStream>();
  /** Handlers still running for streams that already closed (the client reset them). */
  #orphans = 0;
  #running = new Set<Http2ServerStream>();
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #flushing = false;
  #goingAway = false;
  #closed = false;
  #announceTableSize = false;
  #idle?: () => void;
  #overhead = 0;
  #progress: FrameReaderProgress = { prefaceSeen: false, partialSince: 0 };
  #openedAt = Date.now();
  #lastFrameAt = Date.now();
  #deadlines?: ReturnType<typeof setInterval>;
  /** Streams we reset or refused lately: their late frames are ignored, not errors (RFC 9113 §5.1, "closed"). */
  #resetByUs = new Set<number>();
  /** Bodies of open requests that declared a `content-length`. */
  #bodyLengths = new WeakMap<Http2ServerStream, { declared: number; received: number }>();

  /** Wraps an accepted socket. */
  constructor(conn: Deno.Conn, options: Http2ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.#remoteAddress = addr.hostname ?? "";
  }

  /** Serves the connection until the peer leaves or a protocol error ends it. */
  async run(): Promise<void> {
    (this.#conn as Deno.TcpConn).setNoDelay?.(true);
    this.writeFrame(
      FrameType.SETTINGS,
      0,
      0,
      settingsPayload([
        [Setting.MAX_CONCURRENT_STREAMS, this.#options.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_SIZE],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    this.writeFrame(FrameType.WINDOW_UPDATE, 0, 0, uint32s(CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.#deadlines = setInterval(() => this.#checkDeadlines(), DEADLINE_TICK_MS);
    try {
      await readFrames(
        this.#conn,
        (type, flags, streamId, payload) => this.#onFrame(type, flags, streamId, payload),
        () => this.#closed,
        this.#progress,
      );
    } catch (error) {
      if (error instanceof Http2ConnectionError) this.#goAway(error.code, error.message);
      else if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset)) {
        this.#options.onError(error);
      }
    } finally {
      this.close();
    }
  }

  /**
   * Stops taking new streams (GOAWAY, NO_ERROR) and resolves once the open
   * ones have ended; {@linkcode close} ends the rest.
   */
  drain(): Promise<void> {
    if (!this.#goingAway && !this.#closed) {
      this.#goingAway = true;
      this.writeFrame(FrameType.GOAWAY, 0, 0, uint32s(this.#lastStreamId, ErrorCode.NO_ERROR));
    }
    if (this.#streams.size === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  /**
   * Ends every open stream (their signals abort) and closes the socket once
   * queued frames are out; with `now`, at once (the peer does not read).
   */
  close(now = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#deadlines);
    const gone = new StreamClosedError(ErrorCode.CANCEL, "the connection closed");
    for (const stream of [...this.#streams.values()]) stream.close(gone);
    this.#idle?.();
    if (now) {
      this.#out = [];
      try {
        this.#conn.close(); // a write still waiting on the socket fails and ends #flush
      } catch { /* closed already */ }
    } else if (!this.#flushing) this.#closeSocket();
  }

  // StreamOwner

  /** Queues a frame for the next socket write. */
  writeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): void {
    if (this.#closed) return;
    if (type === FrameType.RST_STREAM) this.#rememberReset(streamId);
    // An answer to a request earns the client one frame of overhead back.
    if (streamId !== 0 && this.#overhead > 0 && (type === FrameType.DATA || type === FrameType.HEADERS)) {
      this.#overhead--;
    }
    const frame = encodeFrame(type, flags, streamId, payload);
    this.#out.push(frame);
    this.#outBytes += frame.length;
    if (this.#outBytes > MAX_QUEUED) {
      // Stream data waits for the socket (sendable), so only a peer that sends frames needing an
      // answer (PING, SETTINGS) and never reads the answers gets here.
      this.#options.onError(new Http2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "the client does not read"));
      return this.close(true);
    }
    if (!this.#flushing) {
      this.#flushing = true;
      // After what is already queued: the frames a handler writes in one go, and those of the other
      // handlers a group commit released at once, leave in one write.
      queueMicrotask(() => this.#flush());
    }
  }

  /** Queues a header block, split into CONTINUATION frames past the peer's frame size. */
  writeHeaders(streamId: number, headers: [string, string][], endStream: boolean): void {
    let block = this.#encoder.encode(headers);
    if (this.#announceTableSize) {
      // The peer shrank its decoder's table: the next block must start with a size update
      // (RFC 7541 §4.2). Ours is 0; the encoder never uses the table anyway.
      this.#announceTableSize = false;
      block = concat(TABLE_SIZE_ZERO, block);
    }
    const max = this.#peerMaxFrameSize;
    const end = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) return this.writeFrame(FrameType.HEADERS, end | Flag.END_HEADERS, streamId, block);
    for (let at = 0; at < block.length; at += max) {
      const last = at + max >= block.length;
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (at === 0 ? end : 0) | (last ? Flag.END_HEADERS : 0);
      this.writeFrame(type, flags, streamId, block.subarray(at, at + max));
    }
  }

  /** Bytes the connection-level window allows now, at most `wanted` and one frame. */
  sendable(wanted: number): number {
    // Backpressure from the socket: a peer that grants windows but reads slowly holds the stream.
    if (this.#outBytes >= SOCKET_HIGH_WATER) return 0;
    return Math.min(wanted, this.#sendWindow, this.#peerMaxFrameSize);
  }

  /** Takes `bytes` from the connection-level send window. */
  consumeSendWindow(bytes: number): void {
    this.#sendWindow -= bytes;
  }

  /** Pumps `stream` again when the connection window grows. */
  waitForWindow(stream: Http2ServerStream): void {
    this.#waiting.add(stream);
  }

  /** Returns `bytes` of stream-level window to the peer. */
  windowUpdate(streamId: number, bytes: number): void {
    if (bytes > 0) this.writeFrame(FrameType.WINDOW_UPDATE, 0, streamId, uint32s(bytes));
  }

  /** Forgets a stream that ended. */
  streamClosed(stream: Http2ServerStream): void {
    this.#streams.delete(stream.id);
    if (this.#running.has(stream)) this.#orphans++;
    this.#waiting.delete(stream);
    if (this.#streams.size === 0 && this.#idle) {
      this.#idle();
      this.#idle = undefined;
    }
  }

  // Reading

  #onFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    this.#lastFrameAt = Date.now();
    if (this.#headerBlocks.open && type !== FrameType.CONTINUATION) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "a header block was interrupted");
    }
    // HEADERS open requests and DATA carries them (an empty DATA frame is counted in #onData).
    if (type !== FrameType.HEADERS && type !== FrameType.DATA) this.#spend();
    switch (type) {
      case FrameType.DATA:
        return this.#onData(flags, streamId, payload);
      case FrameType.HEADERS: {
        const block = this.#headerBlocks.headers(flags, streamId, payload);
        return block && this.#onHeaderBlock(block);
      }
      case FrameType.CONTINUATION: {
        const block = this.#headerBlocks.continuation(flags, streamId, payload);
        return block && this.#onHeaderBlock(block);
      }
      case FrameType.RST_STREAM:
        if (payload.length !== 4) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM size");
        this.#requireActiveId(streamId, "RST_STREAM");
        return this.#streams.get(streamId)?.close(
          new StreamClosedError(readUint32(payload, 0), `the client reset the stream (code ${readUint32(payload, 0)})`),
        );
      case FrameType.SETTINGS:
        return this.#onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
        if (payload.length !== 8) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING size");
        if (!(flags & Flag.ACK)) this.writeFrame(FrameType.PING, Flag.ACK, 0, payload);
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
        this.#goingAway = true;
        return;
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(streamId, payload);
      case FrameType.PRIORITY:
        return this.#onPriority(streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "clients cannot push");
      default:
        return; // Unknown frame types are ignored (RFC 9113 §5.5).
    }
  }

  /** PRIORITY is read for its errors only: we serve streams in arrival order (RFC 9113 §5.3.2 lets us). */
  #onPriority(streamId: number, payload: Uint8Array): void {
    if (streamId === 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
    if (payload.length !== 5) return this.#streamError(streamId, ErrorCode.FRAME_SIZE_ERROR);
    if ((readUint32(payload, 0) & 0x7fffffff) === streamId) this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
  }

  /** A frame that may not open a stream: one naming an idle stream is a connection error (RFC 9113 §5.1). */
  #requireActiveId(streamId: number, frame: string): void {
    if (streamId === 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${frame} on stream 0`);
    if (streamId > this.#lastStreamId || streamId % 2 === 0) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${frame} on idle stream ${streamId}`);
    }
  }

  /** Ends one stream with RST_STREAM `code` (a stream error, RFC 9113 §5.4.2); the connection goes on. */
  #streamError(streamId: number, code: number): void {
    const stream = this.#streams.get(streamId);
    if (stream) return stream.reset(code);
    this.writeFrame(FrameType.RST_STREAM, 0, streamId, uint32s(code));
  }

  #rememberReset(streamId: number): void {
    this.#resetByUs.add(streamId);
    // Bounded: the oldest go first (a Set iterates in insertion order).
    if (this.#resetByUs.size > 1024) this.#resetByUs.delete(this.#resetByUs.values().next().value!);
  }

  #onData(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId === 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    // The whole frame counts against the windows, padding included (RFC 9113 §6.9.1).
    this.#received += payload.length;
    if (this.#received >= CONNECTION_WINDOW / 4) {
      this.writeFrame(FrameType.WINDOW_UPDATE, 0, 0, uint32s(this.#received));
      this.#received = 0;
    }
    const stream = this.#streams.get(streamId);
    if (!stream) {
      if (streamId > this.#lastStreamId || streamId % 2 === 0) {
        throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on idle stream");
      }
      this.#spend();
      // A stream we refused or reset: its late frames are dropped (RFC 9113 §5.1). One the client closed itself
      // may carry nothing more.
      if (!this.#resetByUs.has(streamId)) this.#streamError(streamId, ErrorCode.STREAM_CLOSED);
      return;
    }
    if (stream.remoteEnded) return this.#streamError(streamId, ErrorCode.STREAM_CLOSED);
    const body = unpad(flags, payload);
    // Empty (or padding-only) DATA moves nothing forward unless it ends the request.
    if (body.length === 0 && !(flags & Flag.END_STREAM)) this.#spend();
    if (payload.length > stream.receiveWindow) {
      this.writeFrame(FrameType.RST_STREAM, 0, streamId, uint32s(ErrorCode.FLOW_CONTROL_ERROR));
      return stream.close(new StreamClosedError(ErrorCode.FLOW_CONTROL_ERROR, "the client overran its window"));
    }
    if (!this.#lengthMatches(stream, body.length, (flags & Flag.END_STREAM) !== 0)) {
      return stream.reset(ErrorCode.PROTOCOL_ERROR);
    }
    // Padding is returned at once; the body when the handler consumes it.
    if (payload.length > body.length) this.windowUpdate(streamId, payload.length - body.length);
    stream.receiveData(body.slice(), (flags & Flag.END_STREAM) !== 0);
  }

  #onHeaderBlock({ streamId, endStream, fields, dependsOnItself }: HeaderBlock): void {
    const existing = this.#streams.get(streamId);
    if (existing) {
      // Request trailers: gRPC clients send none we use; they end the request.
      if (existing.remoteEnded) return this.#streamError(streamId, ErrorCode.STREAM_CLOSED);
      if (!endStream) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM");
      if (malformedTrailers(fields) || dependsOnItself) return this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
      if (!this.#lengthMatches(existing, 0, true)) return this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
      return existing.receiveEnd();
    }
    if (streamId <= this.#lastStreamId) {
      throw new Http2ConnectionError(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
    }
    this.#lastStreamId = streamId;
    if (dependsOnItself || malformedRequest(fields)) {
      this.#spend();
      return this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
    }
    // Past the limit we advertised the client is at fault (PROTOCOL_ERROR, RFC 9113 §5.1.2). Handlers of streams the
    // client already reset still count, though it cannot know: resetting streams as fast as they open ("rapid reset",
    // CVE-2023-44487) cannot pile up work beyond the limit, and the client may retry those (REFUSED_STREAM).
    const limit = this.#options.maxConcurrentStreams;
    if (this.#goingAway || this.#streams.size >= limit || this.#streams.size + this.#orphans >= limit) {
      this.#spend();
      const code = this.#goingAway || this.#streams.size < limit ? ErrorCode.REFUSED_STREAM : ErrorCode.PROTOCOL_ERROR;
      return this.writeFrame(FrameType.RST_STREAM, 0, streamId, uint32s(code));
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of fields) headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    const stream = new Http2ServerStream(this, {
      id: streamId,
      headers,
      remoteAddress: this.#remoteAddress,
      sendWindow: this.#peerInitialWindow,
      recvWindow: STREAM_WINDOW,
      endStream,
    });
    this.#streams.set(streamId, stream);
    const declared = declaredLength(headers);
    if (declared !== undefined) {
      this.#bodyLengths.set(stream, { declared, received: 0 });
      if (!this.#lengthMatches(stream, 0, endStream)) return stream.reset(ErrorCode.PROTOCOL_ERROR);
    }
    let work: Promise<unknown> | void = undefined;
    try {
      work = this.#options.onStream(stream);
    } catch (error) {
      this.#options.onError(error);
      stream.reset(ErrorCode.INTERNAL_ERROR);
    }
    if (work && !stream.closed) {
      this.#running.add(stream);
      work.catch(() => {}).finally(() => {
        this.#running.delete(stream);
        if (stream.closed) this.#orphans--;
      });
    }
  }

  #onSettings(flags: number, streamId: number, payload: Uint8Array): void {
    if (streamId !== 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) {
        throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      }
      return;
    }
    if (payload.length % 6 !== 0) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS size");
    for (let at = 0; at < payload.length; at += 6) {
      const id = (payload[at] << 8) | payload[at + 1];
      const value = readUint32(payload, at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new Http2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window too large");
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const stream of this.#streams.values()) stream.adjustSendWindow(delta);
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
          throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `MAX_FRAME_SIZE ${value}`);
        }
        this.#peerMaxFrameSize = value;
      } else if (id === Setting.ENABLE_PUSH && value > 1) {
        throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `ENABLE_PUSH ${value}`);
      } else if (id === Setting.HEADER_TABLE_SIZE && value < DEFAULT_TABLE_SIZE) this.#announceTableSize = true;
    }
    this.writeFrame(FrameType.SETTINGS, Flag.ACK, 0);
  }

  #onWindowUpdate(streamId: number, payload: Uint8Array): void {
    if (payload.length !== 4) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    const increment = readUint32(payload, 0) & 0x7fffffff;
    if (streamId !== 0) {
      this.#requireActiveId(streamId, "WINDOW_UPDATE");
      const stream = this.#streams.get(streamId);
      if (increment === 0) return this.#streamError(streamId, ErrorCode.PROTOCOL_ERROR);
      if (stream && stream.sendWindow + increment > MAX_WINDOW) {
        return this.#streamError(streamId, ErrorCode.FLOW_CONTROL_ERROR);
      }
      return stream?.adjustSendWindow(increment);
    }
    if (increment === 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    this.#sendWindow += increment;
    if (this.#sendWindow > MAX_WINDOW) throw new Http2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow");
    this.#pumpWaiting();
  }

  /**
   * Adds `bytes` to a request body that declared its `content-length` and checks it: never above the declared length,
   * and equal to it at the end (a malformed request otherwise, RFC 9113 §8.1.1).
   */
  #lengthMatches(stream: Http2ServerStream, bytes: number, ended: boolean): boolean {
    const length = this.#bodyLengths.get(stream);
    if (!length) return true;
    length.received += bytes;
    if (!(length.received <= length.declared) || (ended && length.received !== length.declared)) return false;
    if (ended) this.#bodyLengths.delete(stream);
    return true;
  }

  /** Counts one frame of overhead; past the budget the connection ends. */
  #spend(): void {
    if (++this.#overhead > MAX_OVERHEAD_FRAMES) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `over ${MAX_OVERHEAD_FRAMES} frames that carry no request (a flood)`,
      );
    }
  }

  /** Ends connections that stall: no preface, a frame or header block left half-sent, or idle for long. */
  #checkDeadlines(): void {
    const now = Date.now();
    let stalled: string | undefined;
    if (!this.#progress.prefaceSeen && now - this.#openedAt > READ_TIMEOUT_MS) stalled = "no preface";
    else if (this.#progress.partialSince > 0 && now - this.#progress.partialSince > READ_TIMEOUT_MS) {
      stalled = "a frame left half-sent";
    } else if (this.#headerBlocks.openSince > 0 && now - this.#headerBlocks.openSince > READ_TIMEOUT_MS) {
      stalled = "a header block left unfinished";
    }
    if (stalled) {
      this.#goAway(ErrorCode.PROTOCOL_ERROR, `${stalled} within ${READ_TIMEOUT_MS} ms`);
      return this.close();
    }
    if (this.#streams.size === 0 && this.#running.size === 0 && now - this.#lastFrameAt > IDLE_TIMEOUT_MS) {
      this.writeFrame(FrameType.GOAWAY, 0, 0, uint32s(this.#lastStreamId, ErrorCode.NO_ERROR));
      this.close();
    }
  }

  // Writing

  async #flush(): Promise<void> {
    try {
      while (this.#out.length > 0) {
        const bytes = this.#out.length === 1 ? this.#out[0] : concat(...this.#out);
        this.#out = [];
        for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
        this.#outBytes -= bytes.length;
        if (this.#waiting.size > 0 && this.#outBytes < SOCKET_HIGH_WATER) this.#pumpWaiting();
      }
    } catch {
      // The peer is gone: the read loop sees it too and closes the streams.
      this.#out = [];
      this.close();
    } finally {
      this.#flushing = false;
      if (this.#closed) this.#closeSocket();
    }
  }

  #pumpWaiting(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const stream of waiting) stream.pump();
  }

  #goAway(code: number, message: string): void {
    this.#options.onError(new Http2ConnectionError(code, message));
    if (code !== ErrorCode.NO_ERROR) {
      // The connection ends for cause: answers still queued (a flood's PING ACKs, say) are dropped, so the peer reads
      // the GOAWAY next instead of after megabytes of them, before the lingering close gives up on it.
      for (const bytes of this.#out) this.#outBytes -= bytes.length;
      this.#out = [];
    }
    this.writeFrame(FrameType.GOAWAY, 0, 0, uint32s(this.#lastStreamId, code));
  }

  #closeSocket(): void {
    const conn = this.#conn;
    const rest = this.#out;
    this.#out = [];
    const finish = async () => {
      try {
        for (const bytes of rest) for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        // A lingering close: shut our side, then read and drop what the peer still sends for a moment. Closing at
        // once while it writes would answer with a TCP reset, which discards our last frames (the GOAWAY saying
        // why) before the peer reads them.
        await (conn as Deno.TcpConn).closeWrite?.();
        await drain(conn, LINGER_MS, LINGER_BYTES);
      } catch { /* gone */ }
      try {
        conn.close();
      } catch { /* closed already */ }
    };
    void finish();
  }
}

/** How long a closing connection keeps reading (and dropping) what the peer still sends. */
const LINGER_MS = 1000;
/** The most bytes a closing connection reads before it closes regardless. */
const LINGER_BYTES = 4 * 1024 * 1024;

/** Reads and drops from `conn` until the peer closes, `ms` pass or `maxBytes` arrived. */
async function drain(conn: Deno.Conn, ms: number, maxBytes: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  const deadline = Date.now() + ms;
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    while (Date.now() < deadline && total < maxBytes) {
      // A read left pending by the timeout fails when the socket closes: that rejection is expected, not news.
      const n = await Promise.race([conn.read(buffer).catch(() => null), timeout]);
      if (n === null) return;
      total += n;
    }
  } finally {
    clearTimeout(timer);
  }
}
