import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { encodeFrame, ErrorCode, Flag, FrameType, PREFACE } from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import { type Http2Server, serveHttp2 } from "./server.ts";
import type { Http2ServerStream } from "./stream.ts";

/** Serves `onStream` on a free loopback port until disposed. */
function startServer(onStream: (stream: Http2ServerStream) => void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const errors: unknown[] = [];
  const server: Http2Server = serveHttp2(listener, { onStream, onError: (e) => errors.push(e) });
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    port: listener.addr.port,
    server,
    errors,
    [Symbol.asyncDispose]: () => server.close(1000),
  };
}

/** Echoes the request body back with its length in a header and a trailer. */
async function echo(stream: Http2ServerStream): Promise<void> {
  const body = await stream.readAll(64 * 1024 * 1024, () => new Error("too large"));
  stream.respond([[":status", "200"], ["x-request-bytes", String(body.length)]]);
  // In pieces, so flow control splits and queues them.
  for (let at = 0; at < body.length; at += 100_000) await stream.write(body.subarray(at, at + 100_000));
  stream.end([["x-done", "yes"]]);
}

Deno.test("serveHttp2() moves 3 MiB each way with Deno's fetch over h2c, under flow control", async () => {
  await using h2 = startServer((stream) => void echo(stream));
  using client = Deno.createHttpClient({ http1: false, http2: true });
  const body = crypto.getRandomValues(new Uint8Array(65_536));
  const big = new Uint8Array(3 * 1024 * 1024);
  for (let at = 0; at < big.length; at += body.length) big.set(body, at);
  const response = await fetch(`${h2.url}/echo`, { method: "POST", body: big, client });
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("x-request-bytes"), String(big.length));
  const back = new Uint8Array(await response.arrayBuffer());
  assertEquals(back.length, big.length);
  assert(back.every((byte, i) => byte === big[i]), "the echoed bytes differ");
  assertEquals(h2.errors, []);
});

Deno.test("serveHttp2() serves 300 concurrent requests on one connection", async () => {
  await using h2 = startServer((stream) => void echo(stream));
  using client = Deno.createHttpClient({ http1: false, http2: true });
  const answers = await Promise.all(
    Array.from({ length: 300 }, async (_, i) => {
      const response = await fetch(`${h2.url}/n/${i}`, { method: "POST", body: `request ${i}`, client });
      return await response.text();
    }),
  );
  answers.forEach((text, i) => assertEquals(text, `request ${i}`));
  assertEquals(h2.server.connections, 1);
});

Deno.test("serveHttp2() answers PING, ends a connection that does not speak HTTP/2, and rejects oversized frames", async () => {
  await using h2 = startServer((stream) => void echo(stream));

  await using ping = await RawClient.connect(h2.port);
  ping.send(FrameType.PING, 0, 0, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  const pong = await ping.until((f) => f.type === FrameType.PING);
  assertEquals(pong.flags, Flag.ACK);
  assertEquals([...pong.payload], [1, 2, 3, 4, 5, 6, 7, 8]);

  await using http1 = await RawClient.connect(h2.port, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const away = await http1.until((f) => f.type === FrameType.GOAWAY);
  assertEquals(readUint32(away.payload, 4), ErrorCode.PROTOCOL_ERROR);
  assertEquals(await http1.closed(), true);

  await using big = await RawClient.connect(h2.port);
  big.send(FrameType.DATA, 0, 1, new Uint8Array(20_000));
  const tooBig = await big.until((f) => f.type === FrameType.GOAWAY);
  assertEquals(readUint32(tooBig.payload, 4), ErrorCode.FRAME_SIZE_ERROR);
});

Deno.test("serveHttp2() aborts a handler's signal when the client resets its stream", async () => {
  let aborted: (reason: unknown) => void;
  const abortedWith = new Promise((resolve) => (aborted = resolve));
  await using h2 = startServer((stream) => {
    stream.signal.addEventListener("abort", () => aborted(stream.signal.reason));
    stream.respond([[":status", "200"]]);
  });
  await using client = await RawClient.connect(h2.port);
  client.request(1, "/slow", false);
  await client.until((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  client.send(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.CANCEL));
  const reason = await abortedWith as { code: number };
  assertEquals(reason.code, ErrorCode.CANCEL);
});

Deno.test("Http2Server.close() sends GOAWAY, lets an open stream finish, then closes", async () => {
  let finish!: () => void;
  const h2 = startServer((stream) => {
    stream.respond([[":status", "200"]]);
    finish = () => stream.end([["grpc-status", "0"]]);
  });
  await using client = await RawClient.connect(h2.port);
  client.request(1, "/open", true);
  await client.until((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  const closing = h2.server.close(5000);
  const away = await client.until((f) => f.type === FrameType.GOAWAY);
  assertEquals(readUint32(away.payload, 0), 1, "GOAWAY names the last stream it will serve");
  finish();
  const trailers = await client.until((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
  assertEquals(trailers.streamId, 1);
  await closing;
  assertEquals(await client.closed(), true);
});

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** A bare HTTP/2 client on a socket: sends frames as written, reads frames as they come. */
class RawClient {
  #conn: Deno.Conn;
  #frames: Frame[] = [];
  #ended = false;
  #wake?: () => void;
  #reading: Promise<void>;
  #writing: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  static async connect(port: number, preface: Uint8Array = PREFACE): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const client = new RawClient(conn);
    await conn.write(preface);
    if (preface === PREFACE) client.send(FrameType.SETTINGS, 0, 0);
    return client;
  }

  /** Queues a frame; frames leave in order, each written whole (concurrent writes could interleave partial ones). */
  send(type: number, flags: number, streamId: number, payload?: Uint8Array): void {
    const frame = encodeFrame(type, flags, streamId, payload);
    this.#writing = this.#writing.then(async () => {
      for (let at = 0; at < frame.length;) at += await this.#conn.write(frame.subarray(at));
    }).catch(() => {});
  }

  request(streamId: number, path: string, endStream: boolean, endHeaders = true): void {
    const block = new HpackEncoder().encode([
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", "localhost"],
    ]);
    const flags = (endHeaders ? Flag.END_HEADERS : 0) | (endStream ? Flag.END_STREAM : 0);
    this.send(FrameType.HEADERS, flags, streamId, block);
  }

  /** The first frame (since the last match) that `match` accepts; fails after 30 s rather than hang. */
  async until(match: (frame: Frame) => boolean): Promise<Frame> {
    const deadline = Date.now() + 30_000;
    while (true) {
      const index = this.#frames.findIndex(match);
      if (index >= 0) return this.#frames.splice(0, index + 1)[index];
      if (this.#ended) throw new Error("the connection ended before the awaited frame");
      if (Date.now() > deadline) throw new Error("the awaited frame did not come within 30 s");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, 1000);
      });
      clearTimeout(timer);
    }
  }

  /** True once the server closed the socket. */
  async closed(): Promise<boolean> {
    await this.#reading;
    return this.#ended;
  }

  async #read(): Promise<void> {
    let data = new Uint8Array(0);
    const buffer = new Uint8Array(65_536);
    try {
      while (true) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const joined = new Uint8Array(data.length + n);
        joined.set(data);
        joined.set(buffer.subarray(0, n), data.length);
        data = joined;
        while (data.length >= 9) {
          const length = (data[0] << 16) | (data[1] << 8) | data[2];
          if (data.length < 9 + length) break;
          this.#frames.push({
            type: data[3],
            flags: data[4],
            streamId: readUint32(data, 5) & 0x7fffffff,
            payload: data.slice(9, 9 + length),
          });
          data = data.slice(9 + length);
        }
        this.#wake?.();
      }
    } catch { /* reset */ }
    this.#ended = true;
    this.#wake?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* closed by the server */ }
    await this.#reading;
    await this.#writing;
  }
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function uint32(value: number): Uint8Array {
  return new Uint8Array([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

Deno.test("serveHttp2() ends a connection whose header block never ends (CONTINUATION flood)", async () => {
  await using h2 = startServer((stream) => void echo(stream));
  await using client = await RawClient.connect(h2.port);
  client.request(1, "/x", true, false);
  const chunk = new Uint8Array(16_000).fill(0x40);
  for (let i = 0; i < 20; i++) client.send(FrameType.CONTINUATION, 0, 1, chunk);
  const away = await client.until((f) => f.type === FrameType.GOAWAY);
  assertEquals(readUint32(away.payload, 4), ErrorCode.ENHANCE_YOUR_CALM);
  assertEquals(await client.closed(), true);
});

Deno.test("serveHttp2() stops a stream's writes while the client does not read, and resumes when it does", async () => {
  const total = 64 * 1024 * 1024;
  let written = 0;
  const finished = Promise.withResolvers<void>();
  await using h2 = startServer((stream) => {
    void (async () => {
      stream.respond([[":status", "200"]]);
      const chunk = new Uint8Array(64 * 1024);
      while (written < total && !stream.closed) {
        await stream.write(chunk);
        written += chunk.length;
      }
      stream.end();
      finished.resolve();
    })();
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: h2.port });
  try {
    // Windows as large as HTTP/2 allows, then no reading: only the socket can hold the server back.
    await conn.write(PREFACE);
    await conn.write(encodeFrame(FrameType.SETTINGS, 0, 0, settings([[0x4, 0x7fffffff]])));
    await conn.write(encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, uint32(0x7fffffff - 65_535)));
    const block = new HpackEncoder().encode([[":method", "GET"], [":scheme", "http"], [":path", "/big"], [
      ":authority",
      "localhost",
    ]]);
    await conn.write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block));
    // Wait until the handler stops making progress.
    let last = -1;
    while (written !== last) {
      last = written;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert(written < 16 * 1024 * 1024, `the server queued ${written} bytes for a client that does not read`);
    // Now read everything: the handler finishes.
    const buffer = new Uint8Array(1024 * 1024);
    let received = 0;
    const reading = (async () => {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received += n;
        if (received > total) break;
      }
    })();
    await finished.promise;
    assertEquals(written, total);
    conn.close();
    await reading.catch(() => {});
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
});

function settings(pairs: [number, number][]): Uint8Array {
  const out = new Uint8Array(pairs.length * 6);
  const view = new DataView(out.buffer);
  pairs.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value);
  });
  return out;
}

Deno.test("serveHttp2() counts a reset stream until its handler ends, so resets cannot pile up work (rapid reset)", async () => {
  const release = Promise.withResolvers<void>();
  let started = 0;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = serveHttp2(listener, {
    maxConcurrentStreams: 10,
    onStream: (stream) => {
      started++;
      return release.promise.then(() => stream.end());
    },
    onError: () => {},
  });
  try {
    await using client = await RawClient.connect(listener.addr.port);
    for (let id = 1; id <= 19; id += 2) {
      client.request(id, "/slow", true);
      client.send(FrameType.RST_STREAM, 0, id, uint32(ErrorCode.CANCEL));
    }
    client.request(21, "/slow", true);
    const refused = await client.until((f) => f.type === FrameType.RST_STREAM && f.streamId === 21);
    assertEquals(readUint32(refused.payload, 0), ErrorCode.REFUSED_STREAM);
    assertEquals(started, 10);
    // Once the handlers end, new streams are taken again.
    release.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0)); // after the handlers' promise callbacks
    client.request(23, "/slow", true);
    await client.until((f) => f.type === FrameType.DATA && f.streamId === 23 && (f.flags & Flag.END_STREAM) !== 0);
    assertEquals(started, 11);
  } finally {
    await server.close(100);
  }
});
