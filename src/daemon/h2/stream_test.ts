import { assertEquals } from "../../../tests/support/assert.ts";
import { ErrorCode, Flag, FrameType } from "./frames.ts";
import { Http2ServerStream, type StreamOwner } from "./stream.ts";

/** The connection side of a stream, recorded: what it wrote, and a connection window the test sets. */
function recordingOwner(connectionWindow = 1 << 20) {
  const written: string[] = [];
  const owner: StreamOwner & { written: string[]; window: number; closed: number[] } = {
    written,
    window: connectionWindow,
    closed: [],
    writeFrame(type, flags, streamId, payload) {
      written.push(`${type}:${flags}:${streamId}:${payload?.length ?? 0}`);
    },
    writeHeaders(streamId, _headers, endStream) {
      written.push(`headers:${streamId}:${endStream}`);
    },
    sendable(wanted) {
      return Math.min(wanted, owner.window, 16_384);
    },
    consumeSendWindow(bytes) {
      owner.window -= bytes;
    },
    waitForWindow() {},
    windowUpdate(streamId, bytes) {
      written.push(`window:${streamId}:${bytes}`);
    },
    streamClosed(stream) {
      owner.closed.push(stream.id);
    },
  };
  return owner;
}

function open(owner: StreamOwner, endStream: boolean, sendWindow = 65_535) {
  return new Http2ServerStream(owner, {
    id: 1,
    headers: { ":method": "POST", ":path": "/x" },
    remoteAddress: "127.0.0.1",
    sendWindow,
    recvWindow: 65_535,
    endStream,
  });
}

Deno.test("Http2ServerStream closes once both sides ended: half-closed (remote), then closed", () => {
  const owner = recordingOwner();
  const stream = open(owner, true);
  assertEquals([stream.remoteEnded, stream.closed], [true, false]);
  stream.respond([[":status", "200"]]);
  stream.end([["grpc-status", "0"]]);
  assertEquals(stream.closed, true);
  assertEquals(owner.closed, [1]);
  assertEquals(owner.written, ["headers:1:false", "headers:1:true"]);
});

Deno.test("Http2ServerStream stays open while the client still sends (half-closed local), then closes on its END_STREAM", () => {
  const owner = recordingOwner();
  const stream = open(owner, false);
  stream.respond([[":status", "200"]], true);
  assertEquals(stream.closed, false);
  stream.receiveData(new Uint8Array(10), false);
  // The response is complete: the late body is dropped and its window given back at once.
  assertEquals(owner.written.at(-1), "window:1:10");
  stream.receiveEnd();
  assertEquals(stream.closed, true);
});

Deno.test("Http2ServerStream sends DATA only within its send window and resumes when it grows", async () => {
  const owner = recordingOwner();
  const stream = open(owner, true, 0);
  stream.respond([[":status", "200"]]);
  void stream.write(new Uint8Array(100));
  assertEquals(owner.written.filter((f) => f.startsWith(`${FrameType.DATA}:`)), []);
  stream.adjustSendWindow(40);
  stream.end();
  assertEquals(stream.closed, false);
  stream.adjustSendWindow(100);
  await Promise.resolve();
  assertEquals(owner.written.filter((f) => f.startsWith(`${FrameType.DATA}:`)), [
    `${FrameType.DATA}:0:1:40`,
    `${FrameType.DATA}:${Flag.END_STREAM}:1:60`,
  ]);
  assertEquals(stream.closed, true);
});

Deno.test("Http2ServerStream.reset() sends RST_STREAM, aborts the handler's signal and ignores later writes", async () => {
  const owner = recordingOwner();
  const stream = open(owner, false);
  const signal = stream.signal;
  stream.reset(ErrorCode.CANCEL);
  assertEquals(owner.written, [`${FrameType.RST_STREAM}:0:1:4`]);
  assertEquals([signal.aborted, stream.closed], [true, true]);
  await stream.write(new Uint8Array(5));
  stream.end();
  assertEquals(owner.written.length, 1);
});
