/**
 * bench/scale: several daemons on one PostgreSQL, in one run beside one daemon on SQLite and beside Celery 5 with
 * Redis. For each setup: SubmitTask throughput from 4 Python grpcio processes (spread over the daemons) of tasks
 * that only queue (class gpu, which waits on a host without GPUs: as Celery's delay() with no worker running), the
 * same with `--in-flight` calls in flight per process (threads: the system saturated rather than waited on), the
 * same with noop tasks the daemons run meanwhile, and the noop round trip (submit, then the completion on
 * StreamTaskResults). Then the claim latency of the PostgreSQL store with
 * 1,000 and with 1,000,000 tasks queued, measured on the claim statement itself.
 *
 *   deno task bench:scale [--submits 2000] [--roundtrips 200] [--queued 1000000] [--in-flight 8]
 *
 * Needs root and Debian's postgresql (scripts/ensure-system-deps). Figures, not asserts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type DaemonProcess, startDaemonProcess } from "../../tests/support/daemon.ts";
import { startPostgres, type TestPostgres } from "../../tests/support/postgres.ts";
import { PYTHON } from "../../tests/support/python.ts";
import { pythonEnv, runClient, startCeleryWorker, startRedis } from "../tasks/processes.ts";
import { connectStore, migrate } from "../../src/orchestrator/postgres/schema.ts";
import { PgTasks } from "../../src/orchestrator/postgres/pg_tasks.ts";
import { classSettings } from "../../src/orchestrator/scheduling/classes.ts";
import { silentLogger } from "../../src/log/mod.ts";

const { values } = parseArgs({
  options: {
    submits: { type: "string", default: "2000" },
    roundtrips: { type: "string", default: "200" },
    queued: { type: "string", default: "1000000" },
    "in-flight": { type: "string", default: "8" },
  },
});
const submits = Number(values.submits);
const roundtrips = Number(values.roundtrips);
const queued = Number(values.queued);
/** Calls each client process keeps in flight (threads) in the saturated submit phase. */
const saturation = Number(values["in-flight"]);
const log = (line: string) => console.error(`bench/scale: ${line}`);

interface Figures {
  /** Submits while the daemons also run the tasks. */
  runningPerSecond: number;
  /** Submits with `saturation` calls in flight per process: the system saturated rather than waited on. */
  saturatedPerSecond: number;
  saturatedP50: number;
  perSecond: number;
  p50: number;
  p99: number;
  tripP50: number;
  tripP99: number;
}

/**
 * 4 submitting processes, process i on address i mod n, all starting at one wall-clock time; `times` the --submits
 * count (a saturated phase makes more calls, so that it lasts about as long).
 */
async function submitPhase(
  client: (address: string, count: number, startAt: number) => string[],
  addresses: string[],
  env: Record<string, string>,
  times = 1,
) {
  const startAt = Date.now() / 1000 + 3;
  const figures = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      runClient(PYTHON, client(addresses[i % addresses.length], (submits * times) / 4, startAt), env)
    ),
  );
  const total = figures.reduce((sum, f) => sum + f.count, 0);
  const window = Math.max(...figures.map((f) => f.ended!)) - Math.min(...figures.map((f) => f.started!));
  return {
    perSecond: total / window,
    p50: figures.map((f) => f.p50).sort((a, b) => a - b)[2],
    p99: Math.max(...figures.map((f) => f.p99)),
  };
}

async function daemonSetup(
  label: string,
  count: number,
  pg: TestPostgres | undefined,
  env: Record<string, string>,
): Promise<Figures> {
  const url = pg ? await pg.createDatabase(label.replaceAll(/\W/g, "_")) : undefined;
  const daemons: DaemonProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      daemons.push(
        await startDaemonProcess({
          configToml: "[services]\nredis = false\n",
          env: url ? { DSPY_AGENT_STORE_URL: url } : {},
        }),
      );
    }
    const addresses = daemons.map((d) => d.grpcAddr);
    log(`${label}: SubmitTask from 4 processes, tasks queued only`);
    const submit = await submitPhase(
      (address, n, startAt) => ["grpc_client.py", address, "queue", String(n), String(startAt)],
      addresses,
      env,
    );
    log(`${label}: SubmitTask from 4 processes, ${saturation} calls in flight each, tasks queued only`);
    const saturated = await submitPhase(
      (address, n, startAt) => ["grpc_client.py", address, "queue", String(n), String(startAt)],
      addresses,
      { ...env, BENCH_IN_FLIGHT: String(saturation) },
      3,
    );
    log(`${label}: SubmitTask from 4 processes, noop tasks run meanwhile`);
    const running = await submitPhase(
      (address, n, startAt) => ["grpc_client.py", address, "submit", String(n), String(startAt)],
      addresses,
      env,
    );
    await new Promise((r) => setTimeout(r, 1000));
    log(`${label}: noop round trips`);
    const trip = await runClient(PYTHON, ["grpc_client.py", addresses[0], "roundtrip", String(roundtrips)], env);
    return {
      ...submit,
      saturatedPerSecond: saturated.perSecond,
      saturatedP50: saturated.p50,
      runningPerSecond: running.perSecond,
      tripP50: trip.p50,
      tripP99: trip.p99,
    };
  } finally {
    await Promise.all(daemons.map((d) => d[Symbol.asyncDispose]()));
  }
}

async function celerySetup(env: Record<string, string>): Promise<Figures> {
  log("Celery + Redis: delay() from 4 processes");
  const submit = await submitPhase(
    (_address, n, startAt) => ["celery_client.py", "delay", String(n), String(startAt)],
    ["-"],
    env,
  );
  log(`Celery + Redis: delay() from 4 processes, ${saturation} calls in flight each`);
  const saturated = await submitPhase(
    (_address, n, startAt) => ["celery_client.py", "delay", String(n), String(startAt)],
    ["-"],
    { ...env, BENCH_IN_FLIGHT: String(saturation) },
    3,
  );
  await runClient(PYTHON, ["-m", "celery", "-A", "celery_app", "purge", "-f"], env, false);
  log("Celery + Redis: noop round trips");
  await using _worker = await startCeleryWorker(env);
  const trip = await runClient(PYTHON, ["celery_client.py", "roundtrip", String(roundtrips)], env);
  return {
    ...submit,
    saturatedPerSecond: saturated.perSecond,
    saturatedP50: saturated.p50,
    runningPerSecond: NaN,
    tripP50: trip.p50,
    tripP99: trip.p99,
  };
}

/**
 * The claim statement's latency with `size` runnable tasks queued in one class: 200 claims of one task each (the
 * scheduler's claim under a lease), p50 and p99 in milliseconds.
 */
async function claimLatency(
  pg: TestPostgres,
  size: number,
  name: string,
): Promise<{ p50: number; p99: number; fillS: number }> {
  const url = await pg.createDatabase(name);
  const sql = await connectStore(url, { max: 2 });
  try {
    await migrate(sql);
    const fill = performance.now();
    // Queued straight into the table (as a million submits would leave it), newest last.
    for (let from = 1; from <= size; from += 250_000) {
      const to = Math.min(size, from + 249_999);
      await sql.unsafe(`
        INSERT INTO dspy_tasks (id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms,
          workflow_id, task_type, has_execution, revision, doc)
        SELECT 'q-' || g, 'cpu_short', 'pending', 0, 1000000 + g, 0, 0, '', 'noop', false, 1,
          jsonb_build_object('id', 'q-' || g, 'class', 'cpu_short', 'state', 'pending', 'priority', 0,
            'rawPayload', jsonb_build_object('task_type', 'noop'), 'result', '{}'::jsonb, 'error', '',
            'attempts', 0, 'maxAttempts', 1, 'interruptions', 0, 'maxInterruptions', 3, 'timeoutSeconds', 0,
            'workflowId', '', 'labels', '{}'::jsonb, 'createdAtMs', 1000000 + g, 'startedAtMs', 0,
            'finishedAtMs', 0, 'notBeforeMs', 0, 'waitingReason', '', 'revision', 1)
        FROM generate_series(${from}, ${to}) AS g`);
    }
    await sql`ANALYZE dspy_tasks`;
    const fillS = (performance.now() - fill) / 1000;
    const tasks = new PgTasks({
      sql,
      logger: silentLogger,
      maskedUrl: "bench",
      classes: classSettings({ cpuCores: 2, gpus: 0 }, {}, false),
      slurm: false,
      now: Date.now,
      unrunnableReason: () => undefined,
    });
    const runnable = { types: ["noop"], execution: true, any: false };
    const latencies: number[] = [];
    for (let i = 0; i < 220; i++) {
      const t0 = performance.now();
      const claimed = await tasks.claim("cpu_short", 1, "bench", 10_000, runnable);
      if (i >= 20) latencies.push(performance.now() - t0); // the first claims warm the plan cache
      if (claimed.length !== 1) throw new Error(`claim ${i} took ${claimed.length} tasks`);
    }
    latencies.sort((a, b) => a - b);
    return {
      p50: latencies[Math.floor(latencies.length / 2)],
      p99: latencies[Math.floor(latencies.length * 0.99)],
      fillS,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The store alone, in this process: SubmitTask's write (one batch insert per turn of the event loop) with 4 and 16
 * submits in flight, without gRPC, Python or a scheduler. Says how much of a daemon's submit time is the database's.
 */
async function storeAlone(pg: TestPostgres): Promise<{ four: number; sixteen: number }> {
  const sql = await connectStore(await pg.createDatabase("store_alone"), { max: 10 });
  const tasks = new PgTasks({
    sql,
    logger: silentLogger,
    maskedUrl: "bench",
    classes: classSettings({ cpuCores: 2, gpus: 0 }, {}, false),
    slurm: false,
    now: Date.now,
    unrunnableReason: () => undefined,
  });
  try {
    await migrate(sql);
    const rate = async (inFlight: number) => {
      let next = 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < submits) {
          const i = next++;
          await tasks.submit({ id: `a${inFlight}-${i}`, class: "gpu", payload: { task_type: "noop" } });
        }
      }));
      return submits / ((performance.now() - started) / 1000);
    };
    return { four: await rate(4), sixteen: await rate(16) };
  } finally {
    await tasks.close();
    await sql.end({ timeout: 5 });
  }
}

const work = await Deno.makeTempDir({ prefix: "dspy-agent-bench-scale-" });
try {
  const { url: redisUrl, server: redis } = await startRedis(work);
  try {
    await using pg = await startPostgres();
    const env = await pythonEnv(redisUrl);
    const rows: [string, Figures][] = [];
    rows.push(["1 daemon, SQLite", await daemonSetup("sqlite1", 1, undefined, env)]);
    for (const n of [1, 2, 3]) rows.push([`${n} daemon(s), PostgreSQL`, await daemonSetup(`pg${n}`, n, pg, env)]);
    rows.push(["Celery 5 + Redis", await celerySetup(env)]);
    log("the store alone, in process");
    const alone = await storeAlone(pg);
    log(`claim latency with 1,000 and ${queued.toLocaleString("en")} queued tasks`);
    const small = await claimLatency(pg, 1000, "claims_small");
    const large = await claimLatency(pg, queued, "claims_large");

    const celery = rows.at(-1)![1];
    const pad = (s: string, n: number) => s.padStart(n);
    console.log(
      `bench/scale: ${submits} submits from 4 processes one at a time and ${submits * 3} with ${saturation} in ` +
        `flight each, per setup; ${roundtrips} sequential noop round trips, ` +
        `${navigator.hardwareConcurrency} cores, one PostgreSQL 15 (fsync on) and one Redis on this machine`,
    );
    console.log(
      `${"setup".padEnd(26)}${pad("submits/s", 11)}${pad("x Celery", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}` +
        `${pad(`${saturation} in flight/s`, 16)}${pad("x Celery", 10)}${pad("p50 ms", 9)}` +
        `${pad("trip p50", 10)}${pad("trip p99", 10)}${pad("submits/s while running", 25)}`,
    );
    for (const [label, f] of rows) {
      console.log(
        `${label.padEnd(26)}${pad(f.perSecond.toFixed(0), 11)}${pad((f.perSecond / celery.perSecond).toFixed(2), 10)}` +
          `${pad(f.p50.toFixed(2), 9)}${pad(f.p99.toFixed(2), 9)}${pad(f.saturatedPerSecond.toFixed(0), 16)}` +
          `${pad((f.saturatedPerSecond / celery.saturatedPerSecond).toFixed(2), 10)}${
            pad(f.saturatedP50.toFixed(2), 9)
          }` +
          `${pad(f.tripP50.toFixed(2), 10)}${pad(f.tripP99.toFixed(2), 10)}${
            pad(Number.isNaN(f.runningPerSecond) ? "-" : f.runningPerSecond.toFixed(0), 25)
          }`,
      );
    }
    console.log(
      `claim latency (one task, FOR UPDATE SKIP LOCKED): p50 ${small.p50.toFixed(2)} ms / p99 ${
        small.p99.toFixed(2)
      } ms with 1,000 queued; p50 ${large.p50.toFixed(2)} ms / p99 ${large.p99.toFixed(2)} ms with ${
        queued.toLocaleString("en")
      } queued (${(large.p50 / small.p50).toFixed(2)}x; filled in ${large.fillS.toFixed(1)} s)`,
    );
    console.log(
      `the PostgreSQL store alone, in process (no gRPC, no Python): ${alone.four.toFixed(0)} submits/s with 4 in ` +
        `flight, ${alone.sixteen.toFixed(0)} with 16`,
    );
    const pg1 = rows[1][1];
    console.log(
      `targets: 1 daemon on PostgreSQL submits >= Celery: ${
        (pg1.saturatedPerSecond / celery.saturatedPerSecond).toFixed(2)
      }x with ${saturation} in flight per process ${
        pg1.saturatedPerSecond >= celery.saturatedPerSecond ? "MET" : "MISSED"
      }, ${(pg1.perSecond / celery.perSecond).toFixed(2)}x one call at a time ${
        pg1.perSecond >= celery.perSecond ? "MET" : "MISSED"
      }; noop round trip p50 <= 5 ms: ${pg1.tripP50.toFixed(2)} ms ${pg1.tripP50 <= 5 ? "MET" : "MISSED"}; ` +
        `claim latency at ${queued.toLocaleString("en")} within 2x of 1,000: ${(large.p50 / small.p50).toFixed(2)}x ${
          large.p50 <= 2 * small.p50 ? "MET" : "MISSED"
        }`,
    );
  } finally {
    await redis[Symbol.asyncDispose]();
  }
} finally {
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
