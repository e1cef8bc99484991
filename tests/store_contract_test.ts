/**
 * One contract, two stores: the same client-visible behaviour checked against a daemon on SQLite and a daemon on a
 * real PostgreSQL (started by the test; skipped where PostgreSQL cannot run). Each case talks gRPC to a real daemon.
 * @module
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { type DaemonProcess, startDaemonProcess } from "./support/daemon.ts";
import { postgresAvailable, startPostgres } from "./support/postgres.ts";

type Client = ReturnType<typeof createClient<typeof OrchestratorService>>;

async function waitFor(client: Client, id: string, done = (s: string) => s === "completed" || s === "failed") {
  for (let i = 0; i < 200; i++) {
    const status = await client.getTaskStatus({ taskId: id });
    if (done(status.status)) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    if (error instanceof ConnectError) return error.code;
    throw error;
  }
}

/** The contract: every case runs against each store. */
const CASES: [string, (client: Client) => Promise<void>][] = [
  ["a submitted task runs and its output is in the result; the same id again is the same task", async (client) => {
    assert((await client.submitTask({ id: "c-echo", payload: { task_type: "echo", n: "7" } })).success);
    const status = await waitFor(client, "c-echo");
    assertEquals(status.status, "completed");
    assertEquals(JSON.parse(status.result.data).n, 7);
    const again = await client.submitTask({ id: "c-echo", payload: { task_type: "fail" } });
    assertEquals([again.success, again.taskId], [true, "c-echo"]);
    assertEquals((await client.getTaskStatus({ taskId: "c-echo" })).status, "completed");
  }],
  ["unknown ids are NOT_FOUND; bad input is INVALID_ARGUMENT naming the field", async (client) => {
    assertEquals(await codeOf(client.getTaskStatus({ taskId: "c-nothing" })), Code.NotFound);
    try {
      await client.submitTask({ id: "c-bad", class: "no_such_class", payload: { task_type: "noop" } });
      throw new Error("accepted an unknown class");
    } catch (error) {
      assert(error instanceof ConnectError);
      assertEquals(error.code, Code.InvalidArgument);
      assertStringIncludes(error.message, "class");
    }
  }],
  ["a batch answers each task on its own", async (client) => {
    const answer = await client.submitTasks({
      tasks: [
        { id: "c-b1", payload: { task_type: "noop" } },
        { id: "c b2", payload: { task_type: "noop" } },
        { id: "c-b3", payload: { task_type: "noop" } },
      ],
    });
    assertEquals(answer.results.map((r) => r.success), [true, false, true]);
    assertStringIncludes(answer.results[1].error, "c b2");
    await waitFor(client, "c-b3");
  }],
  ["a failing task is retried up to max_attempts, then failed with its error", async (client) => {
    await client.submitTask({ id: "c-fail", payload: { task_type: "fail", message: "boom" }, maxAttempts: 2 });
    const status = await waitFor(client, "c-fail", (s) => s === "failed");
    assertEquals(status.task?.attempts, 2);
    assertEquals(status.task?.state, "failed");
    assertStringIncludes(status.error, "boom");
  }],
  ["an attempt past its timeout is timed_out", async (client) => {
    await client.submitTask({ id: "c-slow", payload: { task_type: "sleep", sleep_ms: "20000" }, timeoutSeconds: 1 });
    const status = await waitFor(client, "c-slow", (s) => s === "failed");
    assertEquals(status.task?.state, "timed_out");
  }],
  ["a waiting task can be cancelled; a finished one cannot", async (client) => {
    await client.submitTask({
      id: "c-later",
      payload: { task_type: "noop" },
      notBeforeMs: BigInt(Date.now() + 3_600_000),
    });
    assertEquals((await client.getTaskStatus({ taskId: "c-later" })).status, "pending");
    const cancelled = await client.cancelTask({ taskId: "c-later", reason: "no longer needed" });
    assert(cancelled.success, cancelled.error);
    const status = await client.getTaskStatus({ taskId: "c-later" });
    assertEquals(status.task?.state, "cancelled");
    assertStringIncludes(status.error, "no longer needed");
    await client.submitTask({ id: "c-done", payload: { task_type: "noop" } });
    await waitFor(client, "c-done");
    assertEquals((await client.cancelTask({ taskId: "c-done" })).success, false);
  }],
  ["listing filters by state, class and labels, a page at a time", async (client) => {
    for (let i = 0; i < 5; i++) {
      await client.submitTask({
        id: `c-l${i}`,
        class: "cpu_long",
        payload: { task_type: "noop" },
        labels: { sweep: "a" },
      });
    }
    await client.submitTask({ id: "c-l-other", payload: { task_type: "noop" }, labels: { sweep: "b" } });
    for (let i = 0; i < 5; i++) await waitFor(client, `c-l${i}`);
    const first = await client.listTasks({ labels: { sweep: "a" }, pageSize: 2 });
    assertEquals(first.tasks.length, 2);
    assert(first.nextPageToken !== "");
    const seen = new Set(first.tasks.map((t) => t.id));
    let token = first.nextPageToken;
    while (token) {
      const page = await client.listTasks({ labels: { sweep: "a" }, pageSize: 2, pageToken: token });
      for (const t of page.tasks) seen.add(t.id);
      token = page.nextPageToken;
    }
    assertEquals([...seen].sort(), ["c-l0", "c-l1", "c-l2", "c-l3", "c-l4"]);
    const byClass = await client.listTasks({ class: "cpu_long", states: ["completed"], pageSize: 100 });
    assert(byClass.tasks.every((t) => t.class === "cpu_long" && t.state === "completed"));
    assert(byClass.tasks.length >= 5);
  }],
  ["a result stream of named tasks ends once they are all finished", async (client) => {
    await client.submitTask({ id: "c-s1", payload: { task_type: "sleep", sleep_ms: "200" } });
    const statuses: string[] = [];
    for await (
      const r of client.streamTaskResults({ taskIds: ["c-s1"] }, { signal: AbortSignal.timeout(20_000) })
    ) {
      statuses.push(r.status);
    }
    assertEquals(statuses.at(-1), "completed");
  }],
  ["events replay by type and resume after a sequence number", async (client) => {
    const seen: { id: string; sequence: bigint }[] = [];
    for await (
      const e of client.streamEvents({ eventTypes: ["task_completed"] }, { signal: AbortSignal.timeout(10_000) })
    ) {
      seen.push({ id: e.resourceId, sequence: e.sequence });
      if (seen.length === 3) break;
    }
    assert(seen.every((e, i) => i === 0 || e.sequence > seen[i - 1].sequence));
    for await (
      const e of client.streamEvents({ eventTypes: ["task_completed"], afterSequence: seen[1].sequence }, {
        signal: AbortSignal.timeout(10_000),
      })
    ) {
      assertEquals(e.resourceId, seen[2].id);
      break;
    }
  }],
  [
    "workflow runs list newest first with their steps' DAG and states, filtered and a page at a time",
    async (client) => {
      const spec = {
        steps: [
          { id: "top", payload: { task_type: "noop" } },
          { id: "left", depends_on: ["top"], payload: { task_type: "noop" } },
          { id: "right", depends_on: ["top"], payload: { task_type: "noop" } },
          { id: "bottom", depends_on: ["left", "right"], payload: { task_type: "noop" } },
        ],
      };
      await client.createWorkflow({
        id: "c-diamond",
        name: "diamond",
        spec: new TextEncoder().encode(JSON.stringify(spec)),
      });
      const started: string[] = [];
      for (let i = 0; i < 3; i++) {
        started.push((await client.startWorkflowRun({ workflowId: "c-diamond" })).runId);
        await new Promise((r) => setTimeout(r, 5)); // a later millisecond: "newest first" has one answer
      }
      for (const runId of started) {
        let last = "";
        for await (const u of client.streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(20_000) })) {
          last = u.status;
        }
        assertEquals(last, "succeeded");
      }
      const seen: string[] = [];
      let pageToken = "";
      for (let pages = 0; pages < 10; pages++) {
        const page = await client.listWorkflowRuns({ workflowId: "c-diamond", pageSize: 2, pageToken });
        assert(page.runs.length <= 2);
        seen.push(...page.runs.map((run) => run.runId));
        pageToken = page.nextPageToken;
        if (!pageToken) break;
      }
      assertEquals(seen, [...started].reverse());
      const [run] = (await client.listWorkflowRuns({ runId: started[0] })).runs;
      assertEquals([run.workflowName, run.state], ["diamond", "succeeded"]);
      assertEquals(run.steps.map((s) => [s.id, s.dependsOn, s.state, s.taskId]), [
        ["top", [], "succeeded", `${run.runId}.top`],
        ["left", ["top"], "succeeded", `${run.runId}.left`],
        ["right", ["top"], "succeeded", `${run.runId}.right`],
        ["bottom", ["left", "right"], "succeeded", `${run.runId}.bottom`],
      ]);
      assertEquals((await client.listWorkflowRuns({ workflowId: "c-diamond", states: ["failed"] })).runs, []);
      assertEquals(await codeOf(client.listWorkflowRuns({ pageSize: 1000 })), Code.InvalidArgument);
      assertEquals(await codeOf(client.listWorkflowRuns({ pageToken: "not-a-token" })), Code.InvalidArgument);
    },
  ],
  ["metrics count the tasks", async (client) => {
    const { metrics } = await client.getMetrics({ metricNames: [] });
    assert(metrics.tasks_completed >= 1, JSON.stringify(metrics));
  }],
  ["metrics carry the last minute's run time and queue wait, beside the contract's keys", async (client) => {
    // Three 300 ms attempts among the few dozen this contract runs: more than 5% of them, so the p95 is one of them.
    const ids = ["c-lat-1", "c-lat-2", "c-lat-3"];
    for (const id of ids) await client.submitTask({ id, payload: { task_type: "sleep", sleep_ms: "300" } });
    for (const id of ids) assertEquals((await waitFor(client, id)).status, "completed");
    const { metrics } = await client.getMetrics({ metricNames: [] });
    assert(metrics.task_latency_window_attempts >= 3, JSON.stringify(metrics));
    assert(metrics.task_latency_window_attempts < 60, "the case's premise: few attempts in the window");
    assert(metrics.task_run_seconds_p95 >= 0.3, `run p95 ${metrics.task_run_seconds_p95}`);
    assert(metrics.task_run_seconds_p50 <= metrics.task_run_seconds_p95);
    assert(metrics.task_wait_seconds_p50 >= 0 && metrics.task_wait_seconds_p50 <= metrics.task_wait_seconds_p95);
    for (const key of ["tasks_pending", "tasks_running", "tasks_completed", "tasks_tracked_total", "task_error_rate"]) {
      assert(key in metrics, `the contract's key ${key}`);
    }
  }],
];

async function runContract(t: Deno.TestContext, daemon: DaemonProcess): Promise<void> {
  const baseUrl = `http://${daemon.grpcAddr}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const client = createClient(OrchestratorService, createGrpcTransport({ baseUrl, sessionManager }));
  try {
    for (const [name, check] of CASES) await t.step(name, () => check(client));
  } finally {
    sessionManager.abort();
  }
}

const CONFIG = "[services]\nredis = false\n";

Deno.test({
  name: "the store contract on SQLite",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using daemon = await startDaemonProcess({ configToml: CONFIG });
    await runContract(t, daemon);
  },
});

Deno.test({
  name: "the store contract on PostgreSQL",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("contract");
    await using daemon = await startDaemonProcess({ configToml: CONFIG, env: { DSPY_AGENT_STORE_URL: url } });
    await runContract(t, daemon);
  },
});
