import { Registry } from "prom-client";
import { type Config, ConfigErrors, defaultConfig } from "../../config/mod.ts";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertStringIncludes,
  assertThrows,
} from "../../../tests/support/assert.ts";
import { createEngine } from "../engine/engine.ts";
import { definitionHash, resolveRegistry } from "./registry.ts";
import { createEnvManager } from "../stack/stack.ts";
import { UnknownServiceError } from "../stack/stack_errors.ts";

function config(services: Config["services"], extra: Partial<Config> = {}): Config {
  return { ...defaultConfig({ home: "/nonexistent-home" }), services, ...extra };
}

Deno.test("resolveRegistry() defines every docs/compatibility.md §6 service with only redis enabled by default", () => {
  const registry = resolveRegistry(config({}));
  assertEquals([...registry.services.keys()].sort(), [
    "infermesh-node-a",
    "infermesh-node-b",
    "infermesh-router",
    "kafka",
    "ollama",
    "prometheus",
    "reddb",
    "redis",
    "zookeeper",
  ]);
  assertEquals(registry.select([]).map((d) => d.name), ["redis"]);
  const redis = registry.get("redis");
  assertEquals(redis.ports, [{ hostIp: "127.0.0.1", hostPort: 6379, containerPort: 6379, protocol: "tcp" }]);
  assertEquals(redis.health.kind, "redis");
  // The router brings its nodes, and they bring redis, dependencies first.
  assertEquals(registry.select(["infermesh-router"]).map((d) => d.name), [
    "redis",
    "infermesh-node-a",
    "infermesh-node-b",
    "infermesh-router",
  ]);
});

Deno.test("resolveRegistry() merges a [services.NAME] table over the built-in and defines new services", () => {
  const registry = resolveRegistry(config({
    redis: { ports: ["0.0.0.0:16379:6379"], env: { A: "1" } },
    router: {
      image: "example/router:1",
      command: ["serve", "--port", "9000"],
      ports: ["19001:9000"],
      volumes: ["router_cache:/cache", "/abs/path:/data:ro"],
      dependsOn: ["redis"],
      restart: "always",
      health: { kind: "http", port: 9000, path: "/health", timeoutSeconds: 5 },
    },
  }, { ports: { redis: 16380 } }));
  const redis = registry.get("redis");
  assertEquals(redis.image, "redis:7-alpine");
  assertEquals(redis.ports[0], { hostIp: "0.0.0.0", hostPort: 16380, containerPort: 6379, protocol: "tcp" });
  const router = registry.get("router");
  assertEquals(router.enabled, true);
  assertEquals(router.volumes, [
    { kind: "volume", source: "router_cache", target: "/cache", readOnly: false },
    { kind: "bind", source: "/abs/path", target: "/data", readOnly: true },
  ]);
  assertEquals(router.health, { kind: "http", port: 9000, path: "/health", command: undefined, timeoutSeconds: 5 });
  assertEquals(registry.select([]).map((d) => d.name), ["redis", "router"]);
});

Deno.test("resolveRegistry() reports a cycle by naming it, a missing dependency, an unknown service and a duplicate port", () => {
  const errors = assertThrows(
    () =>
      resolveRegistry(config({
        a: { image: "x", dependsOn: ["b"] },
        b: { image: "x", dependsOn: ["c"] },
        c: { image: "x", dependsOn: ["a"] },
      })),
    ConfigErrors,
  );
  assertStringIncludes(errors.message, "dependency cycle: a -> b -> c -> a");
  const missing = assertThrows(
    () => resolveRegistry(config({ a: { image: "x", dependsOn: ["ghost"] } })),
    ConfigErrors,
  );
  assertStringIncludes(missing.message, 'service "a" depends on "ghost", which is not defined');
  const unknown = assertThrows(() => resolveRegistry(config({ mystery: { ports: ["1:1"] } })), ConfigErrors);
  assertStringIncludes(unknown.message, 'unknown service "mystery"');
  const unknownPort = assertThrows(() => resolveRegistry(config({}, { ports: { nope: 1 } })), ConfigErrors);
  assertStringIncludes(unknownPort.message, 'key "ports.nope"');
  const duplicate = assertThrows(
    () => resolveRegistry(config({ a: { image: "x", ports: ["7000:80"] }, b: { image: "y", ports: ["7000:81"] } })),
    ConfigErrors,
  );
  assertStringIncludes(duplicate.message, 'host port 7000/tcp is used by both "a" and "b"');
  assertThrows(() => resolveRegistry(config({})).select(["nope"]), UnknownServiceError, 'Unknown service "nope"');
});

Deno.test("createEnvManager() rejects a bad config before it touches the engine", async () => {
  // An engine that cannot be reached: any Docker call would fail with DockerUnavailableError instead.
  const engine = createEngine({ dockerHost: "unix:///nonexistent/docker.sock" });
  const error = assertThrows(
    () =>
      createEnvManager({
        config: config({ a: { image: "x", dependsOn: ["a"] } }),
        engine,
        registry: new Registry(),
        supervise: false,
      }),
    ConfigErrors,
  );
  assertStringIncludes(error.message, "dependency cycle: a -> a");
  await using manager = createEnvManager({ config: config({}), engine, registry: new Registry(), supervise: false });
  assertThrows(() => manager.start({ names: ["ghost"], signal: AbortSignal.timeout(1000) }), UnknownServiceError);
});

Deno.test("definitionHash() changes with what shapes the container and only then", () => {
  const registry = resolveRegistry(config({}));
  const redis = registry.get("redis");
  assertEquals(definitionHash(redis), definitionHash({ ...redis }));
  assertNotEquals(definitionHash(redis), definitionHash({ ...redis, env: { A: "1" } }));
  assertEquals(definitionHash(redis), definitionHash({ ...redis, required: false }));
  assert(/^[0-9a-f]{16}$/.test(definitionHash(redis)));
});

Deno.test("select() leaves services that need a GPU out unless the start asks for GPUs or names them", () => {
  const registry = resolveRegistry(config({ trainer: { image: "x", gpu: true }, cpu: { image: "y" } }));
  assertEquals(registry.select([]).map((d) => d.name), ["cpu", "redis"]);
  assertEquals(registry.select([], { gpu: true }).map((d) => d.name), ["cpu", "redis", "trainer"]);
  assertEquals(registry.select(["trainer"]).map((d) => d.name), ["trainer"]);
});
