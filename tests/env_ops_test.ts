/**
 * PullImages, StreamLogs, GetResourceAvailability and ExecuteTask through an
 * in-memory Connect transport with the daemon's error interceptor, on the real engine.
 */
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { envOpsHandlers } from "../src/api/env_ops_handlers.ts";
import { errorInterceptor } from "../src/api/interceptor.ts";
import { createExecutor, type Engine, ownedLabels } from "../src/env/mod.ts";
import { EnvManagerService } from "../src/gen/env_manager/v1/env_manager_pb.ts";
import { silentLogger } from "../src/log/mod.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  BUSYBOX_IMAGE,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";

function setup(engine: Engine, labels: Record<string, string>) {
  const project = `dspy-agent-test-${labels["dspy-agent.test"]}`;
  // No network: these tasks need none, and creating endpoints is the slowest part of a start.
  const executor = createExecutor({ engine, project, labels, network: "none" });
  const handlers = envOpsHandlers({
    engine,
    executor,
    project,
    isKnownService: (name) => name === "redis",
    serviceImages: () => ["dspy-agent-test/never-published:1"],
  });
  const transport = createRouterTransport(
    (router) => router.service(EnvManagerService, handlers),
    { router: { interceptors: [errorInterceptor(silentLogger)] } },
  );
  return { project, client: createClient(EnvManagerService, transport) };
}

async function codeOf(promise: Promise<unknown>): Promise<Code | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

Deno.test("ExecuteTask runs payload.execution in a container and returns its result map", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("api-exec");
  const { client } = setup(engine, labels);
  try {
    const execution = JSON.stringify({
      image: await buildBusyboxImage(engine),
      command: ["sh", "-c", "echo working; echo '__DSPY_RESULT__:{\"loss\": 0.25}'"],
    });
    const ok = await client.executeTask({ taskId: "t-ok", workloadClass: "cpu_short", payload: { execution } });
    assertEquals(ok.success, true);
    assertEquals(ok.error, "");
    assertEquals(ok.result.exit_code, "0");
    assertEquals(JSON.parse(ok.result.data), { loss: 0.25 });
    assertMatch(ok.result.stdout_tail, /^working\n/);
    assertMatch(ok.result.container_id, /^[0-9a-f]{64}$/);
    assert(ok.latencyMs > 0);

    const failed = await client.executeTask({
      taskId: "t-fail",
      payload: { execution: "{'command': ['sh', '-c', 'echo bad >&2; exit 2']}" },
    });
    assertEquals([failed.success, failed.error], [false, 'Task "t-fail" exited with code 2']);
    assertEquals([failed.result.exit_code, failed.result.stderr_tail], ["2", "bad\n"]);

    const slow = await client.executeTask({
      taskId: "t-slow",
      timeoutSeconds: 1,
      payload: { execution: JSON.stringify({ image: BUSYBOX_IMAGE, command: ["sleep", "30"] }) },
    });
    assertEquals([slow.success, slow.result.timed_out], [false, "true"]);
    assertMatch(slow.error, /timed out after 1 s/);

    const noImage = await client.executeTask({
      payload: { execution: JSON.stringify({ image: "dspy-agent-test/absent:0", command: ["true"] }) },
    });
    assertEquals(noImage.success, false);
    assertMatch(noImage.error, /^Cannot pull image "dspy-agent-test\/absent:0"/);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("ExecuteTask answers INVALID_ARGUMENT for a missing or bad execution spec", async () => {
  const engine = await ensureDockerEngine();
  const { client } = setup(engine, testLabels("api-exec-bad"));
  assertEquals(await codeOf(client.executeTask({ taskId: "x", payload: {} })), Code.InvalidArgument);
  assertEquals(
    await codeOf(client.executeTask({ payload: { execution: '{"command": "echo hi"}' } })),
    Code.InvalidArgument,
  );
  assertEquals(await codeOf(client.executeTask({ payload: { execution: "{nope" } })), Code.InvalidArgument);
});

Deno.test("StreamLogs: INVALID_ARGUMENT for an empty name, NOT_FOUND for an unknown one, lines for a service", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("api-logs");
  const { client, project } = setup(engine, labels);
  try {
    assertEquals(await codeOf(drain(client.streamLogs({ serviceName: "" }))), Code.InvalidArgument);
    assertEquals(await codeOf(drain(client.streamLogs({ serviceName: "ghost" }))), Code.NotFound);
    assertEquals(await drain(client.streamLogs({ serviceName: "redis" })), []);

    const id = await engine.createContainer({
      Image: await buildBusyboxImage(engine),
      Cmd: ["sh", "-c", "echo hello; echo oops >&2; sleep 60"],
      HostConfig: { NetworkMode: "none" },
      Labels: ownedLabels({ project, kind: "service", service: "web", extra: labels }),
    });
    await engine.startContainer(id);
    const entries = [];
    for await (const entry of client.streamLogs({ serviceName: "web", follow: true })) {
      entries.push(entry);
      if (entries.length === 2) break;
    }
    const byStream = Object.fromEntries(entries.map((e) => [e.stream, e.message]));
    assertEquals(byStream, { stdout: "hello", stderr: "oops" });
    for (const entry of entries) {
      assertEquals([entry.serviceName, entry.containerId], ["web", id]);
      assertEquals(entry.timestamp, BigInt(entry.timestampNanos) / 1_000_000_000n);
    }
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("PullImages reports the registry failure per image, honestly for a local image too", async () => {
  const engine = await ensureDockerEngine();
  const { client } = setup(engine, testLabels("api-pull"));
  await buildBusyboxImage(engine);
  const updates = await drain(client.pullImages({ imageNames: ["dspy-agent-test/absent:0", BUSYBOX_IMAGE] }));
  assertEquals(updates.map((u) => [u.imageName, u.status]), [
    ["dspy-agent-test/absent:0", "error"],
    [BUSYBOX_IMAGE, "error"],
  ]);
  assertMatch(updates[0].message, /^Cannot pull image "dspy-agent-test\/absent:0": /);
  assert(!updates[0].message.includes("local copy"));
  assertMatch(updates[1].message, /the engine already has a local copy of this image/);
  const defaults = await drain(client.pullImages({}));
  assertEquals(defaults.map((u) => [u.imageName, u.status]), [["dspy-agent-test/never-published:1", "error"]]);
});

Deno.test("GetResourceAvailability reports host cores and memory, no GPUs without nvidia-smi", async () => {
  const engine = await ensureDockerEngine();
  const { client } = setup(engine, testLabels("api-res"));
  const cpu = await client.getResourceAvailability({ workloadClass: "cpu_short" });
  assertEquals(cpu.available, true);
  assertEquals(cpu.hardware?.cpuCores, navigator.hardwareConcurrency);
  assertEquals(cpu.hardware?.memoryBytes, BigInt(Deno.systemMemoryInfo().total));
  assertEquals(cpu.hardware?.gpus, []);
  const gpu = await client.getResourceAvailability({ workloadClass: "gpu" });
  assertEquals([gpu.available, gpu.capacity], [false, 0]);
});
