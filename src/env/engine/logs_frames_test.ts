import { assertEquals } from "../../../tests/support/assert.ts";
import { demuxFrames, frameLines, type OutputFrame } from "./logs_frames.ts";

function frame(type: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function lines(frames: AsyncIterable<OutputFrame>) {
  const out: string[] = [];
  for await (const { stream, line } of frameLines(frames)) out.push(`${stream}:${line}`);
  return out;
}

Deno.test("demuxFrames() reassembles frames split across chunks, whatever the chunk size", async () => {
  const parts = [frame(1, "hel"), frame(1, "lo\nwor"), frame(2, "oops\n"), frame(1, "ld\r\n"), frame(2, "tail é")];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.length), 0);
  for (const size of [1, 3, 7, 1000]) {
    assertEquals(await lines(demuxFrames(chunked(bytes, size))), [
      "stdout:hello",
      "stderr:oops",
      "stdout:world",
      "stderr:tail é",
    ]);
  }
});

Deno.test("demuxFrames() passes a TTY stream through as stdout", async () => {
  const bytes = new TextEncoder().encode("a\nb\n");
  assertEquals(await lines(demuxFrames(chunked(bytes, 1), { tty: true })), ["stdout:a", "stdout:b"]);
});
