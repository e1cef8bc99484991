/**
 * bench/workers: Python workers against Celery in the same run. One Python process submits; 4 worker processes
 * execute (4 dspy-agent `Worker`s with one slot each, against Celery 5's prefork pool of 4 with a Redis broker).
 * Figures: end-to-end throughput of noop and 10 ms tasks, submit-to-start and submit-to-result p50/p99 of sequential
 * tasks, and a batch submit of 10,000 tasks. Run: `deno task bench:workers [--n 2000] [--latency 200]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startDaemonProcess } from "../../tests/support/daemon.ts";
import { PYTHON } from "../../tests/support/python.ts";
import { startRedis } from "../tasks/processes.ts";

const HERE = new URL("./", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

function background(cmd: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command(cmd, { args, env, cwd: HERE, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  let output = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s.pipeThrough(new TextDecoderStream())) output += c;
  };
  void collect(child.stdout);
  void collect(child.stderr);
  return {
    output: () => output,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

async function waitFor(check: () => boolean, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not get ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * CPU time (ms) used so far by the processes `roots` and all their descendants, from /proc (Linux): the profile that
 * says where a phase's time goes. Processes that ended are not counted, so sample while they run.
 */
function treeCpuMs(roots: number[]): number {
  // Deno refuses to read /proc itself without every permission; a shell reads it for us.
  const out = new Deno.Command("sh", { args: ["-c", "cat /proc/[0-9]*/stat 2>/dev/null"], stdout: "piped" })
    .outputSync();
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line) continue;
    const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
    // After the command: state(0) ppid(1) ... utime(11) stime(12), in clock ticks of 10 ms.
    stats.set(Number(line.slice(0, line.indexOf(" "))), {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    });
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = stats.get(p)?.ppid ?? 0, hops++) {
      if (roots.includes(p)) return true;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, stat] of stats) if (inTree(pid)) ticks += stat.ticks;
  return ticks * 10;
}

/** Runs the client's noop-throughput-only mode and returns CPU ms per task of each side, sampled around it. */
async function profileNoop(
  system: "dspy" | "celery",
  address: string,
  sides: Record<string, number[]>,
  env: Record<string, string>,
): Promise<Record<string, number>> {
  const before = Object.fromEntries(Object.entries(sides).map(([name, pids]) => [name, treeCpuMs(pids)]));
  const figures = await client([`${system}-noop`, address, String(n), "0"], env);
  const perTask: Record<string, number> = { per_s: figures.per_s, client: figures.cpu_ms / n };
  for (const [name, pids] of Object.entries(sides)) perTask[name] = (treeCpuMs(pids) - before[name]) / n;
  return perTask;
}

async function client(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(PYTHON, { args: [`${HERE}client.py`, ...args], env, cwd: HERE }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) throw new Error(`client ${args[0]} failed:\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.trim().split("\n").at(-1)!) as Record<string, number>;
}

const { values } = parseArgs({ options: { n: { type: "string" }, latency: { type: "string" } } });
const n = Number(values.n ?? 2000);
const latency = Number(values.latency ?? 200);
const env = {
  PYTHONPATH: `${ROOT}python:${HERE}`,
  PYTHONDONTWRITEBYTECODE: "1",
  PATH: "/usr/bin:/bin",
  GRPC_POLL_STRATEGY: Deno.env.get("GRPC_POLL_STRATEGY") ?? "epoll1",
};

const dir = await Deno.makeTempDir({ prefix: "bench-workers-" });
await Deno.writeTextFile(`${dir}/config.toml`, "[services]\nredis = false\n");
const redis = await startRedis(dir);
let dspy: Record<string, number>;
let celery: Record<string, number>;
let dspyProfile: Record<string, number>;
let celeryProfile: Record<string, number>;
try {
  {
    await using daemon = await startDaemonProcess({ home: dir });
    const workers = Array.from(
      { length: 4 },
      (_, i) => background(PYTHON, [`${HERE}dspy_worker.py`, daemon.grpcAddr, String(i)], env),
    );
    await waitFor(() => workers.every((w) => w.output().includes("ready")), "the dspy-agent workers");
    await new Promise((r) => setTimeout(r, 500)); // connected and listening
    dspyProfile = await profileNoop("dspy", daemon.grpcAddr, {
      daemon: [daemon.pid],
      workers: workers.map((w) => w.pid),
    }, env);
    dspy = await client(["dspy", daemon.grpcAddr, String(n), String(latency)], env);
    await Promise.all(workers.map((w) => w.stop()));
  }
  const celeryEnv = { ...env, BENCH_REDIS_URL: redis.url };
  const worker = background(PYTHON, [
    "-m",
    "celery",
    "-A",
    "celery_app",
    "worker",
    "--pool=prefork",
    "--concurrency=4",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
    "--loglevel=INFO",
  ], celeryEnv);
  await waitFor(() => worker.output().includes("ready."), "the Celery worker");
  celeryProfile = await profileNoop("celery", "-", { broker: [redis.server.pid], workers: [worker.pid] }, celeryEnv);
  celery = await client(["celery", "-", String(n), String(latency)], celeryEnv);
  await worker.stop();
} finally {
  await redis.server[Symbol.asyncDispose]();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const row = (label: string, a: number, b: number, unit: string, better: "higher" | "lower") =>
  `${label.padEnd(34)} ${a.toFixed(unit === "/s" ? 0 : 2).padStart(10)} ${unit.padEnd(3)} | ${
    b ? b.toFixed(unit === "/s" ? 0 : 2).padStart(10) : "-".padStart(10)
  } ${unit.padEnd(3)} | ${b ? (a / b).toFixed(2) + "x" : "-"} (${better} is better)`;
console.log(`bench/workers: ${n} tasks per throughput phase, ${latency} sequential tasks for latency, 4 workers each`);
console.log(`${"".padEnd(34)} ${"dspy-agent".padStart(14)} | ${"Celery 5 + Redis".padStart(14)} | ratio`);
console.log(row("noop throughput", dspy.bench_noop_per_s, celery.bench_noop_per_s, "/s", "higher"));
console.log(row("10 ms task throughput", dspy.bench_10ms_per_s, celery.bench_10ms_per_s, "/s", "higher"));
console.log(row("submit-to-start p50", dspy.start_p50, celery.start_p50, "ms", "lower"));
console.log(row("submit-to-start p99", dspy.start_p99, celery.start_p99, "ms", "lower"));
console.log(row("submit-to-result p50", dspy.result_p50, celery.result_p50, "ms", "lower"));
console.log(row("submit-to-result p99", dspy.result_p99, celery.result_p99, "ms", "lower"));
console.log(row("batch submit of 10,000 tasks", dspy.batch_10k_s, 0, "s", "lower"));
console.log("targets: noop throughput >= 2x Celery; submit-to-result p50 <= 0.5x Celery; batch of 10,000 < 0.5 s");
// The profile: CPU ms per noop task on each side of a first noop run (from /proc), on this machine's cores.
const cpu = (p: Record<string, number>) =>
  Object.entries(p).filter(([k]) => k !== "per_s").map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ");
console.log(`profile, CPU ms per noop task: dspy-agent (${dspyProfile.per_s.toFixed(0)}/s): ${cpu(dspyProfile)}`);
console.log(`profile, CPU ms per noop task: Celery (${celeryProfile.per_s.toFixed(0)}/s): ${cpu(celeryProfile)}`);
