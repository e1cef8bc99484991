/**
 * bench/dashboard: the dashboard's weight and speed in a real headless chromium against a real daemon.
 *
 *   deno task bench:dashboard [--seconds 60] [--rate 1000]
 *
 * Prints: the JavaScript shipped, gzipped (target ≤ 200 KB); the time to the first useful paint on loopback (the
 * overview's task counts drawn, timed in the page from navigation start; median of 9 loads; target ≤ 300 ms); and an
 * event stream of `--rate` events/s for `--seconds` on the events page, with the page's JS heap before and after and
 * how long the page takes to answer a click at the end (the page must stay responsive with bounded memory).
 *
 * @module
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { parseArgs } from "node:util";
import { OrchestratorService } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { DASHBOARD_CSS, DASHBOARD_JS } from "../../src/daemon/dashboard_assets.ts";
import { startDaemonProcess } from "../../tests/support/daemon.ts";
import { launchChromium } from "../../tests/support/browser.ts";

const { values } = parseArgs({ options: { seconds: { type: "string" }, rate: { type: "string" } } });
const seconds = Number(values.seconds ?? 60);
const rate = Number(values.rate ?? 1000);

async function gzipped(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const jsGz = await gzipped(DASHBOARD_JS);
const cssGz = await gzipped(DASHBOARD_CSS);

await using daemon = await startDaemonProcess({ configToml: "[services]\nredis = false\n" });
const baseUrl = `http://${daemon.grpcAddr}`;
const sessions = new Http2SessionManager(baseUrl);
const api = createClient(OrchestratorService, createGrpcTransport({ baseUrl, sessionManager: sessions }));
const browser = await launchChromium();
try {
  await api.submitTask({ id: "warm", payload: { task_type: "noop" } });
  const url = `http://${daemon.httpAddr}/`;
  const page = await browser.newPage();

  // First useful paint: navigation start to the frame that draws the task counts, timed by the page itself (a
  // mutation observer, then the next animation frame), so the harness's own round trips to chromium do not count.
  await page.addInitScript({
    content: `
      const observer = new MutationObserver(() => {
        const count = document.querySelector('[data-count="completed"] strong');
        if (!count || !/^[0-9]/.test(count.textContent ?? "")) return;
        observer.disconnect();
        requestAnimationFrame(() => (globalThis.firstUsefulPaint = performance.now()));
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true });`,
  });
  const paints: number[] = [];
  for (let i = 0; i < 10; i++) {
    await page.goto(url, { waitUntil: "commit" });
    const paint = await page.waitForFunction(() =>
      (globalThis as unknown as { firstUsefulPaint?: number }).firstUsefulPaint
    );
    if (i > 0) paints.push(Number(await paint.jsonValue())); // the first load warms the daemon's and chromium's caches
  }
  paints.sort((a, b) => a - b);

  // An event stream of `rate` events/s on the events page: each noop task makes three (submitted, started, completed).
  await page.goto(`${url}#/events`);
  await page.locator("main h1").waitFor();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const heap = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    return (metrics.find((m: { name: string }) => m.name === "JSHeapUsedSize")?.value ?? 0) / 2 ** 20;
  };
  const heapBefore = await heap();
  const perTick = Math.max(1, Math.round(rate / 3 / 10));
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    await api.submitTasks({
      tasks: Array.from({ length: perTick }, () => ({ id: `ev-${n++}`, payload: { task_type: "noop" } })),
    });
    sent += perTick * 3;
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
  }
  const shownRows = await page.locator("tbody tr").count();
  const clickStarted = performance.now();
  await page.getByRole("link", { name: "Overview" }).click();
  await page.locator('[data-count="completed"] strong').filter({ hasText: /^[0-9]/ }).waitFor();
  const clickMs = performance.now() - clickStarted;
  await page.goto(`${url}#/events`);
  const heapAfter = await heap();

  const median = paints[Math.floor(paints.length / 2)];
  console.log(`bench/dashboard: one daemon on loopback, headless chromium, ${navigator.hardwareConcurrency} cores`);
  console.log(
    `JavaScript shipped: ${(DASHBOARD_JS.length / 1024).toFixed(0)} KB, ${(jsGz / 1024).toFixed(1)} KB gzipped ` +
      `(target <= 200 KB: ${jsGz <= 200 * 1024 ? "MET" : "MISSED"}); stylesheet ${
        (cssGz / 1024).toFixed(1)
      } KB gzipped`,
  );
  console.log(
    `first useful paint (task counts drawn, timed in the page): median ${median.toFixed(0)} ms, best ${
      paints[0].toFixed(0)
    }, worst ${paints.at(-1)!.toFixed(0)} of ${paints.length} loads (target <= 300 ms: ${
      median <= 300 ? "MET" : "MISSED"
    })`,
  );
  console.log(
    `event stream: ${sent.toLocaleString("en")} events in ${seconds} s (${(sent / seconds).toFixed(0)}/s) on the ` +
      `events page (${shownRows} rows kept); JS heap ${heapBefore.toFixed(1)} MB before, ${
        heapAfter.toFixed(1)
      } MB after; a click at the end answered in ${clickMs.toFixed(0)} ms`,
  );
} finally {
  await browser.close();
  sessions.abort();
}
