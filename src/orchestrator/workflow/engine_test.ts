/**
 * Engine tests on a real SQLite file and the real event log. Task execution
 * is driven by the test through a hand-cranked task service (the injected
 * fault: the test decides when and how each step task ends); the real task
 * service runs workflows end to end in tests/orchestrator_workflow_test.ts.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { openDatabase } from "../store/db.ts";
import { EventLog } from "../store/event_log.ts";
import { createWorkflowEngine } from "./engine.ts";
import { WorkflowExistsError, WorkflowInputError, WorkflowRunNotFoundError, WorkflowSpecError } from "./errors.ts";
import type { StepTaskInput, WorkflowTask, WorkflowTaskService } from "./ports.ts";
import type { RunStatus } from "./status.ts";

class CrankedTasks implements WorkflowTaskService {
  readonly tasks = new Map<string, WorkflowTask & { input: StepTaskInput }>();
  readonly submitted: string[] = [];
  #listeners = new Set<(task: WorkflowTask) => void>();

  submit(input: StepTaskInput) {
    const existing = this.tasks.get(input.id);
    if (existing) return { task: existing, created: false };
    const task = {
      id: input.id,
      state: "pending",
      result: {},
      error: "",
      labels: input.labels,
      input,
    };
    this.tasks.set(input.id, task);
    this.submitted.push(input.id);
    this.#emit(task);
    return { task, created: true };
  }
  get(id: string) {
    return this.tasks.get(id);
  }
  cancel(id: string, reason: string) {
    this.finish(id, "cancelled", {}, reason);
  }
  subscribe(listener: (task: WorkflowTask) => void) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  finish(id: string, state: string, data: unknown, error = "") {
    const task = this.tasks.get(id)!;
    Object.assign(task, {
      state,
      error,
      result: state === "completed" ? { data: JSON.stringify(data) } : {},
    });
    this.#emit(task);
  }
  #emit(task: WorkflowTask) {
    for (const listener of this.#listeners) listener({ ...task });
  }
}

async function setUp() {
  const home = await Deno.makeTempDir({ prefix: "wf-engine-" });
  const db = await openDatabase({ stateDir: home });
  const events = new EventLog(db);
  const tasks = new CrankedTasks();
  const engine = createWorkflowEngine({ db, tasks, events });
  return {
    home,
    db,
    events,
    tasks,
    engine,
    async [Symbol.asyncDispose]() {
      await engine.close();
      db.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

const PIPELINE = JSON.stringify({
  steps: [
    { id: "prep", payload: { task_type: "echo", dataset: "${input.dataset}" } },
    {
      id: "train",
      depends_on: ["prep"],
      payload: { rows: "${steps.prep.output.rows}", lr: 0.1 },
    },
    { id: "eval", depends_on: ["prep"], payload: { task_type: "noop" } },
    {
      id: "report",
      depends_on: ["train", "eval"],
      payload: { score: "score=${steps.train.output.score}" },
    },
  ],
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("WorkflowEngine runs a DAG as tasks, passing outputs downstream", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const started = await t.engine.startRun({
    workflowId: "pipe",
    input: { dataset: "d1" },
  });
  assertEquals(started.state, "running");
  assertEquals(t.tasks.submitted, [`${started.runId}.prep`]);
  const prep = t.tasks.tasks.get(`${started.runId}.prep`)!;
  assertEquals(prep.input.payload, { task_type: "echo", dataset: "d1" });
  assertEquals(prep.input.workflowId, "pipe");
  assertEquals(prep.input.labels, { run_id: started.runId, step_id: "prep" });

  t.tasks.finish(prep.id, "completed", { rows: 42 });
  await settle();
  assertEquals(t.tasks.submitted.length, 3);
  assertEquals(t.tasks.tasks.get(`${started.runId}.train`)!.input.payload, {
    rows: "42",
    lr: "0.1",
  });

  t.tasks.finish(`${started.runId}.train`, "completed", { score: 0.93 });
  t.tasks.finish(`${started.runId}.eval`, "completed", null);
  await settle();
  await settle();
  assertEquals(t.tasks.tasks.get(`${started.runId}.report`)!.input.payload, {
    score: "score=0.93",
  });
  t.tasks.finish(`${started.runId}.report`, "completed", { ok: true });
  const statuses: RunStatus[] = [];
  for await (
    const status of t.engine.watch(started.runId, AbortSignal.timeout(5000))
  ) statuses.push(status);
  const final = statuses.at(-1)!;
  assertEquals(final.state, "succeeded");
  assertEquals(final.stepsCompleted, 4);
  assertEquals(final.output, { "report.ok": "true" });
  const types = t.events.replay({}).map((event) => event.type);
  assertEquals(
    types.filter((type) => type === "workflow_step_started").length,
    4,
  );
  assertEquals(types.at(-1), "workflow_run_succeeded");
});

Deno.test("WorkflowEngine fails the run when a step fails and cancels the rest", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const { runId } = await t.engine.startRun({
    workflowId: "pipe",
    input: { dataset: "d" },
  });
  t.tasks.finish(`${runId}.prep`, "completed", { rows: 1 });
  await settle();
  const watched: string[] = [];
  const watching = (async () => {
    for await (
      const status of t.engine.watch(runId, AbortSignal.timeout(5000))
    ) {
      watched.push(`${status.state}:${status.currentStep}`);
    }
  })();
  t.tasks.finish(`${runId}.train`, "failed", undefined, "out of memory");
  await watching;
  const status = await t.engine.getRun(runId);
  assertEquals(status.state, "failed");
  assertEquals(status.error, `step "train" failed: out of memory`);
  assertEquals(
    status.steps.map((step) => `${step.id}:${step.state}`),
    ["prep:succeeded", "train:failed", "eval:cancelled", "report:cancelled"],
  );
  assertEquals(t.tasks.tasks.get(`${runId}.eval`)!.state, "cancelled");
  assertEquals(watched, ["running:train,eval", "failed:"]);
});

Deno.test("WorkflowEngine.startRun() returns the same run for the same idempotency key", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const first = await t.engine.startRun({
    workflowId: "pipe",
    idempotencyKey: "k",
    input: { dataset: "a" },
  });
  const again = await t.engine.startRun({
    workflowId: "pipe",
    idempotencyKey: "k",
    input: { dataset: "b" },
  });
  const other = await t.engine.startRun({
    workflowId: "pipe",
    idempotencyKey: "k2",
    input: { dataset: "a" },
  });
  assertEquals(again.runId, first.runId);
  assert(other.runId !== first.runId);
  assertEquals(t.tasks.submitted.length, 2);
  await assertRejects(
    () => t.engine.startRun({ workflowId: "pipe" }),
    WorkflowInputError,
    `input "dataset" is missing`,
  );
});

Deno.test("WorkflowEngine.create() is idempotent for the same spec and refuses a different one", async () => {
  await using t = await setUp();
  assertEquals(await t.engine.create({ id: "w", spec: PIPELINE }), {
    workflowId: "w",
    created: true,
  });
  assertEquals(await t.engine.create({ id: "w", spec: PIPELINE }), {
    workflowId: "w",
    created: false,
  });
  await assertRejects(
    () => t.engine.create({ id: "w", spec: '{"steps":[{"id":"x"}]}' }),
    WorkflowExistsError,
  );
  await assertRejects(
    () => t.engine.create({ id: "bad id", spec: PIPELINE }),
    WorkflowSpecError,
  );
  assert((await t.engine.create({ spec: PIPELINE })).workflowId.startsWith("wf-"));
});

Deno.test("WorkflowEngine.cancelRun() cancels running step tasks and is final", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const { runId } = await t.engine.startRun({
    workflowId: "pipe",
    input: { dataset: "d" },
  });
  const cancelled = await t.engine.cancelRun(runId, "operator said so");
  assertEquals(cancelled.state, "cancelled");
  assertEquals(cancelled.error, "operator said so");
  assertEquals(t.tasks.tasks.get(`${runId}.prep`)!.state, "cancelled");
  assertEquals((await t.engine.cancelRun(runId)).state, "cancelled");
  await settle();
  assertEquals(t.tasks.submitted.length, 1);
  await assertRejects(() => t.engine.getRun("run-missing"), WorkflowRunNotFoundError);
  await assertRejects(
    () => t.engine.cancelRun("run-missing"),
    WorkflowRunNotFoundError,
  );
});

Deno.test("WorkflowEngine resumes unfinished runs when it is created again on the same database", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const { runId } = await t.engine.startRun({
    workflowId: "pipe",
    input: { dataset: "d" },
  });
  await t.engine.close();
  // While no engine listens, the step task finishes (as after a daemon restart).
  t.tasks.finish(`${runId}.prep`, "completed", { rows: 7 });
  const engine = createWorkflowEngine({
    db: t.db,
    tasks: t.tasks,
    events: t.events,
  });
  await engine.recovered;
  assertEquals((await engine.getRun(runId)).steps.map((step) => step.state), [
    "succeeded",
    "running",
    "running",
    "waiting",
  ]);
  await engine.close();
});

Deno.test("WorkflowEngine submits a step task lost between recording the launch and submitting it", async () => {
  await using t = await setUp();
  await t.engine.create({ id: "pipe", spec: PIPELINE });
  const { runId } = await t.engine.startRun({ workflowId: "pipe", input: { dataset: "d" } });
  await t.engine.close();
  // As if the daemon died after the step row said "running" but before the task was stored.
  t.tasks.tasks.delete(`${runId}.prep`);
  const engine = createWorkflowEngine({ db: t.db, tasks: t.tasks, events: t.events });
  await engine.recovered;
  const prep = t.tasks.tasks.get(`${runId}.prep`);
  assertEquals(prep?.input.payload, { task_type: "echo", dataset: "d" });
  assertEquals((await engine.getRun(runId)).steps[0].state, "running");
  await engine.close();
});
