import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/support/assert.ts";
import { runPythonJson } from "../../tests/support/python.ts";
import { defaultConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { startDaemon } from "./daemon.ts";
import { AddressInUseError, DaemonAlreadyRunningError } from "./errors.ts";
import { acquireDaemonLock } from "./lock.ts";
import { authorized } from "./auth.ts";

async function withDaemon(
  fn: (grpc: string, http: string) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-daemon-test-" });
  try {
    const config = {
      ...defaultConfig({ home }),
      grpcAddr: "127.0.0.1:0",
      httpAddr: "127.0.0.1:0",
    };
    await using daemon = await startDaemon(config, {
      logger: silentLogger,
      graceMs: 1000,
    });
    await fn(daemon.grpcAddress, daemon.httpAddress);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

// Raw calls through grpcio's generic API, so the bytes on the wire are ours.
const RAW_CALLS = `
import grpc, json, sys
ch = grpc.insecure_channel(sys.argv[1], options=[("grpc.max_send_message_length", 64 << 20)])
def call_once(path, body, timeout):
    try:
        ch.unary_unary(path, request_serializer=None, response_deserializer=None)(body, timeout=timeout)
        return "OK"
    except grpc.RpcError as e:
        return e.code().name
# With a deadline a call goes through Connect; without one, plain unary gRPC takes the daemon's
# own fast path (src/daemon/grpc_unary.ts). Both must answer alike.
def call(path, body):
    with_deadline, without = call_once(path, body, 10), call_once(path, body, None)
    return with_deadline if with_deadline == without else f"{with_deadline} vs {without}"
health = "/orchestrator.v1.OrchestratorService/Health"
out = {
    "unknown_method": call("/orchestrator.v1.OrchestratorService/NoSuchMethod", b""),
    "unknown_service": call("/nope.v1.Nope/Call", b""),
    # field 1, wire type 2, length 0x7f but only two bytes follow: not a valid message
    "malformed": call("/orchestrator.v1.OrchestratorService/GetTaskStatus", b"\\x0a\\x7f\\x01\\x02"),
    "oversized": call(health, b"\\x0a" + b"\\xff\\xff\\xff\\x02" + b"x" * (5 << 20)),
    "after": call(health, b""),
}
print(json.dumps(out))
`;

Deno.test("daemon answers bad RPC input with the right codes and keeps serving", async () => {
  await withDaemon(async (grpc) => {
    const out = await runPythonJson<Record<string, string>>(RAW_CALLS, {
      args: [grpc],
    });
    assertEquals(out, {
      unknown_method: "UNIMPLEMENTED",
      unknown_service: "UNIMPLEMENTED",
      malformed: "INVALID_ARGUMENT",
      oversized: "RESOURCE_EXHAUSTED",
      after: "OK",
    });
  });
});

Deno.test("daemon serves /health, /metrics and Connect JSON over HTTP/1.1", async () => {
  await withDaemon(async (_grpc, http) => {
    const health = await fetch(`http://${http}/health`);
    assertEquals(await health.json(), { status: "ok" });
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    assertStringIncludes(metrics, "dspy_agent_build_info");
    const res = await fetch(
      `http://${http}/orchestrator.v1.OrchestratorService/Health`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      },
    );
    const body = await res.json();
    assertEquals(body.healthy, true);
    assertEquals(body.services.grpc, "ready");
  });
});

Deno.test("startDaemon() names a busy address and how to choose another", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-daemon-test-" });
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const taken = `127.0.0.1:${busy.addr.port}`;
  try {
    const config = {
      ...defaultConfig({ home }),
      grpcAddr: taken,
      httpAddr: "127.0.0.1:0",
    };
    const err = await assertRejects(
      () => startDaemon(config, { logger: silentLogger }),
      AddressInUseError,
    );
    assertEquals(err.address, taken);
    assertStringIncludes(err.message, "ORCHESTRATOR_GRPC_ADDR");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("acquireDaemonLock() refuses a second daemon on the same state folder", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-lock-test-" });
  try {
    // The lock is per open file description, so a second holder must be another process.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open("${home}/daemon.lock", {create: true, write: true}); await f.lock(true); console.log("locked"); await new Promise(r => setTimeout(r, 60000));`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = holder.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    assertEquals((await reader.read()).value?.trim(), "locked");
    await assertRejects(
      () => acquireDaemonLock(home),
      DaemonAlreadyRunningError,
    );
    holder.kill("SIGKILL");
    await holder.status;
    reader.releaseLock();
    await holder.stdout.cancel().catch(() => {});
    // Killed holders release the lock: a restart after kill -9 is never blocked.
    await using lock = await acquireDaemonLock(home);
    assert(lock);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("authorized() lets loopback through and asks others for the token", () => {
  const token = "a".repeat(64);
  assert(authorized("127.0.0.1", undefined, token));
  assert(authorized("::1", undefined, token));
  assert(authorized("::ffff:127.0.0.1", undefined, token));
  assert(!authorized("192.168.1.5", undefined, token));
  assert(!authorized("192.168.1.5", "Bearer wrong", token));
  assert(authorized("192.168.1.5", `Bearer ${token}`, token));
});
