/**
 * Supervision on the real engine: a container killed from outside is restarted with
 * an event, shows in status within a second, RestartService works, and a manager that starts later takes over
 * a running stack.
 */
import { Registry } from "prom-client";
import { createEnvManager } from "../src/env/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";
import { drainStart, eventRecorder, httpService, testStackConfig } from "./support/env_stack.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "a service container killed from outside is restarted by the supervisor and reported within a second",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-supervise");
    const config = await testStackConfig("supervise", {
      web: httpService(busybox, 0, { restart: "on-failure" }),
      once: httpService(busybox, 0, { restart: "no" }),
    });
    const recorder = eventRecorder();
    await using manager = createEnvManager({
      config,
      engine,
      registry: new Registry(),
      extraLabels: labels,
      onEvent: recorder.onEvent,
    });
    try {
      const updates = await drainStart(manager);
      assertEquals(updates.at(-1)!.status, "running", JSON.stringify(updates));
      const [before] = await manager.status({ names: ["web"], signal: AbortSignal.timeout(10_000) });

      await engine.killContainer(before.containerId);
      const killedAt = performance.now();
      // Status shows the change within a second.
      let down = before;
      while (down.status === "running" && performance.now() - killedAt < 1_000) {
        [down] = await manager.status({ names: ["web"], usage: false, signal: AbortSignal.timeout(10_000) });
      }
      assert(down.status !== "running", `status a second after the kill: ${down.status}`);
      const event = await recorder.waitFor((e) => e.type === "service_unhealthy" && e.resourceId === "web", 1_000);
      assertEquals(event.data.reason, "container exited with code 137");

      const restarted = await recorder.waitFor((e) => e.type === "service_restarted" && e.resourceId === "web", 20_000);
      assertEquals(restarted.data.reason, "container exited with code 137");
      const [after] = await manager.status({ names: ["web"], signal: AbortSignal.timeout(10_000) });
      assertEquals([after.status, after.restartCount, after.containerId], ["running", 1, before.containerId]);

      // restart = "no": the supervisor reports the failure and leaves it down.
      const [once] = await manager.status({ names: ["once"], signal: AbortSignal.timeout(10_000) });
      await engine.killContainer(once.containerId);
      await recorder.waitFor((e) => e.type === "service_failed" && e.resourceId === "once", 5_000);
      const [onceAfter] = await manager.status({ names: ["once"], signal: AbortSignal.timeout(10_000) });
      assertEquals(onceAfter.status, "failed");

      // RestartService brings it back.
      const result = await manager.restart("once", { timeoutSeconds: 1, signal: AbortSignal.timeout(30_000) });
      assertEquals(result.success, true, result.message);
      const [onceBack] = await manager.status({ names: ["once"], signal: AbortSignal.timeout(10_000) });
      assertEquals(onceBack.status, "running");

      // A manager created later (a restarted daemon) takes the running stack under supervision.
      await manager[Symbol.asyncDispose]();
      const later = eventRecorder();
      await using successor = createEnvManager({
        config,
        engine,
        registry: new Registry(),
        extraLabels: labels,
        onEvent: later.onEvent,
      });
      const deadline = Date.now() + 10_000;
      while (!successor.supervising && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [adopted] = await successor.status({ names: ["web"], signal: AbortSignal.timeout(10_000) });
      assertEquals(adopted.status, "running");
      await engine.killContainer(adopted.containerId);
      await later.waitFor((e) => e.type === "service_restarted" && e.resourceId === "web", 20_000);

      const stopped = await successor.stop({
        names: [],
        remove: true,
        removeVolumes: true,
        timeoutSeconds: 1,
        signal: AbortSignal.timeout(60_000),
      });
      assertEquals(stopped.success, true);
      // Our own stop is not mistaken for a crash.
      await new Promise((r) => setTimeout(r, 500));
      assertEquals(later.events.filter((e) => e.type === "service_restarted").length, 1);
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a service container removed from outside (docker rm -f) is created again; status never says failed and healthy",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-recreate");
    const config = await testStackConfig("recreate", { web: httpService(busybox, 0, { restart: "on-failure" }) });
    const recorder = eventRecorder();
    await using manager = createEnvManager({
      config,
      engine,
      registry: new Registry(),
      extraLabels: labels,
      onEvent: recorder.onEvent,
    });
    try {
      const updates = await drainStart(manager);
      assertEquals(updates.at(-1)!.status, "running", JSON.stringify(updates));
      const [before] = await manager.status({ names: ["web"], signal: AbortSignal.timeout(10_000) });
      await engine.removeContainer(before.containerId, { force: true });
      // While it is down, status and health agree.
      const deadline = Date.now() + 30_000;
      let now = before;
      const seen = new Set<string>();
      while (Date.now() < deadline) {
        [now] = await manager.status({ names: ["web"], usage: false, signal: AbortSignal.timeout(10_000) });
        seen.add(now.status);
        if (now.status !== "running") {
          assert(now.healthChecks.healthy !== "true", `status ${now.status} with healthy=true`);
        }
        if (now.status === "running" && now.containerId !== before.containerId) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(now.status, "running", `status went through ${[...seen].join(", ")}`);
      assert(now.containerId !== before.containerId, "the removed container was not replaced");
      const restarted = await recorder.waitFor((e) => e.type === "service_restarted" && e.resourceId === "web", 5_000);
      assert(String(restarted.data.reason).includes("created again"), String(restarted.data.reason));
    } finally {
      await manager.stop({
        names: [],
        remove: true,
        removeVolumes: true,
        timeoutSeconds: 1,
        signal: AbortSignal.timeout(60_000),
      });
      await removeByLabel(engine, labels);
      await buildBusyboxImage(engine); // the other tests use it
    }
    await assertNothingLeft(engine, labels);
  },
});

Deno.test({
  name: "a service killed by the kernel for memory (OOM) is restarted, and so is one whose image was deleted",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-oom");
    // `tail -n 1` keeps its last line in memory, and /dev/zero is one endless line: the main process outgrows 32 MiB.
    const hog = {
      ...httpService(busybox, 0, { restart: "on-failure", memoryMb: 32 }),
      command: [
        "sh",
        "-c",
        "mkdir -p /www && echo ok > /www/health && httpd -p 8080 -h /www && " +
        "while [ ! -f /tmp/go ]; do sleep 0.1; done; exec tail -n 1 /dev/zero",
      ],
    };
    const config = await testStackConfig("oom", { hog });
    const recorder = eventRecorder();
    await using manager = createEnvManager({
      config,
      engine,
      registry: new Registry(),
      extraLabels: labels,
      onEvent: recorder.onEvent,
    });
    try {
      const updates = await drainStart(manager);
      assertEquals(updates.at(-1)!.status, "running", JSON.stringify(updates));
      const [before] = await manager.status({ names: ["hog"], signal: AbortSignal.timeout(10_000) });
      // The image goes away under the running container (docker rmi -f): a restart must not need it.
      await new Deno.Command("docker", { args: ["rmi", "-f", busybox], stdout: "null", stderr: "null" }).output();
      await new Deno.Command("docker", { args: ["exec", before.containerId, "touch", "/tmp/go"] }).output();
      const restarted = await recorder.waitFor((e) => e.type === "service_restarted" && e.resourceId === "hog", 30_000);
      assertEquals(restarted.data.reason, "container exited with code 137");
      const details = await engine.inspectContainer(before.containerId);
      assertEquals(details.HostConfig?.Memory, 32 * 1024 * 1024);
      const [after] = await manager.status({ names: ["hog"], signal: AbortSignal.timeout(10_000) });
      assertEquals([after.status, after.restartCount], ["running", 1]);
    } finally {
      await manager.stop({
        names: [],
        remove: true,
        removeVolumes: true,
        timeoutSeconds: 1,
        signal: AbortSignal.timeout(60_000),
      });
      await removeByLabel(engine, labels);
      await buildBusyboxImage(engine); // the other tests use it
    }
    await assertNothingLeft(engine, labels);
  },
});
