import { assert, assertEquals, assertMatch, assertRejects } from "../../../tests/support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "../../../tests/support/docker.ts";
import { DockerError } from "../errors.ts";
import { createExecutor, parseExecutionSpec, removeTaskContainers } from "./execution.ts";
import { LABEL_TASK, ownedLabels } from "../labels.ts";

const PROJECT = "dspy-agent-test";

Deno.test("Executor runs a container task: output, env, mount, exit code, container removed", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec");
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-exec-" });
  await Deno.writeTextFile(`${dir}/input.txt`, "from the host\n");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  try {
    const script = [
      'echo "mode=$MODE"',
      "cat /in/input.txt",
      "echo warn >&2",
      "echo '__DSPY_RESULT__:{\"score\": 0.5}'",
      'echo \'__DSPY_RESULT__:{"score": 0.9, "cwd": "\'$(pwd)\'"}\'',
      "echo written > /in/output.txt",
      // The limits, from cgroup v2 or v1, as the task itself sees them.
      "echo mem=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)",
      "echo cpu=$(cut -d' ' -f1 /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)",
      "exit 3",
    ].join("; ");
    const spec = parseExecutionSpec({
      command: ["sh", "-c", script],
      image,
      env: { MODE: "fast" },
      mounts: [{ host_path: dir, mount_path: "/in" }],
      resources: { cpu_millicores: 500, mem_bytes: 64 * 1024 * 1024 },
      working_dir: "/in",
      timeout_seconds: 60,
    });
    const result = await executor.execute(spec, { taskId: "task-1" });
    assertEquals(result.exitCode, 3);
    assertEquals(result.timedOut, false);
    assertEquals(result.output, { score: 0.9, cwd: "/in" });
    assertMatch(result.stdoutTail, /^mode=fast\nfrom the host\n/);
    assertEquals(result.stderrTail, "warn\n");
    assertEquals(await Deno.readTextFile(`${dir}/output.txt`), "written\n");
    assertMatch(result.stdoutTail, /\nmem=67108864\ncpu=50000\n/);
    assert(result.containerId);
    assert(result.latencyMs > 0);
    assertEquals(await engine.listContainers({ selector: { ...labels, [LABEL_TASK]: "task-1" } }), []);
  } finally {
    await removeByLabel(engine, labels);
    await Deno.remove(dir, { recursive: true });
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor kills a container task at its time limit and removes it", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-timeout");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  try {
    const spec = parseExecutionSpec({
      command: ["sh", "-c", "echo started; sleep 60; echo never"],
      image,
      timeout_seconds: 1,
    });
    const result = await executor.execute(spec, { taskId: "task-timeout" });
    assertEquals(result.timedOut, true);
    assertEquals(result.exitCode, 137);
    assertEquals(result.stdoutTail, "started\n");
    assert(result.latencyMs < 30_000, `took ${result.latencyMs} ms`);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor cancels a container task when its signal aborts", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-cancel");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  const controller = new AbortController();
  try {
    const spec = parseExecutionSpec({ command: ["sleep", "60"], image });
    const running = executor.execute(spec, { taskId: "task-cancel", signal: controller.signal });
    setTimeout(() => controller.abort(new Error("cancelled by test")), 500);
    await assertRejects(() => running, Error, "cancelled by test");
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor reports an absent image it cannot pull, naming the image", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("exec-noimage");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  const spec = parseExecutionSpec({ command: ["true"], image: "dspy-agent-test/absent:0" });
  const err = await assertRejects(() => executor.execute(spec, { taskId: "t" }), DockerError);
  assertMatch(err.message, /^Cannot pull image "dspy-agent-test\/absent:0": .*docker load/);
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor runs a local process: output, env, working dir, exit code", async () => {
  const engine = await ensureDockerEngine();
  const executor = createExecutor({ engine, project: PROJECT });
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "dspy-agent-local-" }));
  try {
    const spec = parseExecutionSpec({
      command: ["sh", "-c", "echo \"$GREETING from $(pwd)\"; echo oops >&2; echo '__DSPY_RESULT__:[1,2]'; exit 4"],
      env: { GREETING: "hello" },
      working_dir: dir,
    });
    const result = await executor.execute(spec, { taskId: "local-1" });
    assertEquals(result.exitCode, 4);
    assertEquals(result.stdoutTail, `hello from ${dir}\n__DSPY_RESULT__:[1,2]\n`);
    assertEquals(result.stderrTail, "oops\n");
    assertEquals(result.output, [1, 2]);
    assertEquals(result.containerId, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Executor creates a missing working dir and missing mount host paths, as the earlier runner did", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-paths");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "dspy-agent-paths-" }));
  try {
    const work = `${dir}/runs/1/work`;
    const local = await executor.execute(
      parseExecutionSpec({ command: ["sh", "-c", "pwd; echo data > out.txt"], working_dir: work }),
      { taskId: "paths-local" },
    );
    assertEquals([local.exitCode, local.stdoutTail], [0, `${work}\n`]);
    assertEquals(await Deno.readTextFile(`${work}/out.txt`), "data\n");
    const mounted = `${dir}/cache/models`;
    const inContainer = await executor.execute(
      parseExecutionSpec({
        command: ["sh", "-c", "echo saved > /models/m.txt"],
        image,
        mounts: [{ host_path: mounted, mount_path: "/models" }],
      }),
      { taskId: "paths-container" },
    );
    assertEquals(inContainer.exitCode, 0, inContainer.stderrTail);
    assertEquals(await Deno.readTextFile(`${mounted}/m.txt`), "saved\n");
  } finally {
    await removeByLabel(engine, labels);
    await Deno.remove(dir, { recursive: true });
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor kills a local process tree at its time limit", async () => {
  const engine = await ensureDockerEngine();
  const executor = createExecutor({ engine, project: PROJECT });
  // A unique duration lets pgrep find exactly this sleep.
  const marker = `600.${Math.floor(Math.random() * 1e6)}`;
  const spec = parseExecutionSpec({
    command: ["sh", "-c", `echo started; sleep ${marker} & wait`],
    timeout_seconds: 0.5,
  });
  const result = await executor.execute(spec, { taskId: "local-timeout" });
  assertEquals(result.timedOut, true);
  assertEquals(result.exitCode, 137);
  assertEquals(result.stdoutTail, "started\n");
  const left = await new Deno.Command("pgrep", { args: ["-f", `sleep ${marker}`] }).output();
  assertEquals(left.code, 1, "the grandchild sleep survived the kill");
});

Deno.test("Executor reports a local program that does not exist", async () => {
  const engine = await ensureDockerEngine();
  const executor = createExecutor({ engine, project: PROJECT });
  const spec = parseExecutionSpec({ command: ["dspy-agent-no-such-program"] });
  const result = await executor.execute(spec, { taskId: "local-missing" });
  assert(result.exitCode !== 0);
  assertMatch(result.stderrTail, /dspy-agent-no-such-program/);
});

Deno.test("Executor runs a container task on the given network, reaching a service by name", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-net");
  const network = `dspy-agent-test-${labels["dspy-agent.test"]}`;
  try {
    await engine.createNetwork({ Name: network, Labels: labels });
    const web = await engine.createContainer({
      Image: image,
      Cmd: ["sh", "-c", "mkdir -p /www && echo pong > /www/ping && exec httpd -f -p 8080 -h /www"],
      Labels: labels,
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ["web"] } } },
    });
    await engine.startContainer(web);
    const executor = createExecutor({ engine, project: PROJECT, labels, network });
    const spec = parseExecutionSpec({
      command: [
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web:8080/ping && exit 0; sleep 0.2; done",
      ],
      image,
    });
    const result = await executor.execute(spec, { taskId: "task-net" });
    assertEquals([result.exitCode, result.stdoutTail], [0, "pong\n"]);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Executor reports a GPU request the engine cannot satisfy, and removes the container", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-gpu");
  const executor = createExecutor({ engine, project: PROJECT, labels, network: "none" });
  try {
    const spec = parseExecutionSpec({ command: ["true"], image, resources: { gpu_count: 1 } });
    const err = await assertRejects(() => executor.execute(spec, { taskId: "task-gpu" }), DockerError);
    assertMatch(err.message, /^Cannot start container "[0-9a-f]{12}": .*nvidia/);
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("removeTaskContainers() removes the task containers a killed daemon left, and nothing else", async () => {
  const engine = await ensureDockerEngine();
  const image = await buildBusyboxImage(engine);
  const labels = testLabels("exec-orphans");
  const project = `dspy-agent-test-${labels["dspy-agent.test"]}`;
  try {
    const create = (kind: "task" | "service", owner: string) =>
      engine.createContainer({
        Image: image,
        Cmd: ["sleep", "60"],
        Labels: ownedLabels({ project: owner, kind, taskId: kind === "task" ? "t" : undefined, extra: labels }),
        HostConfig: { NetworkMode: "none" },
      });
    const orphan = await create("task", project);
    await engine.startContainer(orphan);
    await create("task", project);
    const service = await create("service", project);
    const otherProject = await create("task", `${project}-other`);
    assertEquals(await removeTaskContainers({ engine, project }), 2);
    const left = (await engine.listContainers({ selector: labels })).map((c) => c.Id).sort();
    assertEquals(left, [service, otherProject].sort());
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});
