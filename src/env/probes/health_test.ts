import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { probeOnce, probePause, waitHealthy } from "./health.ts";
import type { HealthCheck } from "../registry/service_definition.ts";

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

Deno.test("waitHealthy() probes until the deadline, then reports the last failure", async () => {
  let probes = 0;
  const result = await waitHealthy(check({ kind: "exec", command: ["x"] }), {
    exec: () => {
      probes++;
      return Promise.resolve({ exitCode: 1, output: "not yet" });
    },
  }, { signal: AbortSignal.timeout(10_000), deadlineMs: 300, maxIntervalMs: 50 });
  assertEquals([result.healthy, result.detail, result.exited], [false, "exit code 1: not yet", false]);
  assertEquals(result.attempts, probes);
  assert(probes > 1, `probed ${probes} times`);
});

Deno.test("probePause() starts small, grows with the time waited, stops at the cap and the deadline", () => {
  const limits = { initialMs: 5, maxMs: 1000, deadlineMs: 60_000 };
  assertEquals(probePause(0, limits), 5);
  const early = probePause(1_000, limits);
  const later = probePause(10_000, limits);
  assert(early >= 5 && early < later, `${early} < ${later}`);
  assertEquals(probePause(59_000, limits), 1000);
  assertEquals(probePause(59_990, limits), 10);
  assertEquals(probePause(60_000, limits), 1);
});
