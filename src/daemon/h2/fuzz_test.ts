/**
 * Fuzz tests of the parsers that read untrusted bytes first: the HPACK decoder and the frame reader with header-block
 * assembly. Inputs are random and mutated valid ones from a seeded generator (`H2_FUZZ_SEED`, `H2_FUZZ_CASES` to
 * widen a run), bounded in count and time. A parser may refuse any input, but only with its own error types, never a
 * crash, a hang or unbounded growth.
 * @module
 */
import { type SeededRandom, seededRandom } from "../../../tests/support/random.ts";
import { assert } from "../../../tests/support/assert.ts";
import { readFrames } from "./frame_reader.ts";
import { concat, encodeFrame, Flag, FrameType, Http2ConnectionError, PREFACE } from "./frames.ts";
import { HeaderBlocks } from "./header_blocks.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";

const SEED = Number(Deno.env.get("H2_FUZZ_SEED") ?? 20261204);
const CASES = Number(Deno.env.get("H2_FUZZ_CASES") ?? 200_000);
const TIME_LIMIT_MS = 15_000;

/** Flips, inserts, deletes or overwrites a few bytes of a valid input. */
function mutate(rng: SeededRandom, input: Uint8Array): Uint8Array {
  const out = [...input];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (at < out.length) out[at] ^= 1 << rng.int(8);
        break;
      case 1:
        out.splice(at, 0, rng.int(256));
        break;
      case 2:
        out.splice(at, 1);
        break;
      default:
        if (at < out.length) out[at] = [0x00, 0x7f, 0x80, 0xff, 0x3f, 0x40][rng.int(6)];
    }
  }
  return new Uint8Array(out);
}

const SAMPLE_HEADERS: [string, string][] = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/orchestrator.v1.OrchestratorService/SubmitTask"],
  [":authority", "127.0.0.1:50052"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
  ["grpc-timeout", "10S"],
  ["user-agent", "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)"],
];

Deno.test("HpackDecoder survives random and mutated header blocks: it decodes or throws HpackError, within its limits", () => {
  const rng = seededRandom(SEED);
  const valid = new HpackEncoder().encode(SAMPLE_HEADERS);
  const started = Date.now();
  let refused = 0;
  let cases = 0;
  // One decoder across cases, as a connection keeps one: a case must not leave it able to grow without bound.
  const decoder = new HpackDecoder({ maxHeaderListSize: 16_384 });
  for (; cases < CASES && Date.now() - started < TIME_LIMIT_MS; cases++) {
    const input = rng.int(3) === 0 ? rng.bytes(rng.int(300)) : mutate(rng, valid);
    try {
      const fields = decoder.decode(input);
      let size = 0;
      for (const [name, value] of fields) size += name.length + value.length + 32;
      assert(size <= 16_384, `a block decoded to ${size} bytes, over the list limit`);
    } catch (error) {
      if (!(error instanceof HpackError)) throw new Error(`case ${cases} (seed ${SEED}): ${error}`, { cause: error });
      refused++;
    }
  }
  console.log(`${cases} HPACK cases in ${Date.now() - started} ms, ${refused} refused (seed ${SEED})`);
  assert(refused > 0 && refused < cases, "the fuzz did not reach both outcomes");
});

/** A socket stand-in that hands `bytes` to the reader in random-sized reads, then ends. */
function chunkedConn(rng: SeededRandom, bytes: Uint8Array): Deno.Conn {
  let at = 0;
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buffer.length, bytes.length - at, 1 + rng.int(4096));
      buffer.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  } as unknown as Deno.Conn;
}

Deno.test("readFrames and HeaderBlocks survive mutated connections: frames or Http2ConnectionError, bounded blocks", async () => {
  const rng = seededRandom(SEED + 1);
  const block = new HpackEncoder().encode(SAMPLE_HEADERS);
  const valid = concat(
    PREFACE,
    encodeFrame(FrameType.SETTINGS, 0, 0, new Uint8Array([0, 4, 0, 1, 0, 0])),
    encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 1, block),
    encodeFrame(FrameType.DATA, Flag.END_STREAM, 1, new Uint8Array([0, 0, 0, 0, 2, 8, 1])),
    encodeFrame(FrameType.HEADERS, 0, 3, block.subarray(0, 10)),
    encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, block.subarray(10)),
    encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8)),
  );
  const started = Date.now();
  const cases = Math.min(CASES / 4, 50_000);
  let frames = 0;
  let refused = 0;
  let n = 0;
  for (; n < cases && Date.now() - started < TIME_LIMIT_MS; n++) {
    const input = rng.int(4) === 0 ? concat(PREFACE, rng.bytes(rng.int(2000))) : mutate(rng, valid);
    const blocks = new HeaderBlocks(16_384);
    try {
      await readFrames(chunkedConn(rng, input), (type, flags, streamId, payload) => {
        frames++;
        assert(payload.length <= 16_384, "a frame larger than the maximum frame size got through");
        if (type === FrameType.HEADERS) blocks.headers(flags, streamId, payload);
        else if (type === FrameType.CONTINUATION) blocks.continuation(flags, streamId, payload);
      }, () => false);
    } catch (error) {
      if (!(error instanceof Http2ConnectionError)) {
        throw new Error(`case ${n} (seed ${SEED + 1}): ${error}`, { cause: error });
      }
      refused++;
    }
  }
  console.log(`${n} connection cases in ${Date.now() - started} ms: ${frames} frames read, ${refused} refused`);
  assert(refused > 0 && frames > 0, "the fuzz did not reach both outcomes");
});
