/**
 * The dashboard's workflow pages in a real browser (Debian's headless chromium, playwright-core) against a real
 * daemon running real workflows: a run started through the API appears on the list without a reload; its page draws
 * the DAG, one node per step and one arrow per dependency, and the nodes turn from running and waiting to succeeded
 * live; the run's tasks open filtered by workflow and run; a run cancelled from its page is cancelled (checked through
 * the API); axe-core finds no serious or critical violation. Screenshots go to `DASHBOARD_SCREENSHOTS` (default: a
 * temp folder, printed), beside the other pages'.
 * @module
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { axeProblems, chromiumAvailable, launchChromium } from "./support/browser.ts";

/** A diamond whose top step is a real process that waits for `gate` to exist: the test decides when it ends. */
function diamond(gate: string) {
  return {
    steps: [
      {
        id: "top",
        timeout_seconds: 120,
        payload: {
          execution: { command: ["sh", "-c", `while [ ! -e '${gate}' ]; do sleep 0.1; done`] },
        },
      },
      { id: "left", depends_on: ["top"], payload: { task_type: "noop" } },
      { id: "right", depends_on: ["top"], payload: { task_type: "sleep", sleep_ms: 200 } },
      { id: "bottom", depends_on: ["left", "right"], payload: { task_type: "noop" } },
    ],
  };
}

const encode = (spec: unknown) => new TextEncoder().encode(JSON.stringify(spec));

Deno.test({
  name: "the dashboard draws a workflow run's DAG live, filters its tasks and cancels a run, in a real browser",
  ignore: !chromiumAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const shots = Deno.env.get("DASHBOARD_SCREENSHOTS") ?? await Deno.makeTempDir({ prefix: "dspy-agent-shots-" });
    await Deno.mkdir(shots, { recursive: true });
    const scratch = await Deno.makeTempDir({ prefix: "dspy-agent-wf-gate-" });
    const gate = `${scratch}/open`;
    await using daemon = await startDaemonProcess({ configToml: "[services]\nredis = false\n" });
    const baseUrl = `http://${daemon.grpcAddr}`;
    const sessions = new Http2SessionManager(baseUrl);
    const api = createClient(OrchestratorService, createGrpcTransport({ baseUrl, sessionManager: sessions }));
    const browser = await launchChromium();
    const url = `http://${daemon.httpAddr}/`;
    const runs: string[] = [];
    try {
      const page = await browser.newPage();
      await api.createWorkflow({ id: "diamond", name: "a diamond", spec: encode(diamond(gate)) });
      await api.createWorkflow({
        id: "long",
        spec: encode({
          steps: [
            { id: "wait", payload: { task_type: "sleep", sleep_ms: 600_000 } },
            { id: "after", depends_on: ["wait"], payload: { task_type: "noop" } },
          ],
        }),
      });

      await t.step("a run started through the API appears on the list without a reload", async () => {
        await page.goto(`${url}#/workflows`);
        await page.getByText("No workflow run yet.").waitFor();
        await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
        runs.push((await api.startWorkflowRun({ workflowId: "diamond" })).runId);
        await page.locator(`tr[data-run="${runs[0]}"] [data-state="running"]`).waitFor({ timeout: 10_000 });
        assertEquals(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
      });

      await t.step("the run's page draws the DAG, and its nodes turn to succeeded live", async () => {
        await page.getByRole("link", { name: runs[0], exact: true }).click();
        await page.locator('.dag [data-step="top"][data-state="running"]').waitFor({ timeout: 10_000 });
        await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
        assertEquals(await page.locator(".dag [data-step]").count(), 4);
        assertEquals(
          (await page.locator(".dag [data-edge]").evaluateAll((edges) => edges.map((e) => e.getAttribute("data-edge"))))
            .sort(),
          ["left>bottom", "right>bottom", "top>left", "top>right"],
        );
        for (const step of ["left", "right", "bottom"]) {
          assertEquals(await page.locator(`.dag [data-step="${step}"]`).getAttribute("data-state"), "waiting");
        }
        // The top node sits left of the two middle ones, which sit left of the bottom one (dagre, left to right).
        const x = async (step: string) => (await page.locator(`.dag [data-step="${step}"] rect`).boundingBox())!.x;
        assert((await x("top")) < (await x("left")) && (await x("right")) < (await x("bottom")));
        await page.screenshot({ path: `${shots}/workflow-running.png`, fullPage: true });
        await Deno.writeTextFile(gate, "");
        await page.locator('#run-state[data-state="succeeded"]').waitFor({ timeout: 20_000 });
        assertEquals(
          await page.locator(".dag [data-step]").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-state"))),
          ["succeeded", "succeeded", "succeeded", "succeeded"],
        );
        assertEquals(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
        // Coloured by state through the stylesheet (an SVG rect the stylesheet misses is drawn solid black).
        assertEquals(
          await page.locator('.dag [data-step="top"] rect').evaluate((rect) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(rect).fill
          ),
          "rgb(209, 250, 229)",
        );
        await page.screenshot({ path: `${shots}/workflow.png`, fullPage: true });
      });

      await t.step("a step links to its task; the run's tasks open filtered by workflow and run", async () => {
        await page.locator('.dag a[data-step="left"]').click();
        await page.locator('#task-state[data-state="completed"]').waitFor({ timeout: 10_000 });
        assertEquals(decodeURIComponent(new URL(page.url()).hash), `#/tasks/${runs[0]}.left`);
        await page.getByRole("link", { name: runs[0], exact: true }).waitFor(); // back to its run
        await page.goBack();
        await page.getByRole("link", { name: "Tasks of this run" }).click();
        await page.locator(`tr[data-task="${runs[0]}.bottom"]`).waitFor({ timeout: 10_000 });
        await page.getByText("4 tasks").waitFor();
        assertEquals(await page.getByLabel("Workflow").inputValue(), "diamond");
      });

      await t.step("cancelling a run from its page cancels it (checked through the API)", async () => {
        runs.push((await api.startWorkflowRun({ workflowId: "long" })).runId);
        await page.goto(`${url}#/workflows/${runs[1]}`);
        await page.locator('.dag [data-step="wait"][data-state="running"]').waitFor({ timeout: 10_000 });
        await page.getByRole("button", { name: "Cancel" }).click();
        await page.locator('#run-state[data-state="cancelled"]').waitFor({ timeout: 10_000 });
        await page.locator('.dag [data-step="wait"][data-state="cancelled"]').waitFor({ timeout: 10_000 });
        const [run] = (await api.listWorkflowRuns({ runId: runs[1] })).runs;
        assertEquals([run.state, run.error], ["cancelled", "cancelled from the dashboard"]);
        assertEquals((await api.getTaskStatus({ taskId: `${runs[1]}.wait` })).task?.state, "cancelled");
        await page.goto(`${url}#/workflows`);
        await page.locator(`tr[data-run="${runs[1]}"] [data-state="cancelled"]`).waitFor({ timeout: 10_000 });
        await page.screenshot({ path: `${shots}/workflows.png`, fullPage: true });
      });

      await t.step("no serious or critical accessibility violation on the workflow pages (axe-core)", async () => {
        const problems: string[] = [];
        for (const route of ["#/workflows", `#/workflows/${runs[0]}`, `#/workflows/${runs[1]}`]) {
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
      // Closed before the daemon stops (see tests/dashboard_test.ts).
      sessions.abort();
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
