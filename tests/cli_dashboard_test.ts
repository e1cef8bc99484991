/**
 * `dspy-agent dashboard` against a real daemon: it prints the URL `start` prints and hands it to `$BROWSER` (here a
 * script that records its argument, so no real browser opens); `--print` and a machine with no way to open a browser
 * only print it; with no daemon it fails naming the fix.
 * @module
 */
import { assert, assertEquals } from "./support/assert.ts";
import { createCliEnv } from "./support/cli.ts";
import { startDaemonProcess } from "./support/daemon.ts";

Deno.test("dashboard prints the daemon's dashboard URL and opens it with $BROWSER; --print only prints", async () => {
  await using cli = await createCliEnv();
  await using _daemon = await startDaemonProcess({
    home: cli.home,
    env: { ORCHESTRATOR_GRPC_ADDR: cli.grpcAddr, ORCHESTRATOR_HTTP_ADDR: cli.httpAddr },
  });
  const url = `http://${cli.httpAddr}/`;
  const recorded = `${cli.home}/opened.txt`;
  const browser = `${cli.home}/fake-browser`;
  await Deno.writeTextFile(browser, `#!/bin/sh\nprintf '%s\\n' "$@" >> "${recorded}"\n`, { mode: 0o755 });

  const opened = await cli.run(["dashboard"], { env: { BROWSER: browser } });
  assertEquals(opened.code, 0, opened.stderr);
  assertEquals(opened.stdout.trim(), url);
  assertEquals(await Deno.readTextFile(recorded), `${url}\n`);
  // The page is really there.
  const page = await fetch(url);
  assertEquals(page.status, 200);
  assert((await page.text()).includes('<div id="app"'), "the dashboard's document");

  const printed = await cli.run(["dashboard", "--print"], { env: { BROWSER: browser } });
  assertEquals([printed.code, printed.stdout.trim()], [0, url]);
  assertEquals(await Deno.readTextFile(recorded), `${url}\n`, "--print opened nothing");

  // No $BROWSER and no display (SSH, headless): the URL, and a line saying to open it.
  const headless = await cli.run(["dashboard", "--json"]);
  assertEquals(headless.code, 0, headless.stderr);
  assertEquals(JSON.parse(headless.stdout), { url, opened: false });

  // An opener that fails is reported, the URL still printed.
  const failing = await cli.run(["dashboard"], { env: { BROWSER: "false" } });
  assertEquals([failing.code, failing.stdout.trim()], [0, url]);
  assert(failing.stderr.includes("Cannot open a browser (false exited with code 1)"), failing.stderr);
});

Deno.test("dashboard with no daemon exits 3 and says how to start it", async () => {
  await using cli = await createCliEnv();
  const r = await cli.run(["dashboard"], { env: { BROWSER: "false" } });
  assertEquals(r.code, 3);
  assertEquals(r.stdout, "");
  assert(r.stderr.includes(`Cannot reach the daemon at ${cli.grpcAddr}: it is not running`), r.stderr);
  assert(r.stderr.includes("dspy-agent start"), r.stderr);
});
