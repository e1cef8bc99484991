import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { readFrames } from "./frame_reader.ts";
import {
  concat,
  encodeFrame,
  ErrorCode,
  Flag,
  FrameType,
  Http2ConnectionError,
  PREFACE,
  readUint32,
  settingsPayload,
  uint32s,
  unpad,
} from "./frames.ts";
import { HeaderBlocks, MAX_BLOCK_FRAMES } from "./header_blocks.ts";
import { HpackEncoder } from "./hpack.ts";
import { declaredLength, malformedRequest, malformedTrailers } from "./request_headers.ts";

Deno.test("encodeFrame() writes the 9-byte header (24-bit length, type, flags, 31-bit stream id) and the payload", () => {
  const frame = encodeFrame(FrameType.DATA, Flag.END_STREAM, 0x80000003, new Uint8Array([7, 8]));
  assertEquals([...frame], [0, 0, 2, 0, 1, 0, 0, 0, 3, 7, 8]);
});

Deno.test("uint32s(), settingsPayload() and readUint32() agree on big-endian words", () => {
  assertEquals([...uint32s(1, 0xffffffff)], [0, 0, 0, 1, 255, 255, 255, 255]);
  assertEquals([...settingsPayload([[0x4, 65_536]])], [0, 4, 0, 1, 0, 0]);
  assertEquals(readUint32(uint32s(0x7fffffff), 0), 0x7fffffff);
});

Deno.test("unpad() strips padding and refuses padding as long as the frame", () => {
  assertEquals([...unpad(Flag.PADDED, new Uint8Array([2, 9, 0, 0]))], [9]);
  assertEquals([...unpad(0, new Uint8Array([2, 9]))], [2, 9]);
  const error = assertThrows(() => unpad(Flag.PADDED, new Uint8Array([3, 0, 0])), Http2ConnectionError);
  assertEquals(error.code, ErrorCode.PROTOCOL_ERROR);
});

/** A socket stand-in that returns `reads` one by one, then end of stream. */
function scriptedConn(reads: Uint8Array[]): Deno.Conn {
  return {
    read(buffer: Uint8Array) {
      const next = reads.shift();
      if (!next) return Promise.resolve(null);
      buffer.set(next);
      return Promise.resolve(next.length);
    },
  } as unknown as Deno.Conn;
}

Deno.test("readFrames() splits frames across and within reads, after the preface", async () => {
  const ping = encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8));
  const bytes = concat(PREFACE, ping, encodeFrame(FrameType.DATA, 0, 1, new Uint8Array([1, 2, 3])));
  const seen: [number, number, number][] = [];
  const progress = { prefaceSeen: false, partialSince: 0 };
  // Cut in awkward places: inside the preface and inside a frame header.
  await readFrames(
    scriptedConn([bytes.subarray(0, 5), bytes.subarray(5, 30), bytes.subarray(30)]),
    (type, _flags, streamId, payload) => seen.push([type, streamId, payload.length]),
    () => false,
    progress,
  );
  assertEquals(seen, [[FrameType.PING, 0, 8], [FrameType.DATA, 1, 3]]);
  assertEquals(progress, { prefaceSeen: true, partialSince: 0 });
});

Deno.test("readFrames() refuses a wrong preface and a frame over the maximum size, and marks a half-sent frame", async () => {
  const wrong = assertThrowsAsync(
    readFrames(scriptedConn([new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]), () => {}, () => false),
  );
  assertEquals((await wrong).code, ErrorCode.PROTOCOL_ERROR);
  const big = new Uint8Array([0, 0x40, 1, 0, 0, 0, 0, 0, 1]);
  assertEquals(
    (await assertThrowsAsync(readFrames(scriptedConn([PREFACE, big]), () => {}, () => false))).code,
    ErrorCode.FRAME_SIZE_ERROR,
  );
  const progress = { prefaceSeen: false, partialSince: 0 };
  await readFrames(scriptedConn([PREFACE, new Uint8Array([0, 0, 8, 6])]), () => {}, () => false, progress);
  assertEquals(progress.prefaceSeen, true);
  assertEquals(progress.partialSince > 0, true);
});

async function assertThrowsAsync(promise: Promise<unknown>): Promise<Http2ConnectionError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Http2ConnectionError) return error;
    throw error;
  }
  throw new Error("expected an Http2ConnectionError");
}

const REQUEST: [string, string][] = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/a.B/C"],
  [":authority", "localhost"],
  ["te", "trailers"],
];

Deno.test("HeaderBlocks assembles HEADERS and CONTINUATION into one decoded block", () => {
  const blocks = new HeaderBlocks(65_536);
  const encoded = new HpackEncoder().encode(REQUEST);
  assertEquals(blocks.headers(Flag.END_STREAM, 1, encoded.subarray(0, 5)), undefined);
  assertEquals(blocks.open, true);
  const block = blocks.continuation(Flag.END_HEADERS, 1, encoded.subarray(5))!;
  assertEquals(block, { streamId: 1, endStream: true, fields: REQUEST, dependsOnItself: false });
  assertEquals(blocks.open, false);
});

Deno.test("HeaderBlocks refuses CONTINUATION floods (frames and bytes), strays, even stream ids and self-dependency", () => {
  const blocks = new HeaderBlocks(1024);
  blocks.headers(0, 1, new Uint8Array(0));
  let error: Http2ConnectionError | undefined;
  for (let i = 0; i < MAX_BLOCK_FRAMES + 1 && !error; i++) {
    try {
      blocks.continuation(0, 1, new Uint8Array(0));
    } catch (e) {
      error = e as Http2ConnectionError;
    }
  }
  assertEquals(error?.code, ErrorCode.ENHANCE_YOUR_CALM);
  const bytes = new HeaderBlocks(1024);
  bytes.headers(0, 1, new Uint8Array(1000));
  assertEquals(
    assertThrows(() => bytes.continuation(0, 1, new Uint8Array(1100)), Http2ConnectionError).code,
    ErrorCode.ENHANCE_YOUR_CALM,
  );
  assertEquals(
    assertThrows(() => new HeaderBlocks(1024).continuation(0, 1, new Uint8Array(1)), Http2ConnectionError).code,
    ErrorCode.PROTOCOL_ERROR,
  );
  assertEquals(
    assertThrows(() => new HeaderBlocks(1024).headers(0, 2, new Uint8Array(1)), Http2ConnectionError).code,
    ErrorCode.PROTOCOL_ERROR,
  );
  const priority = concat(new Uint8Array([0, 0, 0, 5, 16]), new HpackEncoder().encode(REQUEST));
  assertEquals(new HeaderBlocks(1024).headers(Flag.END_HEADERS | Flag.PRIORITY, 5, priority)?.dependsOnItself, true);
});

Deno.test("malformedRequest() holds requests to RFC 9113 §8.2-8.3; malformedTrailers() refuses pseudo-headers", () => {
  assertEquals(malformedRequest(REQUEST), undefined);
  const cases: [string, [string, string][]][] = [
    ["uppercase", [...REQUEST, ["X-Upper", "1"]]],
    ["unknown pseudo", [[":foo", "1"], ...REQUEST]],
    ["response pseudo", [[":status", "200"], ...REQUEST]],
    ["pseudo after regular", [...REQUEST, [":path", "/x"]].filter((_, i) => i !== 2) as [string, string][]],
    ["connection-specific", [...REQUEST, ["connection", "keep-alive"]]],
    ["te other than trailers", [...REQUEST.slice(0, 4), ["te", "gzip"]]],
    ["no scheme", REQUEST.filter(([n]) => n !== ":scheme")],
    ["empty path", REQUEST.map(([n, v]) => [n, n === ":path" ? "" : v] as [string, string])],
    ["duplicate method", [[":method", "GET"], ...REQUEST]],
  ];
  for (const [name, fields] of cases) assertEquals(typeof malformedRequest(fields), "string", name);
  assertEquals(malformedTrailers([["grpc-status", "0"]]), undefined);
  assertEquals(typeof malformedTrailers([[":path", "/x"]]), "string");
  assertEquals([declaredLength({}), declaredLength({ "content-length": "12" })], [undefined, 12]);
  assertEquals(Number.isNaN(declaredLength({ "content-length": "-1" })), true);
});
