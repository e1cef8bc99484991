/**
 * The Python client and worker given three daemons on one real PostgreSQL (tests/support/postgres.ts) keep working
 * when the daemon they use is killed with SIGKILL: the client's submit loop and a wait in progress go on at another
 * daemon with every accepted task completed exactly once, and a worker reconnects and finishes its tasks.
 *
 * Needs root and Debian's postgresql (scripts/ensure-system-deps installs it); skipped elsewhere.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { type DaemonProcess, freePort, startDaemonProcess } from "./support/daemon.ts";
import {
  connectDaemon,
  type DaemonClient,
  postgresAvailable,
  SHARED_STORE_CONFIG,
  startPostgres,
  type TestPostgres,
} from "./support/postgres.ts";
import { PYTHON } from "./support/python.ts";

const PACKAGE = new URL("../python/", import.meta.url).pathname;

/** Submits in a loop (single submits and batches of five) and waits on a long task meanwhile; prints the daemon in
 * use after 40 submits, learns of the kill on stdin, goes on for 60 more, then prints what it was told. Bounded by
 * 3,000 submits and 60 s. */
const SUBMITTER = `
import json, sys, threading, time
from dspy_agent_client import Client
client = Client(sys.argv[1], timeout=10)
first = client.address
long_id = client.submit("sleep", {"sleep_ms": 4000})
waited = {}
def wait():
    try:
        waited["output"] = client.wait(long_id, timeout=90)
    except Exception as error:
        waited["error"] = repr(error)
waiter = threading.Thread(target=wait)
waiter.start()
killed = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), killed.set()), daemon=True).start()
accepted, errors, after_kill, waiting_at_kill = [], [], 0, None
deadline = time.monotonic() + 60
n = 0
while n < 3000 and time.monotonic() < deadline:
    n += 1
    try:
        if n % 10 == 0:
            accepted.extend(client.submit_many([{"task_type": "echo", "payload": {"n": n, "k": k}} for k in range(5)]))
        else:
            accepted.append(client.submit("echo", {"n": n}))
    except Exception as error:
        errors.append(repr(error))
    if n == 40:
        print(json.dumps({"in_use": client.address}), flush=True)
    if killed.is_set():
        if waiting_at_kill is None:
            waiting_at_kill = waiter.is_alive()
        after_kill += 1
        if after_kill >= 60:
            break
waiter.join(90)
print(json.dumps({"first": first, "after": client.address, "accepted": accepted, "errors": errors, "waited": waited,
                  "long_id": long_id, "after_kill": after_kill, "waiting_at_kill": waiting_at_kill}))
`;

/** Submits (with an id the client makes) while the database is stopped; prints where and what it was answered. */
const STORE_AWAY = `
import json, sys
from dspy_agent_client import Client, DspyAgentError
client = Client(sys.argv[1], timeout=10)
before = client.address
try:
    client.submit("echo", {"away": True})
    print(json.dumps({"accepted": True}))
except DspyAgentError as error:
    print(json.dumps({"type": type(error).__name__, "reason": error.reason, "message": str(error),
                      "before": before, "after": client.address}))
`;

const WORKER_MODULE = `
import time
from dspy_agent_client import Worker
worker = Worker("failover-worker", slots=2)

@worker.task("failover_square")
def square(payload, ctx):
    time.sleep(0.3)
    return {"square": payload["n"] * payload["n"]}
`;

/** Lines of a process's stdout as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
  if (buffered) yield buffered;
}

async function completedTwice(pg: TestPostgres, database: string): Promise<string> {
  return (await pg.psql(
    `SELECT resource_id FROM dspy_events WHERE type = 'task_completed' GROUP BY resource_id HAVING count(*) > 1`,
    database,
  )).trim();
}

/** Polls until every id is completed (failing on a failed one), within `ms`; returns those still not completed. */
async function untilCompleted(client: DaemonClient, ids: Iterable<string>, ms: number): Promise<string[]> {
  const pending = new Set(ids);
  const deadline = Date.now() + ms;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const status = await client.getTaskStatus({ taskId: id });
      if (status.status === "failed") throw new Error(`task "${id}" failed: ${status.error}`);
      if (status.status === "completed") pending.delete(id);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 200));
  }
  return [...pending];
}

async function countTasks(client: DaemonClient): Promise<number> {
  let count = 0;
  let pageToken = "";
  for (let page = 0; page < 100; page++) {
    const answer = await client.listTasks({ pageSize: 1000, pageToken });
    count += answer.tasks.length;
    pageToken = answer.nextPageToken;
    if (!pageToken) break;
  }
  return count;
}

Deno.test({
  name: "a Python client and worker given three daemons on one PostgreSQL go on at another when theirs is killed -9",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("failover");
    const start = (home?: string) =>
      startDaemonProcess({ home, configToml: SHARED_STORE_CONFIG, env: { DSPY_AGENT_STORE_URL: url } });
    const homes = await Promise.all([0, 1, 2].map(() => Deno.makeTempDir({ prefix: "dspy-agent-failover-" })));
    // One after another: free ports are picked per daemon, and two picks at once could meet.
    const daemons: DaemonProcess[] = [];
    for (const home of homes) daemons.push(await start(home));
    const env = { PYTHONPATH: PACKAGE, PYTHONDONTWRITEBYTECODE: "1" };
    try {
      await t.step(
        "the client's submit loop and a wait in progress survive the kill; each task completes once",
        async () => {
          const child = new Deno.Command(PYTHON, {
            args: ["-c", SUBMITTER, daemons.map((d) => d.grpcAddr).join(",")],
            env,
            stdin: "piped",
            stdout: "piped",
            stderr: "piped",
            signal: AbortSignal.timeout(150_000),
          }).spawn();
          const stderr = new Response(child.stderr).text();
          let report: Record<string, unknown> | undefined;
          let victim = -1;
          for await (const line of lines(child.stdout)) {
            const message = JSON.parse(line);
            if (message.in_use) {
              victim = daemons.findIndex((d) => d.grpcAddr === message.in_use);
              assert(victim >= 0, `the client uses ${message.in_use}, none of the daemons`);
              daemons[victim].kill("SIGKILL");
              assertEquals(await daemons[victim].exited, 137);
              const writer = child.stdin.getWriter();
              await writer.write(new TextEncoder().encode("killed\n"));
              await writer.close();
            } else {
              report = message;
            }
          }
          const status = await child.status;
          assertEquals(status.code, 0, await stderr);
          assert(report, `no report from the client:\n${await stderr}`);
          const accepted = report.accepted as string[];
          assertEquals(report.errors, [], "submits that failed although two daemons were up");
          assertEquals(report.first, daemons[victim].grpcAddr);
          assert(report.after !== report.first, `the client still uses ${report.after}`);
          assertEquals(report.after_kill, 60, "the loop did not go on after the kill");
          assertEquals(report.waiting_at_kill, true, "the wait had ended before the kill; the test proved nothing");
          assertEquals(report.waited, { output: { slept_ms: 4000 } });
          assertEquals(new Set(accepted).size, accepted.length, "an id was answered twice");
          assert(
            accepted.every((id) => /^task-[0-9a-f-]{36}$/.test(id)),
            `ids not of the daemon's form: ${accepted[0]}`,
          );
          // Through a surviving daemon: every accepted task completed, no other task exists, none completed twice.
          const client = connectDaemon(daemons[(victim + 1) % 3]);
          try {
            assertEquals(await untilCompleted(client, accepted, 60_000), [], "accepted tasks that never completed");
            assertEquals(await countTasks(client), accepted.length + 1, "tasks stored besides the accepted ones");
            assertEquals(await completedTwice(pg, "failover"), "", "tasks completed more than once");
          } finally {
            client.close();
          }
          console.log(
            `failover: ${accepted.length} tasks accepted, 60 after the kill of ${report.first}, all completed once`,
          );
          daemons[victim] = await start(homes[victim]);
        },
      );

      await t.step("a worker reconnects to another daemon and its remaining tasks all complete", async () => {
        const folder = await Deno.makeTempDir({ prefix: "dspy-agent-failover-worker-" });
        await Deno.writeTextFile(`${folder}/failover_worker.py`, WORKER_MODULE);
        const client = connectDaemon(daemons[1]);
        const worker = new Deno.Command(PYTHON, {
          args: [
            "-m",
            "dspy_agent_client",
            "worker",
            "failover_worker:worker",
            "--address",
            daemons.map((d) => d.grpcAddr).join(","),
          ],
          cwd: folder,
          env,
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(150_000),
        }).spawn();
        const output = worker.output();
        try {
          const ids = Array.from({ length: 30 }, (_, n) => `square-${n}`);
          const submitted = await client.submitTasks({
            tasks: ids.map((id, n) => ({
              id,
              labels: { step: "worker" },
              payload: { task_type: "failover_square", n: String(n) },
            })),
          });
          assert(submitted.results.every((r) => r.success), JSON.stringify(submitted.results.find((r) => !r.success)));
          // The worker starts at the first address of its list: that daemon is killed once it has done some work.
          let done = 0;
          for (let i = 0; i < 600 && done < 4; i++) {
            done = (await client.listTasks({ states: ["completed"], labels: { step: "worker" }, pageSize: 100 })).tasks
              .length;
            await new Promise((r) => setTimeout(r, 50));
          }
          assert(done >= 4 && done < ids.length, `${done} of ${ids.length} tasks completed before the kill`);
          daemons[0].kill("SIGKILL");
          assertEquals(await daemons[0].exited, 137);
          assertEquals(await untilCompleted(client, ids, 60_000), [], "tasks of the worker's type never completed");
          for (const [n, id] of ids.entries()) {
            const status = await client.getTaskStatus({ taskId: id });
            assertEquals(JSON.parse(status.result.data), { square: n * n }, id);
          }
          assertEquals(await completedTwice(pg, "failover"), "", "tasks completed more than once");
        } finally {
          worker.kill("SIGTERM");
          client.close();
        }
        const { code, stderr } = await output;
        const log = new TextDecoder().decode(stderr);
        assertEquals(code, 0, log);
        assertStringIncludes(log, `lost the daemon at ${daemons[0].grpcAddr}`);
        // What it finished meanwhile was reported (the daemon may refuse it: the lease decides), never given up.
        assert(!log.includes("could not report"), log);
        await Deno.remove(folder, { recursive: true });
      });

      await t.step(
        "an UNAVAILABLE a daemon answers about the store is raised, not taken for a daemon gone",
        async () => {
          await pg.stopServer();
          try {
            const out = await new Deno.Command(PYTHON, {
              // The two daemons still up (the worker's was killed above), and an address where nothing listens: a
              // client that took the answer for a daemon gone would end there.
              args: ["-c", STORE_AWAY, `${daemons[1].grpcAddr},${daemons[2].grpcAddr},127.0.0.1:${await freePort()}`],
              env,
              stdout: "piped",
              stderr: "piped",
              signal: AbortSignal.timeout(60_000),
            }).output();
            const text = new TextDecoder().decode(out.stdout);
            assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
            const answer = JSON.parse(text.trim().split("\n").at(-1)!);
            assertEquals([answer.type, answer.reason], ["DaemonUnavailable", "StoreUnavailableError"], answer.message);
            const used = [answer.before, answer.after];
            assertEquals(used, [daemons[1].grpcAddr, daemons[1].grpcAddr], "the client moved on");
          } finally {
            await pg.startServer();
          }
        },
      );
    } finally {
      await Promise.all(daemons.map((d) => d.stop().catch(() => 0)));
      for (const home of homes) await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
