/**
 * Several daemons on one real PostgreSQL (started by the test, tests/support/postgres.ts): they behave as one queue
 * (any daemon answers any call, a result made on one reaches a stream on another, the work spreads over all of them),
 * and survive kill -9 of any one at random points with every accepted task completed exactly once.
 *
 *   deno test -P=test tests/scale_postgres_test.ts -- --kill-points=20
 *
 * Needs root and Debian's postgresql (scripts/ensure-system-deps installs it); skipped elsewhere.
 * @module
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { parseArgs } from "node:util";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { cliCommand, type DaemonProcess, freePort, startDaemonProcess } from "./support/daemon.ts";
import {
  connectDaemon,
  type DaemonClient,
  postgresAvailable,
  SHARED_STORE_CONFIG,
  startPostgres,
  type TestPostgres,
} from "./support/postgres.ts";
import { PYTHON } from "./support/python.ts";
import { seededRandom } from "./support/random.ts";
import { connectStore, MIGRATIONS } from "../src/orchestrator/postgres/schema.ts";
import { type TaskAssignment, WorkerService } from "../src/gen/worker/v1/worker_pb.ts";

function startOn(pg: { url: string }, home?: string): Promise<DaemonProcess> {
  return startDaemonProcess({ home, configToml: SHARED_STORE_CONFIG, env: { DSPY_AGENT_STORE_URL: pg.url } });
}

async function completedTwice(pg: TestPostgres, database: string): Promise<string> {
  return (await pg.psql(
    `SELECT resource_id FROM dspy_events WHERE type = 'task_completed' GROUP BY resource_id HAVING count(*) > 1`,
    database,
  )).trim();
}

const PY_CLIENT = `
import json, sys
from dspy_agent_client import Client
a, b = Client(sys.argv[1]), Client(sys.argv[2])
ids = a.submit_many([{"task_type": "echo", "payload": {"n": n}} for n in range(20)])
# Submitted on one daemon, awaited on another: one queue.
outputs = [b.wait(i, timeout=60) for i in ids]
print(json.dumps({"ns": [o["n"] for o in outputs], "state": b.get(ids[0])["state"]}))
`;

Deno.test({
  name: "three daemons on one PostgreSQL are one queue: any daemon answers, results reach streams on the others",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("one_queue");
    // One after another: free ports are picked per daemon, and two picks at once could meet.
    const daemons: DaemonProcess[] = [];
    for (let i = 0; i < 3; i++) daemons.push(await startOn({ url }));
    const clients = daemons.map(connectDaemon);
    try {
      // A stream opened on the third daemon for tasks submitted to the first.
      const ids = Array.from({ length: 60 }, (_, i) => `q-${i}`);
      const streamed = new Map<string, string>();
      let streamError: unknown;
      const stream = (async () => {
        for await (
          const r of clients[2].streamTaskResults({ taskIds: ids }, { signal: AbortSignal.timeout(60_000) })
        ) {
          if (r.status === "completed") streamed.set(r.taskId, r.result.data);
          if (streamed.size === ids.length) return;
        }
      })().catch((error) => (streamError = error));
      await new Promise((r) => setTimeout(r, 300));
      const submitted = await clients[0].submitTasks({
        tasks: ids.map((id, i) => ({
          id,
          payload: { task_type: i % 3 === 0 ? "sleep" : "echo", sleep_ms: "1500", i: `${i}` },
        })),
      });
      assert(submitted.results.every((r) => r.success), JSON.stringify(submitted.results.find((r) => !r.success)));
      // While they run, the attempts are spread over the daemons (the sleeps last long enough for a slow psql to see).
      const owners = new Set<string>();
      for (let i = 0; i < 40 && streamed.size < ids.length; i++) {
        for (
          const line of (await pg.psql("SELECT owner FROM dspy_tasks WHERE state = 'running'", "one_queue")).split("\n")
        ) {
          if (line.trim()) owners.add(line.trim());
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await stream;
      assertEquals(streamError, undefined);
      assertEquals(streamed.size, ids.length);
      assertEquals(JSON.parse(streamed.get("q-1")!).i, 1);
      assert(owners.size >= 2, `only ${owners.size} daemon(s) ran attempts`);
      // Any daemon answers for any task: status and listing on the second.
      const status = await clients[1].getTaskStatus({ taskId: "q-4" });
      assertEquals(status.status, "completed");
      const listed = await clients[1].listTasks({ states: ["completed"], pageSize: 1000 });
      assertEquals(listed.tasks.filter((t) => ids.includes(t.id)).length, ids.length);
      // A cancel on one daemon stops a task another runs.
      await clients[0].submitTask({ id: "long", payload: { task_type: "sleep", sleep_ms: "60000" } });
      for (let i = 0; i < 100; i++) {
        if ((await clients[2].getTaskStatus({ taskId: "long" })).status === "running") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const cancelled = await clients[2].cancelTask({ taskId: "long", reason: "enough" });
      assert(cancelled.success, cancelled.error);
      assertEquals((await clients[1].getTaskStatus({ taskId: "long" })).task?.state, "cancelled");
      // Events from every daemon, in one sequence, on any daemon's stream.
      const seen: string[] = [];
      for await (
        const event of clients[1].streamEvents({ eventTypes: ["task_completed"] }, {
          signal: AbortSignal.timeout(10_000),
        })
      ) {
        seen.push(event.resourceId);
        if (seen.length === ids.length) break;
      }
      assertEquals(new Set(seen).size, ids.length);
      // The Python client sees one queue too.
      const py = await new Deno.Command(PYTHON, {
        args: ["-c", PY_CLIENT, daemons[0].grpcAddr, daemons[1].grpcAddr],
        env: { PYTHONPATH: new URL("../python/", import.meta.url).pathname },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(py.code, 0, new TextDecoder().decode(py.stderr));
      const out = JSON.parse(new TextDecoder().decode(py.stdout).trim().split("\n").at(-1)!);
      assertEquals(out, { ns: Array.from({ length: 20 }, (_, n) => n), state: "completed" });
      // A workflow made on one daemon, started on another, watched on the third, advances once.
      const chain = Array.from({ length: 4 }, (_, i) => ({
        id: `s${i}`,
        depends_on: i === 0 ? [] : [`s${i - 1}`],
        payload: i % 2 === 0
          ? { task_type: "sleep", sleep_ms: 100 }
          : { task_type: "echo", previous: `\${steps.s${i - 1}.output}` },
      }));
      await clients[0].createWorkflow({
        id: "chain",
        spec: new TextEncoder().encode(JSON.stringify({ steps: chain })),
      });
      const { runId } = await clients[1].startWorkflowRun({ workflowId: "chain", idempotencyKey: "k1" });
      const again = await clients[2].startWorkflowRun({ workflowId: "chain", idempotencyKey: "k1" });
      assertEquals(again.runId, runId);
      let last;
      for await (const update of clients[2].streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(30_000) })) {
        last = update;
      }
      assertEquals([last?.status, last?.stepsCompleted, last?.error], ["succeeded", 4, ""]);
      assertEquals(
        (await pg.psql(
          `SELECT count(*) FROM dspy_events WHERE type = 'workflow_run_succeeded' AND resource_id = '${runId}'`,
          "one_queue",
        )).trim(),
        "1",
      );
      assertEquals(await completedTwice(pg, "one_queue"), "");
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- daemon output ---\n${daemons.map((d) => d.output()).join("\n")}`,
        {
          cause: error,
        },
      );
    } finally {
      for (const client of clients) client.close();
      await Promise.all(daemons.map((d) => d[Symbol.asyncDispose]()));
    }
  },
});

function killPoints(): { points: number; seed: number } {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "kill-points": { type: "string" }, seed: { type: "string" } },
    strict: false,
  });
  return {
    points: Number(values["kill-points"] ?? Deno.env.get("SCALE_KILL_POINTS") ?? 20),
    seed: Number(values.seed ?? Date.now() % 100_000),
  };
}

Deno.test({
  name:
    "three daemons on one PostgreSQL survive kill -9 of any one at random points; every accepted task completes once",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { points, seed } = killPoints();
    const random = seededRandom(seed);
    const rand = () => random.next();
    await using pg = await startPostgres();
    const url = await pg.createDatabase("kills");
    const homes = await Promise.all([0, 1, 2].map(() => Deno.makeTempDir({ prefix: "dspy-agent-scale-" })));
    const daemons: DaemonProcess[] = [];
    for (const home of homes) daemons.push(await startOn({ url }, home));
    let clients = daemons.map(connectDaemon);
    const accepted = new Map<string, string>();
    let next = 0;
    const started = performance.now();
    try {
      // A workflow run in progress continues across the kills, whichever daemons advance it.
      const chain = Array.from({ length: 6 }, (_, i) => ({
        id: `s${i}`,
        depends_on: i === 0 ? [] : [`s${i - 1}`],
        payload: i % 2 === 0
          ? { task_type: "sleep", sleep_ms: 400 }
          : { task_type: "echo", previous: `\${steps.s${i - 1}.output}` },
      }));
      await clients[0].createWorkflow({
        id: "durable",
        spec: new TextEncoder().encode(JSON.stringify({ steps: chain })),
      });
      const { runId } = await clients[1].startWorkflowRun({ workflowId: "durable", idempotencyKey: `seed-${seed}` });
      for (let round = 0; round < points; round++) {
        const stop = new AbortController();
        const submitters = Array.from({ length: 4 }, async (_, s) => {
          while (!stop.signal.aborted) {
            const id = `k-${seed}-${next++}`;
            const token = crypto.randomUUID();
            const roll = rand();
            const payload: Record<string, string> = roll < 0.5
              ? { task_type: "sleep", sleep_ms: String(Math.floor(rand() * 300)), token }
              : { task_type: "echo", token };
            try {
              const client = clients[(s + next) % clients.length];
              const answer = await client.submitTask({ id, payload }, { signal: stop.signal });
              if (answer.success) accepted.set(id, payload.task_type === "echo" ? token : "");
            } catch {
              // The daemon died under the call: not accepted.
            }
            await new Promise((r) => setTimeout(r, rand() * 10));
          }
        });
        await new Promise((r) => setTimeout(r, 200 + rand() * 1200));
        const victim = Math.floor(rand() * daemons.length);
        daemons[victim].kill("SIGKILL");
        assertEquals(await daemons[victim].exited, 137, daemons[victim].output());
        stop.abort();
        await Promise.all(submitters);
        for (const client of clients) client.close();
        daemons[victim] = await startOn({ url }, homes[victim]);
        clients = daemons.map(connectDaemon);
      }
      const killedMs = performance.now() - started;
      const deadline = Date.now() + 120_000;
      const pending = new Set(accepted.keys());
      let interrupted = 0;
      while (pending.size > 0 && Date.now() < deadline) {
        for (const id of [...pending]) {
          const status = await clients[Math.floor(rand() * 3)].getTaskStatus({ taskId: id });
          if (status.status === "failed") throw new Error(`task "${id}" failed: ${status.error}`);
          if (status.status !== "completed") continue;
          pending.delete(id);
          assertEquals(status.task?.attempts, 1, `attempts of "${id}"`);
          if ((status.task?.interruptions ?? 0) > 0) interrupted++;
          // An echo task's output is its own payload: no other task's result was recorded for it.
          if (accepted.get(id)) {
            assertEquals(JSON.parse(status.result.data).token, accepted.get(id), `output of "${id}"`);
          }
        }
        if (pending.size > 0) await new Promise((r) => setTimeout(r, 200));
      }
      assertEquals([...pending], [], "accepted tasks that never completed");
      assertEquals(await completedTwice(pg, "kills"), "", "tasks completed more than once");
      assert(interrupted > 0, "no kill interrupted a running task; the test proved nothing");
      let run;
      for await (const update of clients[2].streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(60_000) })) {
        run = update;
      }
      assertEquals([run?.status, run?.stepsCompleted, run?.error], ["succeeded", 6, ""]);
      assertEquals(
        (await pg.psql(`SELECT count(*) FROM dspy_events WHERE type = 'workflow_run_succeeded'`, "kills")).trim(),
        "1",
      );
      console.log(
        `scale: seed ${seed}, ${points} kill -9 points over 3 daemons in ${(killedMs / 1000).toFixed(1)} s, ` +
          `${accepted.size} accepted tasks all completed once, ${interrupted} after an interrupted attempt`,
      );
    } finally {
      for (const client of clients) client.close();
      await Promise.all(daemons.map((d) => d.stop().catch(() => 0)));
      for (const home of homes) await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "PostgreSQL store: daemons starting at once migrate once; a lost database answers UNAVAILABLE and recovers",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("ops");
    // Ports chosen first, one by one; then three daemons start together on the empty database.
    const envs = [];
    for (let i = 0; i < 3; i++) {
      envs.push({
        DSPY_AGENT_STORE_URL: url,
        ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
        ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
      });
    }
    const daemons = await Promise.all(envs.map((env) => startDaemonProcess({ configToml: SHARED_STORE_CONFIG, env })));
    const client = connectDaemon(daemons[0]);
    try {
      // Each version applied once, however many daemons raced to apply it.
      assertEquals(
        (await pg.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM dspy_schema", "ops")).trim(),
        MIGRATIONS.map((_, i) => i + 1).join(","),
      );
      const ok = await client.submitTask({ id: "before", payload: { task_type: "echo", x: "1" } });
      assert(ok.success);

      // Submitters keep going on all three daemons while the database stops and starts again.
      const others = [connectDaemon(daemons[1]), connectDaemon(daemons[2])];
      const acknowledged = new Set<string>();
      const refused: string[] = [];
      let n = 0;
      const stop = new AbortController();
      const submitters = [client, ...others].map(async (c) => {
        while (!stop.signal.aborted) {
          const id = `load-${n++}`;
          try {
            const answer = await c.submitTask({ id, payload: { task_type: "echo", id } });
            if (answer.success) acknowledged.add(id);
          } catch (error) {
            if (error instanceof ConnectError) refused.push(`${Code[error.code]}: ${error.message}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300));
      await pg.stopServer();
      await new Promise((r) => setTimeout(r, 500));
      // The database is away: calls fail with UNAVAILABLE, naming the store (not its password) and what to do.
      const during = refused.at(-1) ?? "";
      assertStringIncludes(during, "Unavailable: ", daemons[0].output());
      assertStringIncludes(during, "does not answer");
      assertStringIncludes(during, "retry");
      await pg.startServer();
      const restartedAt = acknowledged.size;
      const restarted = performance.now();
      while (acknowledged.size < restartedAt + 30 && performance.now() - restarted < 30_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(
        `submits acknowledged again ${((performance.now() - restarted) / 1000).toFixed(1)} s after the restart`,
      );
      stop.abort();
      await Promise.all(submitters);
      assert(acknowledged.size > 20, `only ${acknowledged.size} submits were acknowledged`);
      assert(refused.length > 0, "no submit was refused while the database was away");

      // Nothing acknowledged was lost: every acknowledged task exists and completes.
      const waiting = new Set([...acknowledged, "before"]);
      for (let i = 0; i < 300 && waiting.size > 0; i++) {
        for (const id of [...waiting]) {
          const status = await client.getTaskStatus({ taskId: id });
          if (status.status === "completed") waiting.delete(id);
        }
        if (waiting.size > 0) await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals([...waiting], [], "acknowledged tasks missing or unfinished after the database restart");

      // Every daemon listens again: a result made anywhere reaches a stream on the third.
      const streamed = (async () => {
        for await (
          const r of others[1].streamTaskResults({ taskIds: ["after"] }, { signal: AbortSignal.timeout(20_000) })
        ) {
          if (r.status === "completed") return r.taskId;
        }
        return "the stream ended without the task's completion";
      })();
      await new Promise((r) => setTimeout(r, 300));
      assert((await client.submitTask({ id: "after", payload: { task_type: "echo" } })).success);
      assertEquals(await streamed, "after");
      for (const c of others) c.close();
    } finally {
      client.close();
      await Promise.all(daemons.map((d) => d[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name: "PostgreSQL store: a database at the previous schema version is migrated at start, its tasks kept",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("old");
    // Version 1 as an earlier dspy-agent left it, with a task queued.
    const sql = await connectStore(url, { max: 1 });
    await sql.unsafe(MIGRATIONS[0]);
    await sql`CREATE TABLE dspy_schema (version integer NOT NULL)`;
    await sql`INSERT INTO dspy_schema (version) VALUES (1)`;
    await sql.end();
    await pg.psql(
      `INSERT INTO dspy_tasks (id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms, workflow_id,
         task_type, has_execution, revision, doc)
       VALUES ('old-1', 'cpu_short', 'pending', 0, 1, 0, 0, '', 'echo', false, 1,
         '{"id":"old-1","class":"cpu_short","state":"pending","priority":0,"rawPayload":{"task_type":"echo","v":"1"},
           "result":{},"error":"","attempts":0,"maxAttempts":1,"interruptions":0,"maxInterruptions":3,
           "timeoutSeconds":0,"workflowId":"","labels":{},"createdAtMs":1,"startedAtMs":0,"finishedAtMs":0,
           "notBeforeMs":0,"waitingReason":"","revision":1}')`,
      "old",
    );
    await using daemon = await startOn({ url });
    const client = connectDaemon(daemon);
    try {
      assertEquals(
        (await pg.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM dspy_schema", "old")).trim(),
        MIGRATIONS.map((_, i) => i + 1).join(","),
      );
      let status;
      for (let i = 0; i < 100; i++) {
        status = await client.getTaskStatus({ taskId: "old-1" });
        if (status.status === "completed") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(status?.status, "completed");
      assertEquals(JSON.parse(status!.result.data).v, 1);
    } finally {
      client.close();
    }
  },
});

Deno.test({
  name: "store migrate moves a stopped SQLite store into PostgreSQL: tasks, results, events and workflows go on",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("moved");
    const home = await Deno.makeTempDir({ prefix: "dspy-agent-migrate-" });
    try {
      // A daemon on SQLite with finished and waiting tasks, events and a finished workflow run.
      let daemon = await startDaemonProcess({ home, configToml: SHARED_STORE_CONFIG });
      let client = connectDaemon(daemon);
      await client.submitTask({ id: "m-done", payload: { task_type: "echo", v: "1" } });
      await client.submitTask({
        id: "m-later",
        payload: { task_type: "echo", v: "2" },
        notBeforeMs: BigInt(Date.now() + 4000),
      });
      await client.createWorkflow({
        id: "m-wf",
        spec: new TextEncoder().encode(JSON.stringify({ steps: [{ id: "a", payload: { task_type: "noop" } }] })),
      });
      const { runId } = await client.startWorkflowRun({ workflowId: "m-wf" });
      for await (const _ of client.streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(10_000) })) {
        // until the run finishes
      }
      assertEquals((await waitStatus(client, "m-done")).status, "completed");
      const lastSequence = await lastEventSequence(client);
      assert(lastSequence > 0n);
      client.close();
      await daemon.stop();

      // Moved while stopped; the daemon on PostgreSQL carries on.
      const { cmd, args } = cliCommand();
      const run = (extra: string[]) =>
        new Deno.Command(cmd, {
          args: [...args, "store", "migrate", ...extra],
          env: { DSPY_AGENT_HOME: home },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const moved = await run(["--to", url]);
      const text = new TextDecoder().decode(moved.stdout) + new TextDecoder().decode(moved.stderr);
      assertEquals(moved.code, 0, text);
      assertStringIncludes(text, "Moved ");
      const again = await run(["--to", url]);
      assert(again.code !== 0);
      assertStringIncludes(new TextDecoder().decode(again.stderr), "already holds");
      // doctor reads the shared store.
      const doctor = await new Deno.Command(cmd, {
        args: [...args, "--json", "doctor"],
        env: { DSPY_AGENT_HOME: home, DSPY_AGENT_STORE_URL: url },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const report = new TextDecoder().decode(doctor.stdout);
      assertStringIncludes(report, `schema version ${MIGRATIONS.length}`, new TextDecoder().decode(doctor.stderr));

      daemon = await startDaemonProcess({ home, configToml: SHARED_STORE_CONFIG, env: { DSPY_AGENT_STORE_URL: url } });
      client = connectDaemon(daemon);
      try {
        const done = await client.getTaskStatus({ taskId: "m-done" });
        assertEquals([done.status, JSON.parse(done.result.data).v], ["completed", 1]);
        assertEquals((await waitStatus(client, "m-later")).status, "completed");
        let status;
        for await (const update of client.streamWorkflowStatus({ runId }, { signal: AbortSignal.timeout(10_000) })) {
          status = update.status;
        }
        assertEquals(status, "succeeded");
        // Event sequence numbers carry on from where SQLite left them: the old ones replay, new ones follow.
        assert(await lastEventSequence(client) > lastSequence);
        const min = await pg.psql("SELECT min(sequence) FROM dspy_events", "moved");
        assertEquals(min.trim(), "1");
      } finally {
        client.close();
        await daemon.stop();
      }
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

async function waitStatus(client: DaemonClient, id: string, timeoutMs = 10_000) {
  for (let i = 0; i < timeoutMs / 50; i++) {
    const status = await client.getTaskStatus({ taskId: id });
    if (status.status === "completed" || status.status === "failed") return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

/** The sequence of the newest event: the replay of every event, read until it pauses. */
async function lastEventSequence(client: DaemonClient): Promise<bigint> {
  let last = 0n;
  const stop = new AbortController();
  let timer = setTimeout(() => stop.abort(), 1000);
  try {
    for await (const e of client.streamEvents({}, { signal: stop.signal })) {
      last = e.sequence;
      clearTimeout(timer);
      timer = setTimeout(() => stop.abort(), 300);
    }
  } catch (error) {
    if (!(error instanceof ConnectError) || error.code !== Code.Canceled) throw error;
  } finally {
    clearTimeout(timer);
  }
  return last;
}

Deno.test({
  name: "a daemon killed for good: the others requeue its attempts once its lease expires, and ids stay idempotent",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("for_good");
    const daemons: DaemonProcess[] = [];
    for (let i = 0; i < 3; i++) daemons.push(await startOn({ url }));
    const clients = daemons.map(connectDaemon);
    try {
      // The same id submitted to two daemons is one task.
      const first = await clients[0].submitTask({ id: "same", payload: { task_type: "echo", from: "a" } });
      const second = await clients[1].submitTask({ id: "same", payload: { task_type: "echo", from: "b" } });
      assertEquals([first.taskId, second.taskId], ["same", "same"]);
      assertEquals(JSON.parse((await waitStatus(clients[2], "same")).result.data).from, "a");

      await clients[0].submitTasks({
        tasks: Array.from(
          { length: 9 },
          (_, i) => ({ id: `long-${i}`, payload: { task_type: "sleep", sleep_ms: "3000" } }),
        ),
      });
      // Wait until the victim (daemon 2) runs some of them.
      let victimRuns = 0;
      for (let i = 0; i < 100 && victimRuns === 0; i++) {
        const owners = await pg.psql("SELECT owner FROM dspy_tasks WHERE state = 'running'", "for_good");
        const byOwner = new Map<string, number>();
        for (const o of owners.split("\n").filter(Boolean)) byOwner.set(o, (byOwner.get(o) ?? 0) + 1);
        victimRuns = byOwner.size >= 2 ? 1 : 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      const victimId = (await Deno.readTextFile(`${daemons[2].home}/instance.id`)).trim();
      const held = (await pg.psql(
        `SELECT id FROM dspy_tasks WHERE state = 'running' AND owner = '${victimId}'`,
        "for_good",
      )).split("\n").filter(Boolean);
      assert(held.length > 0, "the victim held no attempt when it was killed");
      daemons[2].kill("SIGKILL");
      await daemons[2].exited;
      clients[2].close();
      for (const id of held) {
        const status = await waitStatus(clients[0], id, 30_000);
        assertEquals(status.status, "completed", id);
        assertEquals([status.task?.attempts, status.task?.interruptions], [1, 1], id);
      }
      for (let i = 0; i < 9; i++) assertEquals((await waitStatus(clients[1], `long-${i}`, 30_000)).status, "completed");
      assertEquals(await completedTwice(pg, "for_good"), "");
    } finally {
      clients[0].close();
      clients[1].close();
      await Promise.all(daemons.map((d) => d[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name: "a worker that failed over reports to another daemon what its dead daemon leased it: recorded once, fenced",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("adopt");
    const [a, b] = [await startOn({ url }), await startOn({ url })];
    const sessions = [a, b].map((d) => new Http2SessionManager(`http://${d.grpcAddr}`));
    const [onA, onB] = [a, b].map((d, i) =>
      createClient(WorkerService, createGrpcTransport({ baseUrl: `http://${d.grpcAddr}`, sessionManager: sessions[i] }))
    );
    const client = connectDaemon(b);
    try {
      // A raw worker on daemon A takes two tasks submitted on B (only A knows a worker of their type, so A claims).
      const { workerId } = await onA.registerWorker({ name: "w", taskTypes: ["adopt.job"], slots: 2 });
      const stream = onA.listenForTasks({ workerId }, { signal: AbortSignal.timeout(30_000) })[Symbol.asyncIterator]();
      await client.submitTasks({
        tasks: ["adopt-1", "adopt-2"].map((id) => ({ id, payload: { task_type: "adopt.job" } })),
      });
      const leased: TaskAssignment[] = [];
      while (leased.length < 2) {
        const { value, done } = await stream.next();
        assert(!done, "the assignment stream ended");
        if (value.kind.case === "assignment") leased.push(value.kind.value);
      }
      // Daemon A dies; the worker registers on B and reports there.
      sessions[0].abort();
      a.kill("SIGKILL");
      const { workerId: again } = await onB.registerWorker({ name: "w", taskTypes: ["adopt.job"], slots: 2 });
      const [first, second] = leased.sort((x, y) => x.taskId.localeCompare(y.taskId));
      const report = (lease: TaskAssignment, leaseId = lease.leaseId) =>
        onB.completeWorkerTask({
          workerId: again,
          taskId: lease.taskId,
          leaseId,
          resultJson: `{"done": "${lease.taskId}"}`,
        });
      // B does not call A's leases lost (that would stop the work); the report decides.
      const beat = await onB.workerHeartbeat({ workerId: again, leaseIds: leased.map((l) => l.leaseId) });
      assertEquals(beat.lostLeaseIds, []);
      const progress = await onB.reportTaskProgress({
        workerId: again,
        taskId: first.taskId,
        leaseId: first.leaseId,
        progress: 0.5,
        message: "half",
      });
      assertEquals(progress.stop, false);
      assertEquals((await report(first)).accepted, true);
      // The same report again, and one naming an attempt that never was, change nothing.
      assertEquals((await report(first)).accepted, false);
      const revision = Number(second.leaseId.split(".")[0]);
      assertEquals((await report(second, `${revision + 7}.${crypto.randomUUID()}`)).accepted, false);
      const done = (await client.getTaskStatus({ taskId: "adopt-1" })).task!;
      assertEquals([done.state, done.attempts, done.interruptions], ["completed", 1, 0]);
      assertEquals(JSON.parse(done.result.data), { done: "adopt-1" });
      assertEquals((await client.getTaskStatus({ taskId: "adopt-2" })).task?.state, "running");
      // Once A's lease has expired and B reaped it, the old lease is no longer the attempt: refused.
      for (let i = 0; i < 400; i++) {
        const task = (await client.getTaskStatus({ taskId: "adopt-2" })).task!;
        if (task.interruptions > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals((await client.getTaskStatus({ taskId: "adopt-2" })).task?.interruptions, 1);
      assertEquals((await report(second)).accepted, false);
      assertEquals(await completedTwice(pg, "adopt"), "");
    } finally {
      client.close();
      sessions[1].abort();
      await Promise.allSettled([a, b].map((d) => d[Symbol.asyncDispose]()));
    }
  },
});
