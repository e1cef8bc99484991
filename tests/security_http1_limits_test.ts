/**
 * The HTTP/1.1 port bounds what slow and idle clients hold (docs/security.md): a connection cap, and deadlines for a
 * request's headers and for idle keep-alive connections. Against a real daemon; every loop is bounded in count and
 * time, and traffic stays on loopback.
 * @module
 */
import * as net from "node:net";
import { assert, assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { residentKiB } from "./support/run.ts";

/** Opens `count` connections that each send half a request, and records when each one closes. */
async function halfRequests(address: string, count: number) {
  const i = address.lastIndexOf(":");
  const [host, port] = [address.slice(0, i), Number(address.slice(i + 1))];
  const closed: number[] = [];
  const sockets: net.Socket[] = [];
  const started = Date.now();
  for (let n = 0; n < count; n++) {
    const socket = net.connect(port, host);
    socket.on("error", () => {});
    socket.on("close", () => closed.push(Date.now() - started));
    socket.write("POST /queue/submit HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n");
    sockets.push(socket);
  }
  await new Promise((r) => setTimeout(r, 200));
  return { closed, sockets, started };
}

Deno.test("HTTP/1.1 port: half-sent requests are cut at the header deadline and connections are capped", async () => {
  await using daemon = await startDaemonProcess();
  const before = await residentKiB(daemon.pid);
  const { closed, sockets, started } = await halfRequests(daemon.httpAddr, 700);
  // Past the cap of 512, new connections are closed at once: well before the header deadline (10 s) closes the rest.
  while (closed.length < 700 - 512 && Date.now() - started < 8_000) await new Promise((r) => setTimeout(r, 100));
  assert(closed.length >= 700 - 512, `only ${closed.length} of 700 connections were closed before the header deadline`);
  // A normal client is still answered while the slow ones are held... once the cap frees up, at the latest.
  const deadline = Date.now() + 20_000;
  let healthy = false;
  while (!healthy && Date.now() < deadline) {
    healthy = await fetch(`http://${daemon.httpAddr}/health`).then((r) => r.ok, () => false);
    if (!healthy) await new Promise((r) => setTimeout(r, 250));
  }
  assert(healthy, "the daemon stopped answering");
  // The header deadline (10 s) ends every half-sent request.
  while (closed.length < 700 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assertEquals(closed.length, 700, "some half-sent requests were still held after 20 s");
  for (const s of sockets) s.destroy();
  const grownMiB = (await residentKiB(daemon.pid) - before) / 1024;
  console.log(`RSS grew ${grownMiB.toFixed(1)} MiB over 700 slow connections`);
  assert(grownMiB < 50, `RSS grew ${grownMiB.toFixed(1)} MiB`);
});
