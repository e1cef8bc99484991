/**
 * The service stack on the real Docker engine: a five-service stack of dependency
 * depth three with a real Redis, started, adopted, inspected and stopped.
 */
import { Registry } from "prom-client";
import { createEnvManager, LABEL_PROJECT, LABEL_SERVICE, LABEL_TEST, type StartUpdate } from "../src/env/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  buildRedisImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";
import { drainStart, eventRecorder, httpService, testStackConfig } from "./support/env_stack.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

function at(updates: StartUpdate[], service: string, phase: string): StartUpdate {
  const found = updates.find((u) => u.service === service && u.phase === phase);
  assert(
    found,
    `no "${phase}" update for ${service}: ${JSON.stringify(updates.map((u) => [u.service, u.phase, u.message]))}`,
  );
  return found;
}

Deno.test({
  name: "EnvManager starts a five-service stack of depth three as dependencies become healthy, adopts it, stops it",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const redisImage = await buildRedisImage(engine);
    const labels = testLabels("env-stack");
    const config = await testStackConfig("stack", {
      redis: {
        image: redisImage,
        command: ["/usr/bin/redis-server", "--protected-mode", "no", "--save", "", "--port", "6379"],
        ports: ["6379"],
        enabled: true,
        health: { kind: "redis", port: 6379 },
      },
      // Level 0, slow: a level-by-level start would hold "api" until this is healthy.
      cache: {
        image: busybox,
        command: ["sh", "-c", "sleep 1.5; touch /tmp/ready; exec sleep 3600"],
        volumes: ["cache_data:/data"],
        health: { kind: "exec", command: ["cat", "/tmp/ready"] },
      },
      api: httpService(busybox, 0.5, { dependsOn: ["redis"], ports: ["8080"] }),
      worker: {
        image: busybox,
        command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 7000 -h /www"],
        dependsOn: ["cache"],
        health: { kind: "tcp", port: 7000 },
      },
      // Level 2: reaches "api" by its service name before it serves.
      router: {
        ...httpService(busybox, 0),
        command: [
          "sh",
          "-c",
          "wget -q -O /dev/null http://api:8080/health || exit 3; mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www",
        ],
        dependsOn: ["api", "worker"],
        ports: ["8080"],
      },
    });
    const recorder = eventRecorder();
    const metrics = new Registry();
    await using manager = createEnvManager({
      config,
      engine,
      registry: metrics,
      extraLabels: labels,
      onEvent: recorder.onEvent,
    });
    try {
      const updates = await drainStart(manager);
      const done = updates.at(-1)!;
      assertEquals([done.phase, done.status], ["done", "running"], JSON.stringify(updates, null, 1));
      for (const name of ["redis", "cache", "api", "worker", "router"]) at(updates, name, "healthy");
      // Not level by level: "api" started before "cache" (same level) was healthy.
      assert(at(updates, "api", "starting").elapsedMs < at(updates, "cache", "healthy").elapsedMs);
      // Each service starts only after its own dependencies are healthy.
      assert(at(updates, "router", "starting").elapsedMs >= at(updates, "api", "healthy").elapsedMs);
      assert(at(updates, "router", "starting").elapsedMs >= at(updates, "worker", "healthy").elapsedMs);
      assert(at(updates, "worker", "starting").elapsedMs >= at(updates, "cache", "healthy").elapsedMs);

      const scrape = await metrics.metrics();
      assertStringIncludes(scrape, 'env_manager_service_start_total{service_name="redis",status="healthy"} 1');
      assertStringIncludes(scrape, "env_manager_active_services 5");
      assertStringIncludes(
        scrape,
        'env_manager_service_health_check_duration_seconds_count{service_name="router",status="healthy"} 1',
      );
      const status = await manager.status({ names: [], signal: AbortSignal.timeout(20_000) });
      const byName = new Map(status.map((s) => [s.name, s]));
      for (const name of ["redis", "cache", "api", "worker", "router"]) {
        assertEquals(byName.get(name)?.status, "running", name);
        assert(byName.get(name)!.containerId.length > 0);
      }
      assertEquals(byName.get("reddb")?.status, "stopped");
      assert(byName.get("redis")!.usage !== undefined, "stats of a running container");
      const containers = await engine.listContainers({ selector: { [LABEL_PROJECT]: config.project } });
      assertEquals(containers.length, 5);
      assert(containers.every((c) => c.Labels[LABEL_TEST] === labels[LABEL_TEST]), "test label on every container");

      // A second start adopts every running container and creates nothing.
      const again = await drainStart(manager);
      for (const name of ["redis", "cache", "api", "worker", "router"]) at(again, name, "adopted");
      const after = await engine.listContainers({ selector: { [LABEL_PROJECT]: config.project } });
      assertEquals(after.map((c) => c.Id).sort(), containers.map((c) => c.Id).sort());

      // A changed definition is recreated; the rest of the stack is adopted. A new manager is a restarted daemon, so
      // the first one is gone first (one daemon per state folder: two would each heal what the other removes).
      await manager[Symbol.asyncDispose]();
      const changed = {
        ...config,
        services: { ...config.services, worker: { ...config.services.worker, env: { MODE: "changed" } } },
      };
      await using successor = createEnvManager({
        config: changed,
        engine,
        registry: new Registry(),
        extraLabels: labels,
      });
      const third = await drainStart(successor);
      at(third, "worker", "healthy");
      for (const name of ["redis", "cache", "api", "router"]) at(third, name, "adopted");
      const oldWorker = containers.find((c) => c.Labels[LABEL_SERVICE] === "worker")!.Id;
      const now = await engine.listContainers({ selector: { [LABEL_PROJECT]: config.project } });
      assertEquals(now.length, 5);
      assertEquals(now.some((c) => c.Id === oldWorker), false, "the old worker container was replaced");

      // Removing containers keeps volumes unless asked.
      const stopped = await successor.stop({
        names: [],
        remove: true,
        timeoutSeconds: 1,
        signal: AbortSignal.timeout(60_000),
      });
      assertEquals(stopped.success, true, JSON.stringify(stopped));
      assertEquals(Object.keys(stopped.results).sort(), ["api", "cache", "redis", "router", "worker"]);
      assert(Object.values(stopped.results).every((r) => r === "removed"));
      const volumes = await engine.listVolumes({ selector: { [LABEL_PROJECT]: config.project } });
      assertEquals(volumes.map((v) => v.Name), [`${config.project}_cache_data`]);
      await successor.stop({ names: [], remove: true, removeVolumes: true, signal: AbortSignal.timeout(60_000) });
      assert(recorder.events.some((e) => e.type === "service_healthy" && e.resourceId === "router"));
      assertStringIncludes(recorder.events.map((e) => e.type).join(","), "service_healthy");
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});
