/**
 * What a start reports when things go wrong, on the real engine: a health failure
 * with the container's last log lines, skipped dependents, an optional failure, an absent image, and a busy
 * host port moved to the next free one and kept there.
 */
import { Registry } from "prom-client";
import { createEnvManager } from "../src/env/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";
import { drainStart, eventRecorder, httpService, testStackConfig } from "./support/env_stack.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };
const stopAll = { names: [], remove: true, removeVolumes: true, timeoutSeconds: 1 };

Deno.test({
  name: "a required service that never becomes healthy fails with its log tail and its dependents are skipped",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-fail");
    const config = await testStackConfig("fail", {
      broken: {
        image: busybox,
        command: ["sh", "-c", "echo booting; echo 'fatal: no config file' >&2; exec sleep 3600"],
        health: { kind: "http", port: 8080, path: "/health", timeoutSeconds: 2 },
      },
      dependent: httpService(busybox, 0, { dependsOn: ["broken"] }),
      crashing: {
        image: busybox,
        command: ["sh", "-c", "echo bye; exit 4"],
        required: false,
        health: { kind: "tcp", port: 1 },
      },
      fine: httpService(busybox, 0),
    });
    await using manager = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
    try {
      const updates = await drainStart(manager);
      const broken = updates.find((u) => u.service === "broken" && u.phase === "failed");
      assert(broken, JSON.stringify(updates));
      assertStringIncludes(broken.message, 'Cannot start service "broken": not healthy after 2s');
      assert(broken.logTail.some((line) => line.includes("fatal: no config file")), broken.logTail.join("\n"));
      const dependent = updates.findLast((u) => u.service === "dependent");
      assertEquals([dependent?.phase, dependent?.status], ["skipped", "failed"]);
      assertStringIncludes(dependent!.message, 'dependency "broken" failed');
      // The dependent's container was never started.
      assertEquals(updates.some((u) => u.service === "dependent" && u.phase === "starting"), false);
      const crashing = updates.find((u) => u.service === "crashing" && u.phase === "failed");
      assertStringIncludes(crashing!.message, "stopped before it became healthy (exit code 4)");
      assertEquals(crashing!.logTail, ["bye"]);
      assert(updates.some((u) => u.service === "fine" && u.phase === "healthy"));
      const done = updates.at(-1)!;
      assertEquals([done.phase, done.status], ["done", "failed"]);
      assertStringIncludes(done.message, "broken");
      assertEquals(done.message.includes("crashing"), false, "an optional failure does not fail the stack");

      const status = new Map((await manager.status({ names: [], signal: AbortSignal.timeout(20_000) })).map((s) => [
        s.name,
        s,
      ]));
      assertEquals(status.get("broken")?.status, "failed");
      assertEquals(status.get("dependent")?.status, "failed");
      assertEquals(status.get("fine")?.status, "running");
      await manager.stop({ ...stopAll, signal: AbortSignal.timeout(60_000) });
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});

Deno.test({
  name: "an optional failure leaves the stack running; an absent image names itself and how to provide it",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-optional");
    const config = await testStackConfig("optional", {
      fine: httpService(busybox, 0),
      missing: { image: "dspy-agent-test/absent:never", required: false, health: { kind: "none" } },
      reddb: { enabled: true, required: false }, // built in, user-built image: absent here
    });
    await using manager = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
    try {
      const updates = await drainStart(manager);
      const done = updates.at(-1)!;
      assertEquals([done.phase, done.status], ["done", "running"], JSON.stringify(updates));
      const missing = updates.find((u) => u.service === "missing" && u.phase === "failed")!;
      assert(updates.some((u) => u.service === "missing" && u.phase === "pulling"));
      assertMatch(missing.message, /image "dspy-agent-test\/absent:never" is not present and cannot be pulled/);
      assertStringIncludes(missing.message, "docker load");
      assertStringIncludes(missing.message, "services.missing.image");
      const reddb = updates.find((u) => u.service === "reddb" && u.phase === "failed")!;
      assertStringIncludes(reddb.message, "docker build -t dspy-agent/reddb:latest .");
      await manager.stop({ ...stopAll, signal: AbortSignal.timeout(60_000) });
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});

Deno.test({
  name: "a busy host port moves to the next free one, is reported, and stays the same on the next start",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-ports");
    const squatter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (squatter.addr as Deno.NetAddr).port;
    const config = await testStackConfig("ports", { web: httpService(busybox, 0, { ports: [`${busy}:8080`] }) });
    const recorder = eventRecorder();
    try {
      await using manager = createEnvManager({
        config,
        engine,
        registry: new Registry(),
        extraLabels: labels,
        onEvent: recorder.onEvent,
      });
      const updates = await drainStart(manager);
      const healthy = updates.find((u) => u.service === "web" && u.phase === "healthy")!;
      const [mapping] = healthy.portMappings;
      const chosen = Number(mapping.split("->")[0]);
      assert(chosen > busy && chosen <= busy + 100, `remapped ${mapping}`);
      assertEquals(mapping, `${chosen}->8080/tcp`);
      const remapped = recorder.events.find((e) => e.type === "service_port_remapped")!;
      assertEquals([remapped.data.wanted, remapped.data.host_port], [String(busy), String(chosen)]);
      assert(updates.some((u) => u.service === "web" && u.message.includes(`${busy} busy, using ${chosen}`)));
      const response = await fetch(`http://127.0.0.1:${chosen}/health`);
      assertEquals((await response.text()).trim(), "ok");
      const [status] = await manager.status({ names: ["web"], signal: AbortSignal.timeout(20_000) });
      assertEquals([status.ports, status.portMappings], [[chosen], [mapping]]);
      const saved = JSON.parse(await Deno.readTextFile(`${config.home}/ports.json`));
      assertEquals(saved[config.project].web["127.0.0.1:8080/tcp"], { wanted: busy, host: chosen });

      // The wanted port is free again, but the stack keeps the port it was given.
      await manager.stop({ ...stopAll, signal: AbortSignal.timeout(60_000) });
      squatter.close();
      await using again = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
      const second = await drainStart(again);
      const healthyAgain = second.find((u) => u.service === "web" && u.phase === "healthy")!;
      assertEquals(healthyAgain.portMappings, [mapping]);
      await again.stop({ ...stopAll, signal: AbortSignal.timeout(60_000) });
      await assertNothingLeft(engine, labels);
    } finally {
      try {
        squatter.close();
      } catch { /* already closed */ }
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});

Deno.test({
  name: "a start cleans up duplicate stack networks that an earlier race left, and concurrent starts both succeed",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-dup-network");
    const config = await testStackConfig("dupnet", { web: httpService(busybox, 0) });
    const networkLabels = {
      ...labels,
      "dev.dspy-agent.project": config.project,
      "dev.dspy-agent.kind": "network",
    };
    // The engine accepts two networks of one name; attaching a container to either then fails as ambiguous.
    for (let i = 0; i < 2; i++) {
      await engine.createNetwork({ Name: `${config.project}_default`, Driver: "bridge", Labels: networkLabels });
    }
    await using manager = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
    try {
      const [first, second] = await Promise.all([drainStart(manager), drainStart(manager)]);
      assertEquals([first.at(-1)?.status, second.at(-1)?.status], ["running", "running"], JSON.stringify(second));
      const networks = (await engine.listNetworks({ selector: { "dev.dspy-agent.project": config.project } }))
        .filter((n) => n.Name === `${config.project}_default`);
      assertEquals(networks.length, 1);
      await manager.stop({ ...stopAll, signal: AbortSignal.timeout(60_000) });
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});
