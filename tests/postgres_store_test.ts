/**
 * The PostgreSQL task store in process, on a real PostgreSQL the test starts: the claim's start (written in SQL) is
 * `transitionTask`'s start, claims by two owners never share a task, and outcomes are fenced by owner and revision.
 * @module
 */
import { assert, assertEquals } from "./support/assert.ts";
import { postgresAvailable, startPostgres } from "./support/postgres.ts";
import { connectStore, migrate } from "../src/orchestrator/postgres/schema.ts";
import { PgTasks } from "../src/orchestrator/postgres/pg_tasks.ts";
import { classSettings } from "../src/orchestrator/scheduling/classes.ts";
import { transitionTask } from "../src/orchestrator/task.ts";
import { buildResult } from "../src/orchestrator/result.ts";
import { silentLogger } from "../src/log/mod.ts";

const RUNNABLE = { types: ["noop", "echo"], execution: false, any: false };

Deno.test({
  name: "PgTasks: claims start tasks as transitionTask does, never share one, and outcomes are fenced",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using pg = await startPostgres();
    const sql = await connectStore(await pg.createDatabase("unit"), { max: 4 });
    let clock = 1_000_000;
    const tasks = new PgTasks({
      sql,
      logger: silentLogger,
      maskedUrl: "test",
      classes: classSettings({ cpuCores: 2, gpus: 0 }, {}, false),
      slurm: false,
      now: () => clock,
      unrunnableReason: () => undefined,
    });
    try {
      await migrate(sql);
      await tasks.start();
      const { task } = await tasks.submit({
        id: "u1",
        payload: { task_type: "echo", x: "1" },
        labels: { a: "b" },
        workflowId: "wf",
      });
      clock += 5;
      const [claimed] = await tasks.claim("cpu_short", 1, "daemon-a", 10_000, RUNNABLE);
      assertEquals(claimed, transitionTask(task, { type: "start", nowMs: clock }));

      // Two owners claiming at once take different tasks.
      await tasks.submitMany(Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, payload: { task_type: "noop" } })));
      const [a, b] = await Promise.all([
        tasks.claim("cpu_short", 30, "daemon-a", 10_000, RUNNABLE),
        tasks.claim("cpu_short", 30, "daemon-b", 10_000, RUNNABLE),
      ]);
      const ids = [...a, ...b].map((t) => t.id);
      assertEquals(new Set(ids).size, ids.length);
      assertEquals(ids.length, 40);
      // A type nobody here runs is left alone.
      await tasks.submit({ id: "other", payload: { task_type: "someone_elses" } });
      assertEquals(await tasks.claim("cpu_short", 5, "daemon-a", 10_000, RUNNABLE), []);

      // Only the owner records an outcome; a late one after a reap records nothing.
      const result = buildResult(claimed, { latencyMs: 1, execution: { executor: "builtin", output: {} } });
      assertEquals(
        await tasks.apply(claimed, { type: "succeed", nowMs: clock, result }, { owner: "daemon-b" }),
        undefined,
      );
      clock += 20_000; // the lease of daemon-a ran out
      assertEquals(await tasks.reapExpired("daemon-c", false), 40 + 1);
      const reaped = await tasks.get("u1");
      assertEquals([reaped.state, reaped.attempts, reaped.interruptions], ["pending", 0, 1]);
      assertEquals(
        await tasks.apply(claimed, { type: "succeed", nowMs: clock, result }, { owner: "daemon-a" }),
        undefined,
      );
      const [again] = await tasks.claim("cpu_short", 1, "daemon-c", 10_000, { ...RUNNABLE, types: ["echo"] });
      assertEquals(again.id, "u1");
      const done = await tasks.apply(again, { type: "succeed", nowMs: clock, result }, { owner: "daemon-c" });
      assert(done);
      assertEquals((await tasks.get("u1")).state, "completed");
    } finally {
      await tasks.close();
      await sql.end();
    }
  },
});
