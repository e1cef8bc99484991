/**
 * The real processes bench/tasks runs: a redis-server on a free loopback
 * port, a Celery worker, and Python client processes whose last stdout line
 * is JSON with their figures.
 *
 * @module
 */

import { freePort } from "../../tests/support/daemon.ts";
import { generatePythonStubs, PYTHON } from "../../tests/support/python.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** A background process the bench stops at the end. */
export interface Background extends AsyncDisposable {
  /** What it wrote so far. */
  output(): string;
  /** Its process id. */
  pid: number;
}

/** Figures one Python client printed (milliseconds; unix seconds for started/ended). */
export interface ClientFigures {
  count: number;
  p50: number;
  p99: number;
  started?: number;
  ended?: number;
}

function spawn(cmd: string, args: string[], env: Record<string, string>): Background {
  const child = new Deno.Command(cmd, { args, env, cwd: HERE, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    output: () => text,
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await child.status;
      await drained;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts redis-server on a free 127.0.0.1 port with an append-only file
 * (fsync every second): like the orchestrator's WAL with synchronous=NORMAL,
 * an acknowledged write survives a kill -9 of the server.
 */
export async function startRedis(dir: string): Promise<{ url: string; server: Background }> {
  const port = await freePort();
  const server = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
  ], {});
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      conn.close();
      if (n && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG")) {
        return { url: `redis://127.0.0.1:${port}`, server };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server[Symbol.asyncDispose]();
  throw new Error(`Cannot start redis-server on port ${port}: ${server.output()}`);
}

/** The environment Python clients and the Celery worker need. */
export async function pythonEnv(redisUrl: string): Promise<Record<string, string>> {
  const stubs = await generatePythonStubs();
  return { PYTHONPATH: `${stubs}:${HERE}`, PYTHONDONTWRITEBYTECODE: "1", BENCH_REDIS_URL: redisUrl };
}

/** Starts a Celery worker (solo pool: Celery's lowest-latency setting) and waits until it is ready. */
export async function startCeleryWorker(env: Record<string, string>): Promise<Background> {
  const worker = spawn(PYTHON, [
    "-m",
    "celery",
    "-A",
    "celery_app",
    "worker",
    "--pool=solo",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
    "--loglevel=INFO",
  ], env);
  const deadline = Date.now() + 30_000;
  while (!worker.output().includes("ready.")) {
    if (Date.now() > deadline) {
      await worker[Symbol.asyncDispose]();
      throw new Error(`The Celery worker was not ready within 30 s:\n${worker.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return worker;
}

/** Empties the Celery queue (tasks left by the delay() phase, which ran without a worker). */
export async function purgeCelery(env: Record<string, string>): Promise<void> {
  await runClient(PYTHON, ["-m", "celery", "-A", "celery_app", "purge", "-f"], env, false);
}

/** Runs one Python client script and returns the JSON of its last line. */
export async function runClient(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  parse = true,
): Promise<ClientFigures> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, env, cwd: HERE, stdin: "null" }).output();
  const out = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(`${args.join(" ")} exited ${code}:\n${new TextDecoder().decode(stderr)}\n${out}`);
  }
  if (!parse) return { count: 0, p50: 0, p99: 0 };
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/**
 * Runs `processes` copies of a client at once (they start together at a
 * shared wall-clock time) and returns the throughput over the whole window
 * plus the median of their p50s and the worst p99.
 */
export async function runParallel(
  processes: number,
  args: (startAt: number) => string[],
  env: Record<string, string>,
): Promise<{ perSecond: number; p50: number; p99: number; total: number }> {
  const startAt = Date.now() / 1000 + 1.5 + processes * 0.5;
  const figures = await Promise.all(
    Array.from({ length: processes }, () => runClient(PYTHON, args(startAt), env)),
  );
  const total = figures.reduce((sum, f) => sum + f.count, 0);
  const window = Math.max(...figures.map((f) => f.ended!)) - Math.min(...figures.map((f) => f.started!));
  const p50s = figures.map((f) => f.p50).sort((a, b) => a - b);
  return {
    perSecond: total / window,
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...figures.map((f) => f.p99)),
    total,
  };
}
