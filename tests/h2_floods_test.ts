/**
 * Floods against the gRPC port of a real daemon (docs/security.md): each known HTTP/2 attack is ended with GOAWAY,
 * costs the daemon less than 50 MB, and a normal client on another connection keeps getting answers. Every flood is
 * bounded in frames and time and stays on loopback.
 * @module
 */
import { encodeFrame, ErrorCode, FrameType, uint32s } from "../src/daemon/h2/frames.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { type DaemonProcess, startDaemonProcess } from "./support/daemon.ts";
import { flood, type FloodOptions, requestHeaders } from "./support/h2_flood.ts";
import { residentKiB } from "./support/run.ts";

const HEALTH = "/orchestrator.v1.OrchestratorService/Health";
const PING = encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8));
const SETTINGS = encodeFrame(FrameType.SETTINGS, 0, 0, new Uint8Array([0, 4, 0, 1, 0, 0]));
const EMPTY_CONTINUATION = encodeFrame(FrameType.CONTINUATION, 0, 1, new Uint8Array(0));
const PRIORITY = encodeFrame(FrameType.PRIORITY, 0, 1, new Uint8Array([0, 0, 0, 0, 16]));
const WINDOW_UPDATE = encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, uint32s(1));
const EMPTY_DATA = encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(0));

/** A normal client's call on its own connection: Connect JSON over HTTP/2, as the CLI speaks it. */
async function healthy(daemon: DaemonProcess, client: Deno.HttpClient): Promise<boolean> {
  const res = await fetch(`http://${daemon.grpcAddr}${HEALTH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    client,
    signal: AbortSignal.timeout(10_000),
  });
  return res.ok && (await res.json()).healthy === true;
}

interface Case {
  name: string;
  frame: (i: number) => Uint8Array;
  options: FloodOptions;
  /** GOAWAY codes that fit this attack. */
  codes: number[];
}

const CALM = [ErrorCode.ENHANCE_YOUR_CALM];

const CASES: Case[] = [
  {
    name: "CONTINUATION flood: one header block of 3,000,000 empty CONTINUATION frames",
    frame: () => EMPTY_CONTINUATION,
    options: { maxFrames: 3_000_000, prelude: [requestHeaders(1, HEALTH, { endStream: true, endHeaders: false })] },
    codes: CALM,
  },
  { name: "PING flood, answers read", frame: () => PING, options: { maxFrames: 1_000_000 }, codes: CALM },
  {
    name: "PING flood, answers never read",
    frame: () => PING,
    options: { maxFrames: 1_000_000, read: false },
    codes: CALM,
  },
  { name: "SETTINGS flood", frame: () => SETTINGS, options: { maxFrames: 500_000 }, codes: CALM },
  { name: "PRIORITY flood", frame: () => PRIORITY, options: { maxFrames: 1_000_000 }, codes: CALM },
  { name: "WINDOW_UPDATE flood", frame: () => WINDOW_UPDATE, options: { maxFrames: 1_000_000 }, codes: CALM },
  {
    name: "empty DATA flood on an open stream",
    frame: () => EMPTY_DATA,
    options: { maxFrames: 2_000_000, prelude: [requestHeaders(1, HEALTH, { endStream: false })] },
    codes: CALM,
  },
  {
    name: "rapid reset: HEADERS then RST_STREAM, 200,000 streams",
    frame: (i) => {
      const id = 2 * Math.floor(i / 2) + 1;
      return i % 2 === 0
        ? requestHeaders(id, HEALTH, { endStream: true })
        : encodeFrame(FrameType.RST_STREAM, 0, id, uint32s(ErrorCode.CANCEL));
    },
    options: { maxFrames: 400_000 },
    codes: CALM,
  },
];

Deno.test("gRPC port: every HTTP/2 flood ends in GOAWAY, costs under 50 MB, and other clients keep being served", async (t) => {
  await using daemon = await startDaemonProcess();
  const port = Number(daemon.grpcAddr.split(":").pop());
  using client = Deno.createHttpClient({ http1: false, http2: true });
  assert(await healthy(daemon, client));
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const before = await residentKiB(daemon.pid);
      const attack = flood(port, c.frame, c.options);
      // Another connection is answered while the flood runs.
      assert(await healthy(daemon, client), "a normal client was not answered during the flood");
      const outcome = await attack;
      const grownMiB = ((await residentKiB(daemon.pid)) - before) / 1024;
      console.log(
        `${c.name}: ended after ${outcome.framesSent.toLocaleString()} frames, GOAWAY ${outcome.goAwayCode}, ` +
          `RSS ${grownMiB >= 0 ? "+" : ""}${grownMiB.toFixed(1)} MiB`,
      );
      assert(outcome.closed, "the connection was not closed");
      // A client that never reads may lose the GOAWAY: its own writes into the closed connection reset it, and TCP
      // drops what it had not read. The server sent it all the same (the other cases read it).
      if (c.options.read !== false) {
        assert(c.codes.includes(outcome.goAwayCode ?? -1), `GOAWAY code ${outcome.goAwayCode}`);
      }
      assert(outcome.framesSent < c.options.maxFrames, "the whole flood was taken");
      assert(grownMiB < 50, `the daemon grew ${grownMiB.toFixed(1)} MiB`);
      assert(await healthy(daemon, client), "a normal client was not answered after the flood");
    });
  }
});

Deno.test("gRPC port: a half-sent preface, a half-sent frame and an unfinished header block time out", async () => {
  await using daemon = await startDaemonProcess();
  const port = Number(daemon.grpcAddr.split(":").pop());
  const started = Date.now();
  const halfPreface = (async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n"));
    // The server's SETTINGS come first; then the connection must end.
    const buffer = new Uint8Array(1024);
    const deadline = Date.now() + 20_000;
    let closed = false;
    while (!closed && Date.now() < deadline) closed = await conn.read(buffer).then((n) => n === null, () => true);
    conn.close();
    return closed;
  })();
  const halfFrame = flood(port, () => new Uint8Array([0, 0, 8, FrameType.PING, 0, 0, 0, 0, 0, 1, 2]), {
    maxFrames: 1,
    waitMs: 20_000,
  });
  const openBlock = flood(port, () => new Uint8Array(0), {
    maxFrames: 0,
    waitMs: 20_000,
    prelude: [requestHeaders(1, HEALTH, { endStream: true, endHeaders: false })],
  });
  const [a, b, c] = await Promise.all([halfPreface, halfFrame, openBlock]);
  const tookMs = Date.now() - started;
  console.log(`stalled connections closed after ${tookMs} ms`);
  assertEquals([a, b.closed, c.closed], [true, true, true]);
  assertEquals([b.goAwayCode, c.goAwayCode], [ErrorCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL_ERROR]);
});

Deno.test("gRPC port: connections past the cap are closed at once, and the daemon keeps answering", async () => {
  await using daemon = await startDaemonProcess();
  const port = Number(daemon.grpcAddr.split(":").pop());
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 600; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    // The 88 past the cap of 512 read end-of-stream at once.
    const closedAtOnce = await Promise.all(
      conns.slice(512).map((c) =>
        Promise.race([
          c.read(new Uint8Array(64)).then((n) => n === null, () => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
        ])
      ),
    );
    assertEquals(closedAtOnce.filter(Boolean).length, 88);
    const res = await fetch(`http://${daemon.httpAddr}/health`);
    assertEquals(res.status, 200);
    await res.body?.cancel();
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
  }
  // Once they are gone, gRPC clients are served again.
  using client = Deno.createHttpClient({ http1: false, http2: true });
  const deadline = Date.now() + 10_000;
  let ok = false;
  while (!ok && Date.now() < deadline) ok = await healthy(daemon, client).catch(() => false);
  assert(ok, "the gRPC port did not answer after the connections closed");
});
