/**
 * A property-based fuzz of every side-effect-free RPC's request fields against a real daemon over real gRPC
 * (docs/validation.md): random and extreme values (int64 and int32 extremes, NaN and infinities, empty, huge, unicode
 * and NUL strings, wide maps, long lists) are answered OK or with a client-error code naming the problem, never
 * INTERNAL or UNKNOWN; the daemon never exits; and afterwards every read RPC still answers for every task stored.
 * Seeded (`RPC_FUZZ_SEED`) and bounded in cases and time (`RPC_FUZZ_CASES`, 20 s).
 *
 * RPCs that start containers or processes (StartServices, ExecuteTask, PullImages, …) are left out: a random request
 * could run something. SubmitTask payloads never carry `execution` for the same reason.
 * @module
 */
import { type SeededRandom, seededRandom } from "./support/random.ts";
import { create, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { EnvManagerService } from "../src/gen/env_manager/v1/env_manager_pb.ts";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";

const SEED = Number(Deno.env.get("RPC_FUZZ_SEED") ?? 4_12_2026);
const CASES = Number(Deno.env.get("RPC_FUZZ_CASES") ?? 3000);
const TIME_LIMIT_MS = 20_000;
/** Codes a well-behaved server may answer to a bad request; anything else is a defect. */
const CLIENT_CODES = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.ResourceExhausted,
  Code.Unimplemented,
]);

type Rng = SeededRandom;

const STRINGS = (rng: Rng): string =>
  rng.pick([
    () => "",
    () => "noop",
    () => "task-1",
    () => "cpu_short",
    () => "gpu_slurm",
    () => "x".repeat(rng.pick([129, 5000, rng.next() < 0.1 ? 200_000 : 20_000])),
    () => "\u0000\u0001\u007f",
    () => "ünïcödé-✓-🦀",
    () => "../../etc/passwd",
    () => "null",
    () => '{"a": [1, 2, {"b": null}]}',
    () => "[".repeat(2000),
    () => String(rng.next() * 1e6),
  ])();

const INT32 = [0, 1, -1, 10, 2 ** 31 - 1, -(2 ** 31), 1_000_001, -1_000_001];
const INT64 = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 253_402_300_800_000n, BigInt(Date.now())];
const DOUBLES = [0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308];
const PAYLOAD_KEYS = ["task_type", "sleep_ms", "message", "fail_attempts", "workflow_id", "config_json", "x", "y"];

function scalar(rng: Rng, type: ScalarType, name: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      return STRINGS(rng);
    case ScalarType.BOOL:
      return rng.next() < 0.5;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.pick(INT32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.pick([0, 1, 2 ** 32 - 1]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return type === ScalarType.UINT64 || type === ScalarType.FIXED64 ? 2n ** 63n : rng.pick(INT64);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rng.pick(DOUBLES);
    case ScalarType.BYTES:
      return name === "spec"
        ? new TextEncoder().encode(
          rng.pick(['{"steps": []}', "{", STRINGS(rng), '{"steps": [{"id": "a", "depends_on": ["a"]}]}']),
        )
        : new Uint8Array(rng.int(64));
  }
}

/** A random message of `desc`: each field set or not, with extreme values. */
function randomMessage(rng: Rng, desc: DescMessage, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of desc.fields) {
    if (rng.next() < 0.35) continue;
    const value = randomField(rng, field, depth);
    if (value !== undefined) out[field.localName] = value;
  }
  return out;
}

function randomField(rng: Rng, field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(rng, field.scalar, field.name);
    case "enum":
      return rng.int(5);
    case "message":
      return depth < 3 ? randomMessage(rng, field.message, depth + 1) : undefined;
    case "list": {
      const n = rng.pick([0, 1, 3, 50, rng.next() < 0.2 ? 2000 : 10]);
      if (field.listKind === "message") {
        return depth < 2
          ? Array.from({ length: Math.min(n, 20) }, () => randomMessage(rng, field.message, depth + 1))
          : [];
      }
      if (field.listKind === "scalar") return Array.from({ length: n }, () => scalar(rng, field.scalar, field.name));
      return [];
    }
    case "map": {
      const n = rng.pick([0, 1, 4, 100, rng.next() < 0.2 ? 2000 : 10]);
      const map: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = field.name === "payload" && rng.next() < 0.8
          ? rng.pick(PAYLOAD_KEYS)
          : `${STRINGS(rng).slice(0, 300)}${i}`;
        if (field.mapKind === "scalar") map[key] = scalar(rng, field.scalar, key);
        else if (field.mapKind === "message" && depth < 2) map[key] = randomMessage(rng, field.message, depth + 1);
      }
      return map;
    }
  }
}

/** Never fuzzed: each can start a container or a process, or change the user's stack. */
const SIDE_EFFECTS = new Set(["StartServices", "StopServices", "RestartService", "ExecuteTask", "PullImages"]);

Deno.test("fuzz: no request field value makes an RPC answer INTERNAL or the daemon exit; reads keep working", async () => {
  await using daemon = await startDaemonProcess();
  const sessionManager = new Http2SessionManager(`http://${daemon.grpcAddr}`);
  const transport = createGrpcTransport({ baseUrl: `http://${daemon.grpcAddr}`, sessionManager });
  const services = [OrchestratorService, EnvManagerService];
  const methods = services.flatMap((service) =>
    service.methods.filter((m) => !SIDE_EFFECTS.has(m.name)).map((m) => ({ service, method: m }))
  );
  const rng = seededRandom(SEED);
  const started = Date.now();
  const tally: Record<string, number> = {};
  const accepted = new Set<string>();
  let cases = 0;
  try {
    for (; cases < CASES && Date.now() - started < TIME_LIMIT_MS; cases++) {
      const { service, method } = rng.pick(methods);
      const request = randomMessage(rng, method.input);
      // Never a payload that runs something.
      if (request.payload && typeof request.payload === "object") {
        delete (request.payload as Record<string, unknown>).execution;
      }
      // deno-lint-ignore no-explicit-any
      const client = createClient(service, transport) as any;
      const call = client[method.localName] as (req: unknown, options: unknown) => unknown;
      let code = "OK";
      try {
        const message = create(method.input, request as never);
        if (method.methodKind === "server_streaming") {
          const signal = AbortSignal.timeout(50);
          try {
            let n = 0;
            for await (const _ of call(message, { signal }) as AsyncIterable<unknown>) if (++n >= 5) break;
          } catch (err) {
            if (!signal.aborted) throw err;
          }
        } else {
          const answer = await call(message, { timeoutMs: 10_000 }) as { taskId?: string; success?: boolean };
          if (method.name === "SubmitTask" && answer.success && answer.taskId) accepted.add(answer.taskId);
        }
      } catch (err) {
        const ce = ConnectError.from(err);
        if (ce.code === Code.Canceled || ce.code === Code.DeadlineExceeded) code = "OK";
        else if (!CLIENT_CODES.has(ce.code)) {
          throw new Error(
            `case ${cases} (seed ${SEED}): ${method.name} answered ${Code[ce.code]}: ${ce.rawMessage.slice(0, 300)}\n` +
              `request: ${JSON.stringify(request, (_, v) => typeof v === "bigint" ? `${v}n` : v).slice(0, 500)}`,
          );
        } else code = Code[ce.code];
      }
      const key = `${method.name} ${code}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    console.log(`${cases} fuzz cases in ${Date.now() - started} ms (seed ${SEED}); ${accepted.size} tasks accepted`);
    console.log(Object.entries(tally).sort().map(([k, n]) => `  ${k}: ${n}`).join("\n"));
    // The daemon is alive, and every read still answers for every task it stored.
    const orchestrator = createClient(OrchestratorService, transport);
    assertEquals((await orchestrator.health({})).healthy, true);
    for (const taskId of accepted) await orchestrator.getTaskStatus({ taskId });
    let pageToken = "";
    let listed = 0;
    do {
      const page = await orchestrator.listTasks({ pageSize: 1000, pageToken });
      listed += page.tasks.length;
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert(listed >= accepted.size, `ListTasks saw ${listed} of ${accepted.size} tasks`);
    assert(Object.keys((await orchestrator.getMetrics({})).metrics).length > 0);
    let replayed = 0;
    try {
      for await (const _ of orchestrator.streamEvents({}, { signal: AbortSignal.timeout(2000) })) {
        if (++replayed >= 100) break;
      }
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
    assert(replayed > 0 || accepted.size === 0, "StreamEvents replayed nothing");
  } finally {
    sessionManager.abort();
  }
});

Deno.test("a stored row no int64 can hold is clamped on read, not an INTERNAL for every reader", async () => {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-badrow-" });
  try {
    {
      await using daemon = await startDaemonProcess({ home });
      const sessionManager = new Http2SessionManager(`http://${daemon.grpcAddr}`);
      const client = createClient(
        OrchestratorService,
        createGrpcTransport({ baseUrl: `http://${daemon.grpcAddr}`, sessionManager }),
      );
      await client.submitTask({ id: "bad-row", payload: { task_type: "noop" } });
      sessionManager.abort();
    }
    // As an older version could have stored it: int64 max read back as a double.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${home}/orchestrator.db`);
    db.exec("UPDATE tasks SET not_before_ms = 9.3e18, created_at_ms = -1e300 WHERE id = 'bad-row'");
    db.close();
    await using daemon = await startDaemonProcess({ home });
    const sessionManager = new Http2SessionManager(`http://${daemon.grpcAddr}`);
    const client = createClient(
      OrchestratorService,
      createGrpcTransport({ baseUrl: `http://${daemon.grpcAddr}`, sessionManager }),
    );
    const status = await client.getTaskStatus({ taskId: "bad-row" });
    assertEquals(status.task?.notBeforeMs, 2n ** 63n - 1n);
    assertEquals((await client.listTasks({})).tasks.map((t) => t.id), ["bad-row"]);
    sessionManager.abort();
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("payload limits are configurable: [tasks] max_payload_keys and max_payload_bytes", async () => {
  await using daemon = await startDaemonProcess({
    configToml: "[tasks]\nmax_payload_keys = 5\nmax_payload_bytes = 2048\n\n[services]\nredis = false\n",
  });
  const sessionManager = new Http2SessionManager(`http://${daemon.grpcAddr}`);
  const client = createClient(
    OrchestratorService,
    createGrpcTransport({ baseUrl: `http://${daemon.grpcAddr}`, sessionManager }),
  );
  try {
    const payload = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, "v"]));
    assertEquals((await client.submitTask({ payload })).success, true);
    const tooMuch: Record<string, string>[] = [{ ...payload, k5: "v" }, { big: "x".repeat(3000) }];
    for (const bad of tooMuch) {
      const error = await client.submitTask({ payload: bad }).then(() => undefined, (e) => ConnectError.from(e));
      assertEquals(error?.code, Code.InvalidArgument);
      assert(/max_payload_(keys|bytes)/.test(error!.rawMessage), error!.rawMessage);
    }
  } finally {
    sessionManager.abort();
  }
});
