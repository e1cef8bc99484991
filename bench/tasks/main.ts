/**
 * bench/tasks: SubmitTask throughput and latency from
 * Python grpcio clients with 1 and 4 processes, and the submit → completion
 * round trip of a noop task on StreamTaskResults — each beside Celery 5 with
 * a real redis-server doing the same in the same run.
 *
 *   deno run -P=test bench/tasks/main.ts [--submits 4000] [--roundtrips 300] [--repeats 3]
 *
 * Prints a table with ratios and the issue's targets. Figures, not asserts.
 * On 2 shared cores one phase can run 30% faster or slower than the next,
 * on either side; so the submit phases run `--repeats` times, alternating
 * dspy-agent and Celery, and the table shows the median of each (the
 * ratios of every repeat are printed too).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startDaemonProcess } from "../../tests/support/daemon.ts";
import { PYTHON } from "../../tests/support/python.ts";
import { purgeCelery, pythonEnv, runClient, runParallel, startCeleryWorker, startRedis } from "./processes.ts";
import { printReport, type Row } from "./report.ts";

const { values } = parseArgs({
  options: {
    submits: { type: "string", default: "4000" },
    roundtrips: { type: "string", default: "300" },
    repeats: { type: "string", default: "3" },
  },
});
const submits = Number(values.submits);
const roundtrips = Number(values.roundtrips);
const repeats = Number(values.repeats);

const work = await Deno.makeTempDir({ prefix: "dspy-agent-bench-tasks-" });
try {
  await using redis = await startRedisChecked(work);
  const env = await pythonEnv(redis.url);
  await using daemon = await startDaemonProcess({ home: `${work}/home` });
  const drained = () => waitDrained(daemon.httpAddr);
  const grpc = (mode: string, count: number) => (startAt: number) => [
    "grpc_client.py",
    daemon.grpcAddr,
    mode,
    String(count),
    String(startAt),
  ];
  const celery = (count: number) => (startAt: number) => ["celery_client.py", "delay", String(count), String(startAt)];

  type Phase = Awaited<ReturnType<typeof runParallel>>;
  const runs: { ours1: Phase; ours4: Phase; celery1: Phase; celery4: Phase }[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    log(`SubmitTask, 1 process (repeat ${repeat} of ${repeats})`);
    const ours1 = await runParallel(1, grpc("submit", submits), env);
    await drained();
    log(`SubmitTask, 4 processes (repeat ${repeat} of ${repeats})`);
    const ours4 = await runParallel(4, grpc("submit", submits / 4), env);
    await drained();
    log(`Celery delay(), 1 process (repeat ${repeat} of ${repeats})`);
    const celery1 = await runParallel(1, celery(submits), env);
    log(`Celery delay(), 4 processes (repeat ${repeat} of ${repeats})`);
    const celery4 = await runParallel(4, celery(submits / 4), env);
    await purgeCelery(env);
    runs.push({ ours1, ours4, celery1, celery4 });
    console.error(
      `bench/tasks: repeat ${repeat}: 4 processes ${ours4.perSecond.toFixed(0)} vs ${celery4.perSecond.toFixed(0)} ` +
        `tasks/s (${(ours4.perSecond / celery4.perSecond).toFixed(2)}x)`,
    );
  }
  const median = (pick: (run: typeof runs[number]) => number) => {
    const values = runs.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)];
  };
  const medianPhase = (pick: (run: typeof runs[number]) => Phase) => ({
    perSecond: median((r) => pick(r).perSecond),
    p50: median((r) => pick(r).p50),
    p99: median((r) => pick(r).p99),
  });
  const ours1 = medianPhase((r) => r.ours1);
  const ours4 = medianPhase((r) => r.ours4);
  const celery1 = medianPhase((r) => r.celery1);
  const celery4 = medianPhase((r) => r.celery4);
  log("noop round trip on StreamTaskResults");
  const oursTrip = await runClient(PYTHON, ["grpc_client.py", daemon.grpcAddr, "roundtrip", String(roundtrips)], env);
  log("Celery noop round trip with a running worker");
  let celeryTrip;
  {
    await using _worker = await startCeleryWorker(env);
    celeryTrip = await runClient(PYTHON, ["celery_client.py", "roundtrip", String(roundtrips)], env);
  }

  const rows: Row[] = [
    {
      name: "submit throughput, 1 process (tasks/s)",
      ours: ours1.perSecond,
      celery: celery1.perSecond,
      higherIsBetter: true,
    },
    {
      name: "submit throughput, 4 processes (tasks/s)",
      ours: ours4.perSecond,
      celery: celery4.perSecond,
      higherIsBetter: true,
      target: { ratio: 1.5, text: ">= 1.5x Celery" },
    },
    { name: "submit latency p50, 1 process (ms)", ours: ours1.p50, celery: celery1.p50 },
    { name: "submit latency p99, 1 process (ms)", ours: ours1.p99, celery: celery1.p99 },
    { name: "submit latency p50, 4 processes (ms)", ours: ours4.p50, celery: celery4.p50 },
    { name: "submit latency p99, 4 processes (ms)", ours: ours4.p99, celery: celery4.p99 },
    {
      name: "noop round trip p50 (ms)",
      ours: oursTrip.p50,
      celery: celeryTrip.p50,
      target: { ratio: 1, text: "<= Celery" },
    },
    { name: "noop round trip p99 (ms)", ours: oursTrip.p99, celery: celeryTrip.p99 },
  ];
  printReport(rows, { submits, roundtrips, repeats, cores: navigator.hardwareConcurrency });
  console.log(
    `4-process ratio per repeat: ${
      runs.map((r) => `${(r.ours4.perSecond / r.celery4.perSecond).toFixed(2)}x`).join(", ")
    }`,
  );
} finally {
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

async function startRedisChecked(dir: string) {
  const { url, server } = await startRedis(dir);
  return { url, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}

/**
 * Waits until the daemon has no pending or running task (legacy
 * `GET /queue/status`), so one phase's backlog does not slow the next.
 */
async function waitDrained(httpAddr: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const response = await fetch(`http://${httpAddr}/queue/status`);
    const { pending } = await response.json();
    if (pending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("The daemon did not finish the submitted tasks within 300 s");
}

function log(phase: string): void {
  console.error(`bench/tasks: ${phase} ...`);
}
