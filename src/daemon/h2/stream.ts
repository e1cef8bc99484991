/**
 * One server-side HTTP/2 stream: the request's headers and body as they
 * arrive, and the response written back under flow control (RFC 9113 §5,
 * §6.9). Frames a handler writes in one turn of the event loop leave in one
 * socket write: a unary gRPC answer (headers, message, trailers) costs a
 * single syscall.
 *
 * @module
 */

import { concat, ErrorCode, Flag, FrameType, uint32s } from "./frames.ts";

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** Queues a frame for the next socket write. */
  writeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): void;
  /** Queues a header block as HEADERS (plus CONTINUATION frames when it is large). */
  writeHeaders(streamId: number, headers: [string, string][], endStream: boolean): void;
  /** Bytes the connection-level send window allows now, at most `wanted` and one frame. */
  sendable(wanted: number): number;
  /** Takes `bytes` from the connection-level send window. */
  consumeSendWindow(bytes: number): void;
  /** Calls the stream's pump again once the connection window grows. */
  waitForWindow(stream: Http2ServerStream): void;
  /** Gives the peer `bytes` more stream-level window (the handler consumed them). */
  windowUpdate(streamId: number, bytes: number): void;
  /** The stream has ended in both directions (or was reset). */
  streamClosed(stream: Http2ServerStream): void;
}

/** Response bytes queued beyond this make `write()` wait (backpressure for server streams). */
const HIGH_WATER = 64 * 1024;

const RESOLVED = Promise.resolve();

/** Why a stream's signal aborts. */
export class StreamClosedError extends Error {
  /** The RST_STREAM code (CANCEL when the connection went away). */
  readonly code: number;

  /** A stream that ended before its response was complete. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "StreamClosedError";
    this.code = code;
  }
}

/** A request stream, handed to the server's `onStream` once its headers arrived. */
export class Http2ServerStream {
  /** The stream identifier (odd, client-initiated). */
  readonly id: number;
  /** The request headers, pseudo-headers (`:path`, `:method`, …) included; repeated names joined with ", ". */
  readonly headers: Record<string, string>;
  /** The peer's IP address. */
  readonly remoteAddress: string;

  #owner: StreamOwner;
  #sendWindow: number;
  #recvWindow: number;
  #consumedSinceUpdate = 0;
  // Request body
  #chunks: Uint8Array[] = [];
  #remoteEnded = false;
  #wake?: () => void;
  // Response
  #headersSent = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ending?: { trailers?: [string, string][] };
  #localEnded = false;
  #drainWaiters: (() => void)[] = [];
  #closed = false;
  #abort?: AbortController;
  #closeReason?: StreamClosedError;

  /** Created by the connection when a request's header block is complete. */
  constructor(
    owner: StreamOwner,
    init: {
      id: number;
      headers: Record<string, string>;
      remoteAddress: string;
      sendWindow: number;
      recvWindow: number;
      endStream: boolean;
    },
  ) {
    this.#owner = owner;
    this.id = init.id;
    this.headers = init.headers;
    this.remoteAddress = init.remoteAddress;
    this.#sendWindow = init.sendWindow;
    this.#recvWindow = init.recvWindow;
    this.#remoteEnded = init.endStream;
  }

  /** Aborts when the peer resets the stream or the connection ends before the response is complete. */
  get signal(): AbortSignal {
    // Created on first use: most unary calls never ask, and each controller costs.
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#closeReason) this.#abort.abort(this.#closeReason);
    }
    return this.#abort.signal;
  }

  /** True once the response headers were queued. */
  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** True once the stream can carry nothing more: reset, connection gone, or ended both ways. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The request body as it arrives; ends with the request, throws if the stream is reset first. */
  async *body(): AsyncGenerator<Uint8Array> {
    while (true) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#consumed(chunk.length);
        yield chunk;
        continue;
      }
      if (this.#remoteEnded) return;
      if (this.#closeReason) throw this.#closeReason;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * The whole request body. Throws `tooLarge()` as soon as more than `limit`
   * bytes arrived; the rest of the request is then discarded as it comes.
   */
  async readAll(limit: number, tooLarge: () => Error): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (true) {
      if (this.#chunks.length > 0) {
        let taken = 0;
        for (const chunk of this.#chunks) {
          parts.push(chunk);
          taken += chunk.length;
        }
        this.#chunks = [];
        size += taken;
        // Taking the bytes returns their window, so a request larger than the window keeps coming.
        this.#consumed(taken);
      }
      if (size > limit) throw tooLarge();
      if (this.#remoteEnded) break;
      if (this.#closeReason) throw this.#closeReason;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return parts.length === 1 ? parts[0] : concat(...parts);
  }

  /** Sends the response headers; with `endStream`, they are the whole response (gRPC "trailers-only"). */
  respond(headers: [string, string][], endStream = false): void {
    if (this.#closed || this.#headersSent) return;
    this.#headersSent = true;
    this.#owner.writeHeaders(this.id, headers, endStream);
    if (endStream) this.#endedLocally();
  }

  /**
   * Queues response body bytes. Resolves at once while little is queued, else
   * when the peer's flow-control window has taken most of it.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#ending || data.length === 0) return RESOLVED;
    this.#queue.push(data);
    this.#queued += data.length;
    this.pump();
    if (this.#queued <= HIGH_WATER || this.#closed) return RESOLVED;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Ends the response after the queued bytes, with `trailers` in a final HEADERS frame if given. */
  end(trailers?: [string, string][]): void {
    if (this.#closed || this.#ending) return;
    this.#ending = { trailers };
    this.pump();
  }

  /** Resets the stream (RST_STREAM `code`): nothing more is sent or received. */
  reset(code: number = ErrorCode.CANCEL): void {
    if (this.#closed) return;
    this.#owner.writeFrame(FrameType.RST_STREAM, 0, this.id, uint32s(code));
    this.close(new StreamClosedError(code, `the server reset the stream (code ${code})`));
  }

  /** Sends what the flow-control windows allow; the connection calls it again when they grow. */
  pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const chunk = this.#queue[0];
      const size = this.#owner.sendable(Math.min(chunk.length, this.#sendWindow));
      if (size <= 0) {
        this.#owner.waitForWindow(this);
        break;
      }
      if (size === chunk.length) this.#queue.shift();
      else this.#queue[0] = chunk.subarray(size);
      this.#queued -= size;
      this.#sendWindow -= size;
      this.#owner.consumeSendWindow(size);
      const last = this.#queue.length === 0 && this.#ending !== undefined && !this.#ending.trailers;
      this.#owner.writeFrame(FrameType.DATA, last ? Flag.END_STREAM : 0, this.id, chunk.subarray(0, size));
      if (last) return this.#endedLocally();
    }
    if (this.#queued <= HIGH_WATER && this.#drainWaiters.length > 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
    if (this.#queue.length === 0 && this.#ending && !this.#localEnded && !this.#closed) {
      if (this.#ending.trailers) this.#owner.writeHeaders(this.id, this.#ending.trailers, true);
      else this.#owner.writeFrame(FrameType.DATA, Flag.END_STREAM, this.id);
      this.#endedLocally();
    }
  }

  /** The connection hands over request body bytes (already counted against the windows). */
  receiveData(chunk: Uint8Array, endStream: boolean): void {
    if (this.#localEnded || this.#closed) {
      // The response is complete: whatever the client still sends is dropped, and its window returned.
      if (chunk.length > 0 && !endStream) this.#owner.windowUpdate(this.id, chunk.length);
    } else if (chunk.length > 0) {
      this.#recvWindow -= chunk.length;
      this.#chunks.push(chunk);
    }
    if (endStream) this.#remoteEnded = true;
    this.#wakeReader();
    if (this.#remoteEnded && this.#localEnded) this.close();
  }

  /** The peer ended its side without data (END_STREAM on trailers). */
  receiveEnd(): void {
    this.receiveData(new Uint8Array(0), true);
  }

  /** The peer's window for this stream grew by `delta` (negative after a SETTINGS change). */
  adjustSendWindow(delta: number): void {
    this.#sendWindow += delta;
    if (delta > 0) this.pump();
  }

  /** True once the client ended its side (END_STREAM): it may send nothing more but WINDOW_UPDATE, PRIORITY, RST. */
  get remoteEnded(): boolean {
    return this.#remoteEnded;
  }

  /** The send window left for this stream. */
  get sendWindow(): number {
    return this.#sendWindow;
  }

  /** The receive window left; the connection checks the peer stays within it. */
  get receiveWindow(): number {
    return this.#recvWindow;
  }

  /** Ends the stream for good; with a reason, the handler's signal aborts with it. */
  close(reason?: StreamClosedError): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason && !this.#localEnded) {
      this.#closeReason = reason;
      this.#abort?.abort(reason);
    }
    this.#queue = [];
    this.#queued = 0;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
    this.#wakeReader();
    this.#owner.streamClosed(this);
  }

  #endedLocally(): void {
    this.#localEnded = true;
    // Unread request data no longer matters; the client's window for it is returned as it comes.
    if (this.#remoteEnded) this.close();
  }

  #consumed(bytes: number): void {
    if (this.#remoteEnded || bytes === 0) return;
    this.#recvWindow += bytes;
    this.#consumedSinceUpdate += bytes;
    // Batch the updates: one WINDOW_UPDATE per quarter of the window, not one per chunk.
    if (this.#consumedSinceUpdate >= 16_384) {
      this.#owner.windowUpdate(this.id, this.#consumedSinceUpdate);
      this.#consumedSinceUpdate = 0;
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
