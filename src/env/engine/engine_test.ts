import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { createEngine, type EngineEvent } from "./engine.ts";
import { parseDockerHost, translateEngineError } from "./engine_host.ts";
import { DockerError, DockerUnavailableError } from "../errors.ts";
import { frameLines } from "./logs_frames.ts";
import { LABEL_PROJECT, ownedLabels } from "../labels.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "../../../tests/support/docker.ts";

Deno.test("parseDockerHost() reads unix, bare path and tcp addresses", () => {
  assertEquals(parseDockerHost("unix:///var/run/docker.sock"), {
    kind: "unix",
    socketPath: "/var/run/docker.sock",
  });
  assertEquals(parseDockerHost("/tmp/d.sock"), {
    kind: "unix",
    socketPath: "/tmp/d.sock",
  });
  assertEquals(parseDockerHost("tcp://127.0.0.1:2375"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 2375,
    protocol: "http",
  });
  assertThrows(
    () => parseDockerHost("npipe:////./pipe/docker"),
    DockerUnavailableError,
  );
});

Deno.test("translateEngineError() names the socket and the fix for each connection failure", () => {
  const host = "unix:///var/run/docker.sock";
  const cases: [string, RegExp][] = [
    ["ENOENT", /^Cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock: socket not found\. Start Docker/],
    [
      "ECONNREFUSED",
      /: connection refused\. Start Docker \(sudo systemctl start docker, or run dockerd\) or set DOCKER_HOST/,
    ],
    ["EACCES", /: permission denied\. Add your user to the docker group/],
  ];
  for (const [code, message] of cases) {
    const cause = Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });
    const err = translateEngineError(cause, "ping the engine", host);
    assert(err instanceof DockerUnavailableError, code);
    assertEquals([err.dockerHost, err.cause], [host, cause]);
    assertMatch(err.message, message);
  }
  const answered = translateEngineError(
    Object.assign(new Error("(HTTP code 409) conflict"), { statusCode: 409, json: { message: "name in use" } }),
    'create container "x"',
    host,
  );
  assert(answered instanceof DockerError);
  assertEquals([answered.message, answered.statusCode], ['Cannot create container "x": name in use', 409]);
});

Deno.test("Engine.ping() on a socket the permission set does not allow says how to allow it", async () => {
  const engine = createEngine({ dockerHost: "unix:///nonexistent/dspy-agent/docker.sock" });
  const err = await assertRejects(() => engine.ping(), DockerUnavailableError);
  assertEquals(err.dockerHost, "unix:///nonexistent/dspy-agent/docker.sock");
  assertMatch(err.message, /^Cannot reach the Docker engine at unix:\/\/\/nonexistent\/dspy-agent\/docker\.sock: /);
  assertMatch(err.message, /Deno permission set.*unix:/);
});

Deno.test("Engine.ping() on a closed tcp port reports connection refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const engine = createEngine({ dockerHost: `tcp://127.0.0.1:${port}` });
  const err = await assertRejects(() => engine.ping(), DockerUnavailableError);
  assertEquals(err.reason, "connection refused");
});

Deno.test("Engine runs, execs into, reads logs of and removes a labelled container", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("engine");
  const image = await buildBusyboxImage(engine);
  const events: EngineEvent[] = [];
  const watching = new AbortController();
  const watcher = (async () => {
    for await (
      const event of engine.events({
        selector: labels,
        types: ["container"],
        signal: watching.signal,
      })
    ) {
      events.push(event);
    }
  })();
  try {
    const id = await engine.createContainer({
      Image: image,
      Cmd: ["sh", "-c", "echo one; echo two >&2; echo three; exec sleep 60"],
      HostConfig: { NetworkMode: "none" },
      Labels: ownedLabels({
        project: "dspy-agent-test",
        kind: "service",
        service: "probe",
        extra: labels,
      }),
    });
    await engine.startContainer(id);
    await engine.startContainer(id); // already running: fine
    const result = await engine.exec(id, [
      "sh",
      "-c",
      'echo "$GREETING"; echo oops >&2; exit 3',
    ], {
      env: { GREETING: "hello" },
    });
    assertEquals(result, { exitCode: 3, stdout: "hello\n", stderr: "oops\n" });

    const lines = [];
    for await (
      const line of frameLines(engine.logs(id, { timestamps: false }))
    ) lines.push(line);
    assertEquals(
      lines.filter((l) => l.stream === "stdout").map((l) => l.line),
      ["one", "three"],
    );
    assertEquals(
      lines.filter((l) => l.stream === "stderr").map((l) => l.line),
      ["two"],
    );

    const details = await engine.inspectContainer(id);
    assertEquals(details.Config.Labels[LABEL_PROJECT], "dspy-agent-test");
    const listed = await engine.listContainers({ selector: labels });
    assertEquals(listed.map((c) => c.Id), [id]);

    await engine.killContainer(id);
    assertEquals(await engine.waitContainer(id), 137);
    await engine.removeContainer(id);
    await engine.removeContainer(id); // already gone: fine
    const missing = await assertRejects(
      () => engine.inspectContainer(id),
      DockerError,
    );
    assert(missing.notFound);
    assertMatch(
      missing.message,
      /^Cannot inspect container "[0-9a-f]{12}": No such container/,
    );

    await waitFor(() => events.some((e) => e.Action === "destroy"));
    const actions = events.map((e) => e.Action);
    for (const action of ["create", "start", "die", "destroy"]) {
      assert(actions.includes(action), action);
    }
  } finally {
    watching.abort();
    await watcher;
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Engine creates and removes labelled networks and volumes", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("engine-net");
  try {
    const name = `dspy-agent-test-${labels["dspy-agent.test"]}`;
    const networkId = await engine.createNetwork({
      Name: name,
      Labels: labels,
    });
    assertEquals((await engine.inspectNetwork(networkId)).Name, name);
    assertEquals(
      await engine.createVolume({ Name: name, Labels: labels }),
      name,
    );
    assertEquals(
      (await engine.listVolumes({ selector: labels })).map((v) => v.Name),
      [name],
    );
    await assertRejects(
      () => assertNothingLeft(engine, labels),
      Error,
      "left behind",
    );
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});

Deno.test("Engine.findImage() answers undefined for an absent image", async () => {
  const engine = await ensureDockerEngine();
  assertEquals(await engine.findImage("dspy-agent-test/absent:0"), undefined);
  assert(await engine.findImage(await buildBusyboxImage(engine)));
});

async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
