import { assert, assertEquals } from "../../tests/support/assert.ts";
import { probeOnce, waitHealthy } from "./health.ts";
import type { HealthCheck } from "./service_definition.ts";

const check = (c: Partial<HealthCheck>): HealthCheck => ({ kind: "none", timeoutSeconds: 5, ...c });

Deno.test("probeOnce() judges HTTP status, TCP connect and exec exit codes", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => new URL(req.url).pathname === "/health" ? new Response("ok") : new Response("no", { status: 503 }),
  );
  const address = { hostname: "127.0.0.1", port: server.addr.port };
  const signal = AbortSignal.timeout(5000);
  try {
    assertEquals(await probeOnce(check({ kind: "http", path: "/health" }), { address }, signal), {
      healthy: true,
      detail: "HTTP 200",
    });
    assertEquals((await probeOnce(check({ kind: "http", path: "/other" }), { address }, signal)).detail, "HTTP 503");
    assertEquals((await probeOnce(check({ kind: "tcp" }), { address }, signal)).healthy, true);
    const exec = (command: string[]) => Promise.resolve({ exitCode: command[0] === "ok" ? 0 : 2, output: "nope\n" });
    assertEquals(await probeOnce(check({ kind: "exec", command: ["bad"] }), { exec }, signal), {
      healthy: false,
      detail: "exit code 2: nope",
    });
  } finally {
    await server.shutdown();
  }
  const refused = await probeOnce(check({ kind: "tcp" }), { address }, AbortSignal.timeout(5000));
  assertEquals(refused, { healthy: false, detail: "connection refused" });
});

Deno.test("probeOnce() sends a real Redis PING", async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const redis = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const result = await waitHealthy(check({ kind: "redis" }), { address: { hostname: "127.0.0.1", port } }, {
      signal: AbortSignal.timeout(10_000),
      deadlineMs: 5000,
    });
    assertEquals([result.healthy, result.detail], [true, "PONG"]);
  } finally {
    redis.kill();
    await redis.status;
  }
});

Deno.test("waitHealthy() probes at once, backs off up to the cap, and gives up at the deadline", async () => {
  const times: number[] = [];
  const started = performance.now();
  const result = await waitHealthy(check({ kind: "exec", command: ["x"] }), {
    exec: () => {
      times.push(performance.now() - started);
      return Promise.resolve({ exitCode: 1, output: "not yet" });
    },
  }, { signal: AbortSignal.timeout(10_000), deadlineMs: 600, maxIntervalMs: 50 });
  assertEquals([result.healthy, result.detail, result.exited], [false, "exit code 1: not yet", false]);
  assert(times[0] < 25, `first probe after ${times[0]} ms`);
  assert(result.elapsedMs >= 600 && result.elapsedMs < 900, `gave up after ${result.elapsedMs} ms`);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert(gaps[0] < gaps.at(-1)!, `pauses grow: ${gaps}`);
  assert(gaps.every((g) => g < 50 + 40), `pauses stay under the cap: ${gaps}`);
});
