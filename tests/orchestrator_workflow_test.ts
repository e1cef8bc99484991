/**
 * Workflows end to end on the real orchestrator (real SQLite store, real
 * scheduler and built-in executors), through the Connect handlers on an
 * in-memory router transport with the daemon's error interceptor.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { SqliteOrchestrator } from "../src/orchestrator/mod.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./support/assert.ts";
import { startWorkflowApi, type WorkflowClient } from "./support/workflow_api.ts";

const setUp = () => startWorkflowApi("wf-e2e-");

const encode = (spec: unknown) => new TextEncoder().encode(JSON.stringify(spec));

type Client = WorkflowClient;

async function statusesOf(client: Client, runId: string) {
  const seen: {
    status: string;
    stepsCompleted: number;
    currentStep: string;
    error: string;
    output: Record<string, string>;
  }[] = [];
  for await (const update of client.streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(20_000) })) {
    seen.push({
      status: update.status,
      stepsCompleted: update.stepsCompleted,
      currentStep: update.currentStep,
      error: update.error,
      output: update.output,
    });
  }
  return seen;
}
function stepTasks(orchestrator: SqliteOrchestrator, runId: string) {
  return orchestrator.tasks.list({ labels: { run_id: runId } }).tasks;
}

Deno.test("StreamWorkflowStatus follows a run whose steps pass outputs downstream to success", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({
    id: "train-eval",
    name: "train and evaluate",
    spec: encode({
      steps: [
        { id: "prep", payload: { task_type: "echo", dataset: "${input.dataset}", rows: 128 } },
        { id: "train", depends_on: ["prep"], payload: { task_type: "echo", rows: "${steps.prep.output.rows}" } },
        { id: "eval", depends_on: ["prep"], payload: { task_type: "sleep", sleep_ms: 30 } },
        {
          id: "report",
          depends_on: ["train", "eval"],
          payload: {
            task_type: "echo",
            summary: "rows=${steps.train.output.rows} slept=${steps.eval.output.slept_ms}",
          },
        },
      ],
    }),
  });
  const { runId, success } = await t.client.startWorkflowRun({
    workflowId: "train-eval",
    idempotencyKey: "first",
    input: { dataset: "squad" },
  });
  assert(success);
  const seen = await statusesOf(t.client, runId);
  const last = seen.at(-1)!;
  assertEquals(last.status, "succeeded");
  assertEquals(last.stepsCompleted, 4);
  assertEquals(last.output["report.summary"], "rows=128 slept=30");
  assert(seen.length >= 2 || seen[0].status === "succeeded");
  const tasks = stepTasks(t.orchestrator, runId);
  assertEquals(tasks.length, 4);
  for (const task of tasks) {
    assertEquals(task.workflowId, "train-eval");
    assertEquals(task.state, "completed");
  }
  // The same idempotency key returns the same run and starts nothing new.
  const again = await t.client.startWorkflowRun({ workflowId: "train-eval", idempotencyKey: "first" });
  assertEquals(again.runId, runId);
  assertEquals(stepTasks(t.orchestrator, runId).length, 4);
});

Deno.test("A failing step fails the run and cancels the steps after it", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({
    id: "breaks",
    spec: encode({
      steps: [
        { id: "a", payload: { task_type: "noop" } },
        { id: "bad", depends_on: ["a"], max_attempts: 2, payload: { task_type: "fail", message: "disk full" } },
        { id: "slow", depends_on: ["a"], payload: { task_type: "sleep", sleep_ms: 20000 } },
        { id: "after", depends_on: ["bad", "slow"], payload: { task_type: "noop" } },
      ],
    }),
  });
  const { runId } = await t.client.startWorkflowRun({ workflowId: "breaks" });
  const last = (await statusesOf(t.client, runId)).at(-1)!;
  assertEquals(last.status, "failed");
  assertStringIncludes(last.error, `step "bad" failed`);
  assertStringIncludes(last.error, "disk full");
  const byStep = Object.fromEntries(stepTasks(t.orchestrator, runId).map((task) => [task.labels.step_id, task]));
  assertEquals(byStep.bad.attempts, 2);
  assertEquals(byStep.bad.state, "failed");
  assertEquals(byStep.slow.state, "cancelled");
  assertEquals(byStep.after, undefined);
  const run = await t.orchestrator.workflows.getRun(runId);
  assertEquals(run.steps.map((step) => step.state), ["succeeded", "failed", "cancelled", "cancelled"]);
});

Deno.test("A step whose retry policy saves it lets the run succeed", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({
    id: "flaky",
    spec: encode({
      steps: [
        { id: "flaky", max_attempts: 3, payload: { task_type: "fail", fail_attempts: 2 } },
        {
          id: "next",
          depends_on: ["flaky"],
          payload: { task_type: "echo", attempt: "${steps.flaky.output.recovered_on_attempt}" },
        },
      ],
    }),
  });
  const { runId } = await t.client.startWorkflowRun({ workflowId: "flaky" });
  const last = (await statusesOf(t.client, runId)).at(-1)!;
  assertEquals(last.status, "succeeded");
  assertEquals(last.output["next.attempt"], "3");
  const flaky = stepTasks(t.orchestrator, runId).find((task) => task.labels.step_id === "flaky")!;
  assertEquals(flaky.attempts, 3);
});

Deno.test("CreateWorkflow answers INVALID_ARGUMENT naming a cycle or an unknown reference", async () => {
  await using t = await setUp();
  const cycle = await assertRejects(
    () =>
      t.client.createWorkflow({
        id: "w",
        spec: encode({ steps: [{ id: "a", depends_on: ["b"] }, { id: "b", depends_on: ["a"] }] }),
      }),
    ConnectError,
  );
  assertEquals(cycle.code, Code.InvalidArgument);
  assertEquals(cycle.rawMessage, `Cannot create workflow "w": steps form a cycle: a -> b -> a`);
  const unknown = await assertRejects(
    () =>
      t.client.createWorkflow({
        id: "w",
        spec: encode({ steps: [{ id: "a", payload: { x: "${steps.zz.output}" } }] }),
      }),
    ConnectError,
  );
  assertEquals(unknown.code, Code.InvalidArgument);
  assertStringIncludes(unknown.rawMessage, `references unknown step "zz"`);
  const missing = await assertRejects(() => t.client.startWorkflowRun({ workflowId: "nope" }), ConnectError);
  assertEquals(missing.code, Code.NotFound);
  const noRun = await assertRejects(async () => {
    for await (const _ of t.client.streamWorkflowStatus({ runId: "run-nope" })) { /* none */ }
  }, ConnectError);
  assertEquals(noRun.code, Code.NotFound);
});

Deno.test("CancelWorkflowRun cancels the running step task and ends the status stream", async () => {
  await using t = await setUp();
  await t.client.createWorkflow({
    id: "long",
    spec: encode({
      steps: [{ id: "wait", payload: { task_type: "sleep", sleep_ms: 20000 } }, { id: "then", depends_on: ["wait"] }],
    }),
  });
  const { runId } = await t.client.startWorkflowRun({ workflowId: "long" });
  const streaming = statusesOf(t.client, runId);
  const cancelled = await t.client.cancelWorkflowRun({ runId, reason: "no longer needed" });
  assertEquals([cancelled.success, cancelled.status], [true, "cancelled"]);
  const last = (await streaming).at(-1)!;
  assertEquals([last.status, last.error], ["cancelled", "no longer needed"]);
  const wait = stepTasks(t.orchestrator, runId).find((task) => task.labels.step_id === "wait")!;
  assertEquals(wait.state, "cancelled");
  // Cancelling again is idempotent; cancelling a finished run says why not.
  const twice = await t.client.cancelWorkflowRun({ runId });
  assertEquals([twice.success, twice.status], [true, "cancelled"]);
  await t.client.createWorkflow({
    id: "quick",
    spec: encode({ steps: [{ id: "n", payload: { task_type: "noop" } }] }),
  });
  const quick = await t.client.startWorkflowRun({ workflowId: "quick" });
  assertEquals((await statusesOf(t.client, quick.runId)).at(-1)!.status, "succeeded");
  const late = await t.client.cancelWorkflowRun({ runId: quick.runId });
  assertEquals([late.success, late.status, late.error], [
    false,
    "succeeded",
    `Cannot cancel run "${quick.runId}": it is already succeeded`,
  ]);
});
