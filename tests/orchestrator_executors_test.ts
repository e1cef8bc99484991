/**
 * Each executor of the orchestrator on real parts: local processes, a
 * one-off container on the real Docker engine, and a real HTTP task runner.
 */
import { createExecutor, type Engine } from "../src/env/mod.ts";
import type { SqliteOrchestrator, Task } from "../src/orchestrator/mod.ts";
import { openTestOrchestrator } from "./support/orchestrator.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  BUSYBOX_IMAGE,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";

function finished(
  orchestrator: SqliteOrchestrator,
  id: string,
  until = (t: Task) => t.finishedAtMs > 0,
): Promise<Task> {
  return new Promise((resolve) => {
    const check = (task: Task) => {
      if (task.id === id && until(task)) {
        unsubscribe();
        resolve(task);
      }
    };
    const unsubscribe = orchestrator.tasks.subscribe(check);
    check(orchestrator.tasks.get(id));
  });
}

Deno.test("payload.execution without image runs a local process; output from the __DSPY_RESULT__ line", async () => {
  const engine = await ensureDockerEngine();
  await using orchestrator = await openTestOrchestrator({
    executor: createExecutor({ engine, project: "dspy-agent" }),
  });
  orchestrator.tasks.submit({
    id: "proc1",
    payload: {
      execution: JSON.stringify({
        command: ["sh", "-c", 'echo "hello $GREETING"; echo \'__DSPY_RESULT__:{"score": 0.5}\''],
        env: { GREETING: "world" },
      }),
    },
  });
  const task = await finished(orchestrator, "proc1");
  assertEquals(task.state, "completed");
  assertEquals(JSON.parse(task.result.data), { score: 0.5 });
  const metadata = JSON.parse(task.result.metadata);
  assertEquals([metadata.executor, metadata.exit_code], ["execution", 0]);
  assertStringIncludes(metadata.logs.stdout_tail, "hello world");
  assertEquals(metadata.result.outputs_summary, "keys: score");
});

Deno.test("a process exiting non-zero fails the task with its exit code and stderr tail", async () => {
  const engine = await ensureDockerEngine();
  await using orchestrator = await openTestOrchestrator({
    executor: createExecutor({ engine, project: "dspy-agent" }),
  });
  orchestrator.tasks.submit({
    id: "proc2",
    payload: { execution: "{'command': ['sh', '-c', 'echo broken >&2; exit 3']}" },
  });
  const task = await finished(orchestrator, "proc2");
  assertEquals(task.state, "failed");
  assertStringIncludes(task.error, "exited with code 3: broken");
  const metadata = JSON.parse(task.result.metadata);
  assertEquals(metadata.exit_code, 3);
  assertStringIncludes(metadata.logs.stderr_tail, "broken");
});

Deno.test("a malformed payload.execution is refused at submission", async () => {
  const engine = await ensureDockerEngine();
  await using orchestrator = await openTestOrchestrator({
    executor: createExecutor({ engine, project: "dspy-agent" }),
  });
  let error: Error | undefined;
  try {
    orchestrator.tasks.submit({ id: "bad", payload: { execution: '{"image": "x"}' } });
  } catch (e) {
    error = e as Error;
  }
  assertEquals(error?.name, "InvalidExecutionSpecError");
  assertEquals(orchestrator.tasks.list().tasks.length, 0);
});

Deno.test("payload.execution with image runs in a one-off container on the real engine, then cancel kills one", async () => {
  const engine: Engine = await ensureDockerEngine();
  await buildBusyboxImage(engine);
  const labels = testLabels("orch-exec");
  try {
    await using orchestrator = await openTestOrchestrator({
      executor: createExecutor({ engine, project: "dspy-agent", labels, pull: false }),
    });
    orchestrator.tasks.submit({
      id: "box1",
      class: "cpu_long",
      payload: {
        execution: JSON.stringify({
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", 'echo "in $WHERE"; echo \'__DSPY_RESULT__:{"answer": 42}\''],
          env: { WHERE: "container" },
          resources: { mem_bytes: 64 * 1024 * 1024, cpu_millicores: 500 },
        }),
      },
    });
    const task = await finished(orchestrator, "box1");
    assertEquals(task.state, "completed", task.error);
    assertEquals(JSON.parse(task.result.data), { answer: 42 });
    const metadata = JSON.parse(task.result.metadata);
    assertStringIncludes(metadata.logs.stdout_tail, "in container");
    assert(typeof metadata.container_id === "string" && metadata.container_id.length > 0);

    orchestrator.tasks.submit({
      id: "box2",
      payload: { execution: JSON.stringify({ image: BUSYBOX_IMAGE, command: ["sleep", "60"] }) },
    });
    await finished(orchestrator, "box2", (t) => t.state === "running");
    // Wait for the container to exist before cancelling it.
    for (let i = 0; i < 100 && (await engine.listContainers({ selector: labels })).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    orchestrator.tasks.cancel("box2", "test over");
    assertEquals(orchestrator.tasks.get("box2").state, "cancelled");
    for (let i = 0; i < 100 && (await engine.listContainers({ selector: labels })).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await assertNothingLeft(engine, labels);
  } finally {
    await removeByLabel(engine, labels);
  }
});

Deno.test("with ENV_RUNNER_URL, a task is forwarded to the runner per docs/compatibility.md §4", async () => {
  const received: unknown[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    received.push({ path: new URL(req.url).pathname, body });
    if (body.payload.explode) return Response.json({ error: "runner blew up" }, { status: 500 });
    return Response.json({
      id: body.id,
      latency_ms: 12,
      metadata: { logs: { stdout_tail: "ran" }, output: { ok: 1 } },
    });
  });
  await using orchestrator = await openTestOrchestrator({ runnerUrl: `http://127.0.0.1:${server.addr.port}/` });
  orchestrator.tasks.submit({ id: "run1", class: "cpu_long", payload: { prompt: "hi", n: "2" } });
  const task = await finished(orchestrator, "run1");
  assertEquals(task.state, "completed", task.error);
  assertEquals(received[0], {
    path: "/tasks/execute",
    body: { id: "run1", class: "cpu_long", payload: { prompt: "hi", n: 2 } },
  });
  assertEquals(JSON.parse(task.result.data), { ok: 1 });
  assertEquals(JSON.parse(task.result.metadata).logs.stdout_tail, "ran");

  orchestrator.tasks.submit({ id: "run2", payload: { explode: "true" } });
  const failed = await finished(orchestrator, "run2");
  assertEquals(failed.state, "failed");
  assertStringIncludes(failed.error, "the runner answered 500: runner blew up");
});
