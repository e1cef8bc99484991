/**
 * ListWorkflowRuns through the Connect handlers on an in-memory router transport, over the real orchestrator (real
 * SQLite store, real scheduler and built-in executors): runs newest first with their steps' dependencies, states and
 * task ids; filters; paging; and bounded input answered INVALID_ARGUMENT naming the fix.
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./support/assert.ts";
import { startWorkflowApi, type WorkflowClient } from "./support/workflow_api.ts";

const setUp = () => startWorkflowApi("wf-list-");

type Client = WorkflowClient;

const encode = (spec: unknown) => new TextEncoder().encode(JSON.stringify(spec));

/** A diamond: top, then left and right, then bottom. */
const DIAMOND = {
  steps: [
    { id: "top", payload: { task_type: "noop" } },
    { id: "left", depends_on: ["top"], payload: { task_type: "noop" } },
    { id: "right", depends_on: ["top"], class: "cpu_long", payload: { task_type: "noop" } },
    { id: "bottom", depends_on: ["left", "right"], payload: { task_type: "noop" } },
  ],
};

async function finish(client: Client, runId: string): Promise<string> {
  let last = "";
  for await (const update of client.streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(20_000) })) {
    last = update.status;
  }
  return last;
}

Deno.test("ListWorkflowRuns lists runs newest first with each step's dependencies, state and task", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({ id: "diamond", name: "a diamond", spec: encode(DIAMOND) });
  await t.client.createWorkflow({
    id: "other",
    spec: encode({ steps: [{ id: "only", payload: { task_type: "noop" } }] }),
  });
  const started: string[] = [];
  for (const workflowId of ["diamond", "other", "diamond"]) {
    started.push((await t.client.startWorkflowRun({ workflowId, input: { n: "1" } })).runId);
    await new Promise((r) => setTimeout(r, 5)); // a later millisecond: "newest first" has one answer
  }
  for (const runId of started) assertEquals(await finish(t.client, runId), "succeeded");

  const all = await t.client.listWorkflowRuns({});
  assertEquals(all.runs.map((run) => run.runId), [...started].reverse());
  assertEquals(all.nextPageToken, "");
  const newest = all.runs[0];
  assertEquals(
    [newest.workflowId, newest.workflowName, newest.state, newest.input],
    ["diamond", "a diamond", "succeeded", { n: "1" }],
  );
  assert(newest.createdAtMs > 0n && newest.finishedAtMs >= newest.createdAtMs);
  assertEquals(
    newest.steps.map((step) => [step.id, step.dependsOn, step.state, step.taskId, step.class]),
    [
      ["top", [], "succeeded", `${newest.runId}.top`, "cpu_short"],
      ["left", ["top"], "succeeded", `${newest.runId}.left`, "cpu_short"],
      ["right", ["top"], "succeeded", `${newest.runId}.right`, "cpu_long"],
      ["bottom", ["left", "right"], "succeeded", `${newest.runId}.bottom`, "cpu_short"],
    ],
  );
  assert(newest.steps.every((step) => step.startedAtMs > 0n && step.finishedAtMs >= step.startedAtMs));
  assertEquals(all.runs[1].workflowName, "other");

  // Filters: by workflow, by state, by run.
  const diamonds = await t.client.listWorkflowRuns({ workflowId: "diamond" });
  assertEquals(diamonds.runs.map((run) => run.runId), [started[2], started[0]]);
  assertEquals((await t.client.listWorkflowRuns({ states: ["running", "failed"] })).runs, []);
  const one = await t.client.listWorkflowRuns({ runId: started[1] });
  assertEquals(one.runs.map((run) => run.runId), [started[1]]);
  assertEquals((await t.client.listWorkflowRuns({ runId: "run-none" })).runs, []);

  // Paging: one run a page, every run once, in order.
  const paged: string[] = [];
  let pageToken = "";
  for (let pages = 0; pages < 10; pages++) {
    const page = await t.client.listWorkflowRuns({ pageSize: 1, pageToken });
    paged.push(...page.runs.map((run) => run.runId));
    pageToken = page.nextPageToken;
    if (!pageToken) break;
  }
  assertEquals(paged, [...started].reverse());
});

Deno.test("ListWorkflowRuns shows a cancelled run's steps as cancelled and a waiting step without a task", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({
    id: "long",
    spec: encode({
      steps: [{ id: "wait", payload: { task_type: "sleep", sleep_ms: 20000 } }, { id: "then", depends_on: ["wait"] }],
    }),
  });
  const { runId } = await t.client.startWorkflowRun({ workflowId: "long" });
  const running = (await t.client.listWorkflowRuns({ runId })).runs[0];
  assertEquals(running.state, "running");
  assertEquals(running.steps.map((step) => [step.id, step.state, step.taskId]), [
    ["wait", "running", `${runId}.wait`],
    ["then", "waiting", ""],
  ]);
  assertEquals((await t.client.listWorkflowRuns({ states: ["running"] })).runs.length, 1);
  await t.client.cancelWorkflowRun({ runId, reason: "from the test" });
  const cancelled = (await t.client.listWorkflowRuns({ runId })).runs[0];
  assertEquals([cancelled.state, cancelled.error], ["cancelled", "from the test"]);
  assertEquals(cancelled.steps.map((step) => step.state), ["cancelled", "cancelled"]);
});

Deno.test("ListWorkflowRuns answers INVALID_ARGUMENT naming the fix for a bad page size, token, state or id", async () => {
  await using t = await setUp();
  const refused = async (request: Parameters<Client["listWorkflowRuns"]>[0], expected: string) => {
    const error = await assertRejects(() => t.client.listWorkflowRuns(request), ConnectError);
    assertEquals(error.code, Code.InvalidArgument);
    assertStringIncludes(error.rawMessage, expected);
  };
  await refused({ pageSize: 101 }, "page_size 101 is out of range: give 0 (= 20) to 100");
  await refused({ pageSize: -1 }, "page_size -1 is out of range");
  await refused({ pageToken: "42" }, `page_token "42" is not one this server gave: pass next_page_token unchanged`);
  await refused({ pageToken: "x".repeat(100_000) }, "is not one this server gave");
  await refused({ states: ["done"] }, `state "done" is unknown; known run states: pending, running, succeeded`);
  await refused({ states: Array(6).fill("running") }, "6 states given; there are 5");
  await refused({ workflowId: "a b" }, `workflow_id "a b" is not an id`);
  await refused({ runId: "r".repeat(200) }, "run_id");
  // The largest page is accepted.
  assertEquals((await t.client.listWorkflowRuns({ pageSize: 100 })).runs, []);
});
