import { assert, assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "../../../tests/support/docker.ts";
import type { Engine } from "../engine/engine.ts";
import { ServiceNotFoundError } from "../errors.ts";
import { ownedLabels } from "../labels.ts";
import { type LogLine, serviceLogs, splitTimestamp } from "./logs.ts";

Deno.test("splitTimestamp() keeps the engine's nanoseconds", () => {
  assertEquals(splitTimestamp("2026-11-23T11:26:53.930020560Z hello world"), {
    nanos: 1795433213930020560n,
    message: "hello world",
  });
  assertEquals(splitTimestamp("2026-11-23T11:26:53Z x").nanos, 1795433213000000000n);
});

/** Starts a labelled service container running `script`; returns its id. */
async function startService(
  engine: Engine,
  project: string,
  labels: Record<string, string>,
  script: string,
): Promise<string> {
  const id = await engine.createContainer({
    Image: await buildBusyboxImage(engine),
    Cmd: ["sh", "-c", script],
    HostConfig: { NetworkMode: "none" },
    Labels: ownedLabels({ project, kind: "service", service: "talker", extra: labels }),
  });
  await engine.startContainer(id);
  return id;
}

async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

Deno.test("serviceLogs() demultiplexes stdout and stderr, with tail and the container's timestamps", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("logs");
  const project = `dspy-agent-test-${labels["dspy-agent.test"]}`;
  try {
    const before = Date.now();
    const id = await startService(
      engine,
      project,
      labels,
      "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exec sleep 60",
    );
    await waitForLines(engine, project, 10);
    const all = await collect(serviceLogs(engine, { project, service: "talker" }));
    assertEquals(all.filter((l) => l.stream === "stdout").map((l) => l.message), [
      "out1",
      "out2",
      "out3",
      "out4",
      "out5",
    ]);
    assertEquals(all.filter((l) => l.stream === "stderr").map((l) => l.message), [
      "err1",
      "err2",
      "err3",
      "err4",
      "err5",
    ]);
    for (const line of all) {
      assertEquals(line.containerId, id);
      assertEquals(line.service, "talker");
      assert(Math.abs(line.timestamp * 1000 - before) < 60_000, `timestamp ${line.timestamp}`);
      assertEquals(String(line.timestamp), String(BigInt(line.timestampNanos) / 1_000_000_000n));
    }
    const tail = await collect(serviceLogs(engine, { project, service: "talker", tail: 2 }));
    // The engine's tail counts lines of both streams, in the order it logged them.
    assertEquals(tail.map((l) => l.message), all.slice(-2).map((l) => l.message));
    const future = await collect(serviceLogs(engine, { project, service: "talker", since: Date.now() / 1000 + 3600 }));
    assertEquals(future, []);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("serviceLogs() with follow streams new lines until aborted", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("logs-follow");
  const project = `dspy-agent-test-${labels["dspy-agent.test"]}`;
  const controller = new AbortController();
  try {
    await startService(engine, project, labels, "i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.1; done");
    const seen: string[] = [];
    const lines = serviceLogs(engine, { project, service: "talker", follow: true, tail: 1, signal: controller.signal });
    for await (const line of lines) {
      seen.push(line.message);
      if (seen.length === 5) controller.abort();
    }
    assertEquals(seen.length, 5);
    const numbers = seen.map((s) => Number(s.replace("tick", "")));
    for (let i = 1; i < numbers.length; i++) assertEquals(numbers[i], numbers[i - 1] + 1);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("serviceLogs() throws ServiceNotFoundError for an unknown service, yields nothing for a known idle one", async () => {
  const engine = await ensureDockerEngine();
  const project = `dspy-agent-test-${crypto.randomUUID().slice(0, 8)}`;
  await assertRejects(
    () => collect(serviceLogs(engine, { project, service: "nope" })),
    ServiceNotFoundError,
    'Cannot find service "nope"',
  );
  assertEquals(await collect(serviceLogs(engine, { project, service: "redis", isKnown: () => true })), []);
});

async function waitForLines(engine: Engine, project: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await collect(serviceLogs(engine, { project, service: "talker" }))).length < count) {
    if (Date.now() > deadline) throw new Error(`Fewer than ${count} log lines after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
