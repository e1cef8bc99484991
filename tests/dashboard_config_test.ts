/**
 * The dashboard's config page, latency chart and failed-service detail in a real browser (Debian's headless chromium
 * driven by playwright-core) against a real daemon on a real PostgreSQL store, with a real Docker service that fails:
 * settings show with their sources (the config file by path, an environment variable by name); the store password
 * and the auth token appear neither in the page nor in the GetConfig answer; the overview draws throughput and
 * latency from real tasks; a failed service shows its exit code and last log lines; axe-core finds no serious or
 * critical violation. Screenshots go to `DASHBOARD_SCREENSHOTS` (default: a temp folder, printed).
 * @module
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { EnvManagerService } from "../src/gen/env_manager/v1/env_manager_pb.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { buildBusyboxImage, ensureDockerEngine } from "./support/docker.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { removeProject, testProject } from "./support/cli.ts";
import { axeProblems, chromiumAvailable, launchChromium } from "./support/browser.ts";
import { postgresAvailable, startPostgres } from "./support/postgres.ts";

/** The store password: PostgreSQL here trusts loopback, so any password connects, and none may ever be shown. */
const PASSWORD = "Pg-pa55-never-shown-7c1e";

/** A service whose container prints a line to each stream and exits 3: it never becomes healthy. */
function brokenService(image: string): string {
  return `[services.broken]
image = "${image}"
command = ["sh", "-c", "echo broken is starting; echo the database URL is missing >&2; exit 3"]
restart = "no"
[services.broken.health]
kind = "tcp"
port = 8080
`;
}

Deno.test({
  name: "the dashboard shows the settings with their sources and no secret, the latency chart and why a service failed",
  ignore: !chromiumAvailable() || !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("dashcfg");
    const shots = Deno.env.get("DASHBOARD_SCREENSHOTS") ?? await Deno.makeTempDir({ prefix: "dspy-agent-shots-" });
    await Deno.mkdir(shots, { recursive: true });
    await using pg = await startPostgres();
    const storeUrl = (await pg.createDatabase("dashcfg")).replace("postgres@", `postgres:${PASSWORD}@`);
    await using daemon = await startDaemonProcess({
      configToml: `project = "${project}"\nmax_concurrent = 3\nhealth_timeout_seconds = 20\n\n` +
        `[services]\nredis = false\n\n${brokenService(image)}`,
      env: { DSPY_AGENT_STORE_URL: storeUrl },
    });
    const token = (await Deno.readTextFile(`${daemon.home}/auth.token`)).trim();
    assert(token.length >= 32, "the daemon has a token to keep secret");
    const baseUrl = `http://${daemon.grpcAddr}`;
    const sessions = new Http2SessionManager(baseUrl);
    const transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
    const api = createClient(OrchestratorService, transport);
    const env = createClient(EnvManagerService, transport);
    const browser = await launchChromium();
    const url = `http://${daemon.httpAddr}/`;
    try {
      const page = await browser.newPage();

      await t.step("config: each setting with its source, the file by path and the variable by name", async () => {
        await page.goto(`${url}#/config`);
        const row = (key: string) => page.locator(`tr[data-setting="${key}"]`);
        await row("max_concurrent").locator('[data-source="file"]').waitFor();
        assertStringIncludes((await row("max_concurrent").textContent())!, `${daemon.home}/config.toml`);
        assertStringIncludes((await row("store").locator('[data-source="env"]').textContent())!, "env");
        assertStringIncludes((await row("store").textContent())!, "DSPY_AGENT_STORE_URL");
        assertStringIncludes((await row("store").textContent())!, "postgres:****@");
        assertStringIncludes((await row("log_level").locator("[data-source]").textContent())!, "default");
        // The filter box keeps the matching rows only.
        await page.getByRole("searchbox", { name: "Filter" }).fill("store");
        await row("max_concurrent").waitFor({ state: "detached" });
        assertEquals(await row("store").count(), 1);
        await page.getByRole("searchbox", { name: "Filter" }).fill("");
        await row("max_concurrent").waitFor();
        await page.screenshot({ path: `${shots}/config.png`, fullPage: true });
      });

      await t.step("no secret in the page or in the GetConfig answer", async () => {
        const html = await page.content();
        for (const secret of [PASSWORD, token]) assert(!html.includes(secret), "a secret is in the page");
        const answer = await fetch(`${url}orchestrator.v1.OrchestratorService/GetConfig`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        const text = await answer.text();
        assertEquals(answer.status, 200, text);
        assertStringIncludes(text, "postgres:****@");
        for (const secret of [PASSWORD, token]) assert(!text.includes(secret), "a secret is in the answer");
      });

      await t.step("overview: throughput and latency charts from real tasks", async () => {
        await api.submitTask({ id: "timed", payload: { task_type: "sleep", sleep_ms: "250" } });
        await page.goto(url);
        await page.locator('.chart[data-chart="throughput"] canvas').waitFor();
        const latency = page.locator('.chart[data-chart="latency"]');
        await latency.locator("canvas").waitFor();
        // The chart's label carries its latest figures: the 250 ms attempt makes the run p95 a quarter second or more.
        await page.locator('.chart[data-chart="latency"][aria-label*="run p95 0."]').waitFor({ timeout: 20_000 });
        const label = (await latency.getAttribute("aria-label"))!;
        const p95 = Number(label.match(/run p95 ([0-9.]+)/)![1]);
        assert(p95 >= 0.25, label);
        await page.screenshot({ path: `${shots}/overview-latency.png`, fullPage: true });
      });

      await t.step("services: a failed service shows its exit code and its last log lines", async () => {
        try {
          for await (const _ of env.startServices({ serviceNames: ["broken"] })) { /* until it gives up */ }
        } catch { /* the start fails: that is the point */ }
        await page.goto(`${url}#/services`);
        const why = page.locator('tr[data-why="broken"]');
        await why.locator('[data-exit-code="3"]').waitFor({ timeout: 20_000 });
        await why.locator("pre[data-why-logs]").filter({ hasText: "the database URL is missing" }).waitFor();
        assertStringIncludes((await why.locator("pre[data-why-logs]").textContent())!, "broken is starting");
        assertStringIncludes((await why.locator("[data-why-message]").textContent())!, "exit code 3");
        await page.screenshot({ path: `${shots}/services-failed.png`, fullPage: true });
      });

      await t.step("no serious or critical accessibility violation on the config and services pages", async () => {
        const problems: string[] = [];
        for (const route of ["#/config", "#/services", "#/"]) {
          await page.goto(`${url}${route}`);
          await page.locator("main h1").waitFor();
          await page.locator("main table tbody tr").first().waitFor();
          problems.push(...(await axeProblems(page)).map((p) => `${route} ${p}`));
        }
        assertEquals(problems, []);
      });
      console.log(`dashboard screenshots: ${shots}`);
    } finally {
      await browser.close();
      await env.stopServices({ serviceNames: [] }).catch(() => {});
      // Closed before the daemon stops (see tests/dashboard_test.ts: Deno's nghttp2 binding and GOAWAY).
      sessions.abort();
      await removeProject(project);
    }
  },
});
