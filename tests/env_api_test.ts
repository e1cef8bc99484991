/**
 * The stack's EnvManagerService handlers through a Connect router (in memory) on the real engine: StartServices
 * streams phases, GetServicesStatus, StreamHealth, RestartService, StopServices, and the error codes.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { envManagerHandlers } from "../src/api/env_manager_service.ts";
import { errorInterceptor } from "../src/api/mod.ts";
import { createEnvManager } from "../src/env/mod.ts";
import { EnvManagerService, StartServicesRequestSchema } from "../src/gen/env_manager/v1/env_manager_pb.ts";
import { silentLogger } from "../src/log/mod.ts";
import { assert, assertEquals, assertRejects } from "./support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "./support/docker.ts";
import { httpService, testStackConfig } from "./support/env_stack.ts";

Deno.test({
  name: "EnvManagerService start, status, health, restart and stop work over a Connect router",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const engine = await ensureDockerEngine();
    const busybox = await buildBusyboxImage(engine);
    const labels = testLabels("env-api");
    const config = await testStackConfig("api", {
      base: httpService(busybox, 0, { ports: ["18080:8080"] }),
      app: httpService(busybox, 0.2, { dependsOn: ["base"] }),
    });
    await using env = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
    const transport = createRouterTransport(
      (router) => router.service(EnvManagerService, envManagerHandlers(env)),
      { router: { interceptors: [errorInterceptor(silentLogger)] } },
    );
    const client = createClient(EnvManagerService, transport);
    try {
      const updates = [];
      for await (const u of client.startServices(create(StartServicesRequestSchema, { serviceNames: ["app"] }))) {
        updates.push(u);
      }
      const phases = updates.filter((u) => u.serviceName === "app").map((u) => u.phase);
      assertEquals(phases, ["creating", "starting", "probing", "healthy"]);
      const base = updates.find((u) => u.serviceName === "base" && u.phase === "healthy")!;
      assertEquals([base.status, base.progress, base.required], ["running", 100, true]);
      assert(base.portMappings[0].endsWith("->8080/tcp"));
      assertEquals([updates.at(-1)!.phase, updates.at(-1)!.status], ["done", "running"]);

      const status = await client.getServicesStatus({ serviceNames: ["base", "app"] });
      assertEquals(status.services.base.status, "running");
      assertEquals(status.services.app.healthChecks.kind, "http");
      assert(status.services.base.ports.length === 1 && status.services.base.startedAt > 0n);
      assert(status.services.app.resourceUsage !== undefined);

      const health = client.streamHealth({ serviceNames: ["app"], intervalSeconds: 1 });
      for await (const h of health) {
        assertEquals([h.serviceName, h.healthy], ["app", true]);
        break;
      }

      const restarted = await client.restartService({ serviceName: "app", timeoutSeconds: 1 });
      assertEquals(restarted.success, true, restarted.message);
      const unknown = await assertRejects(() => client.restartService({ serviceName: "ghost" }), ConnectError);
      assertEquals(unknown.code, Code.NotFound);
      const badStart = await assertRejects(async () => {
        for await (const _ of client.startServices({ serviceNames: ["ghost"] })) { /* never */ }
      }, ConnectError);
      assertEquals(badStart.code, Code.NotFound);

      const stopped = await client.stopServices({ timeoutSeconds: 1, remove: true, removeVolumes: true });
      assertEquals(stopped.success, true);
      assertEquals(stopped.serviceResults, { app: "removed", base: "removed" });
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels);
      await Deno.remove(config.home, { recursive: true });
    }
  },
});
