/**
 * The OrchestratorService handlers through an in-memory Connect transport
 * with the daemon's error interceptor: real orchestrator, real SQLite file.
 */
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { errorInterceptor } from "../src/api/interceptor.ts";
import { handleLegacyRequest } from "../src/api/legacy_http.ts";
import { orchestratorHandlers } from "../src/api/orchestrator_service.ts";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { silentLogger } from "../src/log/mod.ts";
import { openOrchestrator, type SqliteOrchestrator } from "../src/orchestrator/mod.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./support/assert.ts";

async function setup(): Promise<
  & { orchestrator: SqliteOrchestrator; client: ReturnType<typeof createClient<typeof OrchestratorService>> }
  & AsyncDisposable
> {
  const stateDir = await Deno.makeTempDir({ prefix: "dspy-orch-api-" });
  const orchestrator = await openOrchestrator({
    stateDir,
    registry: new Registry(),
    hardware: { cpuCores: 2, gpus: 0 },
    slurm: false,
    retryBaseMs: 20,
  });
  const transport = createRouterTransport(
    (router) => router.service(OrchestratorService, orchestratorHandlers(orchestrator)),
    { router: { interceptors: [errorInterceptor(silentLogger)] } },
  );
  return {
    orchestrator,
    client: createClient(OrchestratorService, transport),
    async [Symbol.asyncDispose]() {
      await orchestrator[Symbol.asyncDispose]();
      await Deno.remove(stateDir, { recursive: true });
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<Code | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

Deno.test("GetTaskStatus sees a task the moment SubmitTask returns; INVALID_ARGUMENT and NOT_FOUND", async () => {
  await using t = await setup();
  const submitted = await t.client.submitTask({ payload: { task_type: "sleep", sleep_ms: "50" } });
  assert(submitted.success);
  assert(submitted.taskId.startsWith("task-"));
  const status = await t.client.getTaskStatus({ taskId: submitted.taskId });
  assert(["pending", "running"].includes(status.status), status.status);
  assertEquals(status.task?.class, "cpu_short");
  assertEquals(await codeOf(t.client.getTaskStatus({ taskId: "" })), Code.InvalidArgument);
  assertEquals(await codeOf(t.client.getTaskStatus({ taskId: "nope" })), Code.NotFound);
  assertEquals(await codeOf(t.client.submitTask({ id: "bad/id" })), Code.InvalidArgument);
  assertEquals(await codeOf(t.client.submitTask({ id: "c", class: "quantum" })), Code.InvalidArgument);
});

Deno.test("SubmitTask of class gpu_slurm without Slurm answers FAILED_PRECONDITION", async () => {
  await using t = await setup();
  const error = await assertRejects(
    () => t.client.submitTask({ id: "s1", class: "gpu_slurm", payload: { task_type: "noop" } }),
    ConnectError,
  );
  assertEquals(error.code, Code.FailedPrecondition);
  assertStringIncludes(error.message, "sbatch");
  assertEquals(await codeOf(t.client.getTaskStatus({ taskId: "s1" })), Code.NotFound);
});

Deno.test("StreamTaskResults sends the snapshot, then one message per change, no repeats, and ends when done", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "st1", maxAttempts: 2, payload: { task_type: "fail", fail_attempts: "1" } });
  const seen: string[] = [];
  for await (const r of t.client.streamTaskResults({ taskIds: ["st1"] })) {
    seen.push(`${r.status}/${r.state}/${r.attempts}`);
    if (r.status === "completed") {
      assertEquals(JSON.parse(r.result.metadata).attempts, 2);
      assert(r.completedAt > 0n);
    }
  }
  // Every message differs from the one before (one per change), and it ends completed.
  for (let i = 1; i < seen.length; i++) assert(seen[i] !== seen[i - 1], seen.join(" "));
  assertEquals(seen[seen.length - 1], "completed/completed/2");
  assert(seen.includes("pending/retrying/1"), seen.join(" "));
});

Deno.test("StreamTaskResults shows a named task that finished before the stream opened", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "fast", payload: { task_type: "noop" } });
  while ((await t.client.getTaskStatus({ taskId: "fast" })).status !== "completed") {
    await new Promise((r) => setTimeout(r, 5));
  }
  const all = [];
  for await (const r of t.client.streamTaskResults({ taskIds: ["fast"] })) all.push(r.status);
  assertEquals(all, ["completed"]);
});

Deno.test("StreamTaskResults with no ids skips finished tasks unless include_completed", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "done1", payload: { task_type: "noop" } });
  while ((await t.client.getTaskStatus({ taskId: "done1" })).status !== "completed") {
    await new Promise((r) => setTimeout(r, 5));
  }
  await t.client.submitTask({ id: "wait1", class: "gpu", payload: { task_type: "noop" } });
  const controller = new AbortController();
  const first = [];
  for await (const r of t.client.streamTaskResults({}, { signal: controller.signal })) {
    first.push(r.taskId);
    break;
  }
  assertEquals(first, ["wait1"]);
  const withDone = [];
  for await (const r of t.client.streamTaskResults({ includeCompleted: true })) {
    withDone.push(r.taskId);
    if (withDone.length === 2) break;
  }
  assertEquals(withDone.sort(), ["done1", "wait1"]);
});

Deno.test("CancelTask cancels; the v1 status reads failed with the reason in error", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "long", payload: { task_type: "sleep", sleep_ms: "30000" } });
  const cancelled = await t.client.cancelTask({ taskId: "long", reason: "changed my mind" });
  assertEquals([cancelled.success, cancelled.status], [true, "failed"]);
  const status = await t.client.getTaskStatus({ taskId: "long" });
  assertEquals([status.status, status.task?.state], ["failed", "cancelled"]);
  assertStringIncludes(status.error, "changed my mind");
  const again = await t.client.cancelTask({ taskId: "long" });
  assertEquals(again.success, false);
  assertEquals(await codeOf(t.client.cancelTask({ taskId: "ghost" })), Code.NotFound);
});

Deno.test("ListTasks filters by state, class, workflow and labels, newest first, with paging", async () => {
  await using t = await setup();
  for (let i = 0; i < 5; i++) {
    await t.client.submitTask({
      id: `l${i}`,
      class: "gpu",
      workflowId: i % 2 ? "wf" : "",
      payload: { task_type: "noop" },
      labels: { run: `r${i % 2}` },
    });
  }
  const page1 = await t.client.listTasks({ pageSize: 2 });
  assertEquals(page1.tasks.map((x) => x.id), ["l4", "l3"]);
  const page2 = await t.client.listTasks({ pageSize: 2, pageToken: page1.nextPageToken });
  assertEquals(page2.tasks.map((x) => x.id), ["l2", "l1"]);
  const page3 = await t.client.listTasks({ pageSize: 2, pageToken: page2.nextPageToken });
  assertEquals([page3.tasks.map((x) => x.id), page3.nextPageToken], [["l0"], ""]);
  assertEquals((await t.client.listTasks({ workflowId: "wf" })).tasks.map((x) => x.id), ["l3", "l1"]);
  assertEquals((await t.client.listTasks({ labels: { run: "r0" } })).tasks.length, 3);
  assertEquals((await t.client.listTasks({ states: ["pending"], class: "gpu" })).tasks.length, 5);
  assertEquals((await t.client.listTasks({ states: ["completed"] })).tasks.length, 0);
  assertEquals(await codeOf(t.client.listTasks({ states: ["weird"] })), Code.InvalidArgument);
});

Deno.test("GetMetrics returns the docs/compatibility.md §2.9 keys with real values, filtered by metric_names", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "m1", payload: { task_type: "noop" } });
  await t.client.submitTask({ id: "m2", class: "gpu", payload: { task_type: "noop" } });
  while ((await t.client.getTaskStatus({ taskId: "m1" })).status !== "completed") {
    await new Promise((r) => setTimeout(r, 5));
  }
  const { metrics } = await t.client.getMetrics({});
  for (
    const key of [
      "tasks_pending",
      "tasks_running",
      "tasks_completed",
      "tasks_tracked_total",
      "task_error_rate",
      "concurrency_limit",
      "env_queue_depth",
      "gpu_wait_seconds",
    ]
  ) assert(key in metrics, `missing ${key}`);
  assertEquals([metrics.tasks_completed, metrics.tasks_pending, metrics.tasks_tracked_total], [1, 1, 2]);
  assertEquals(metrics["queue_depth.gpu"], 1);
  assertEquals(metrics["concurrency_limit.cpu_short"], 4);
  const filtered = await t.client.getMetrics({ metricNames: ["tasks_completed", "nope"] });
  assertEquals(filtered.metrics, { tasks_completed: 1 });
});

Deno.test("StreamEvents replays since a time, then follows live events; after_sequence resumes", async () => {
  await using t = await setup();
  await t.client.submitTask({ id: "ev1", class: "gpu", payload: { task_type: "noop" } });
  const controller = new AbortController();
  const got: { type: string; id: string; seq: bigint }[] = [];
  const stream = t.client.streamEvents({ eventTypes: ["task_submitted"], sinceTimestamp: 1n }, {
    signal: controller.signal,
  });
  for await (const event of stream) {
    got.push({ type: event.eventType, id: event.resourceId, seq: event.sequence });
    assertEquals(event.data.class, "gpu");
    if (got.length === 1) await t.client.submitTask({ id: "ev2", class: "gpu", payload: { task_type: "noop" } });
    if (got.length === 2) break;
  }
  assertEquals(got.map((e) => e.id), ["ev1", "ev2"]);
  const resumed = [];
  for await (const event of t.client.streamEvents({ afterSequence: got[0].seq, eventTypes: ["task_submitted"] })) {
    resumed.push(event.resourceId);
    break;
  }
  assertEquals(resumed, ["ev2"]);
});

Deno.test("handleLegacyRequest() serves POST /queue/submit and GET /queue/status", async () => {
  await using t = await setup();
  const body = new TextEncoder().encode(
    JSON.stringify({ id: "h1", payload: { task_type: "echo", n: 2, nested: { a: true } } }),
  );
  const submitted = await handleLegacyRequest({ method: "POST", path: "/queue/submit", body }, t.orchestrator);
  assertEquals(submitted, { status: 200, body: { ok: true, id: "h1" } });
  while (t.orchestrator.tasks.get("h1").state !== "completed") await new Promise((r) => setTimeout(r, 5));
  assertEquals(JSON.parse(t.orchestrator.tasks.get("h1").result.data), {
    task_type: "echo",
    n: 2,
    nested: { a: true },
  });
  const status = await handleLegacyRequest({ method: "GET", path: "/queue/status" }, t.orchestrator);
  assertEquals(status, { status: 200, body: { pending: 0, done: 1, submitted: 1, processed: 1, completed: 1 } });
  const bad = await handleLegacyRequest(
    { method: "POST", path: "/queue/submit", body: new TextEncoder().encode("[") },
    t.orchestrator,
  );
  assertEquals(bad?.status, 400);
  assertEquals(await handleLegacyRequest({ method: "GET", path: "/other" }, t.orchestrator), undefined);
});
