/**
 * An engine restart. Slow (two engine starts, ~20 s), so it has its own file.
 *
 * The test runs a private dockerd on tcp://127.0.0.1 with its own data root, so it can stop and restart the
 * engine without disturbing anything else on the machine, and so DOCKER_HOST=tcp:// is exercised too.
 */
import { Registry } from "prom-client";
import { createEngine, createEnvManager, DockerUnavailableError, type Engine } from "../src/env/mod.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./support/assert.ts";
import { assertNothingLeft, buildBusyboxImage, removeByLabel, testLabels } from "./support/docker.ts";
import { drainStart, eventRecorder, httpService, testStackConfig } from "./support/env_stack.ts";

const ROOT = "/tmp/dspy-agent-test-dockerd";

/**
 * The private engine's own bridge. Not `--bridge=none`: a dockerd started that way deletes any
 * `docker0` link at start-up, which belongs to the machine's real engine and breaks its containers.
 */
const BRIDGE = "dspytest0";
const BRIDGE_CIDR = "10.213.77.1/24";

async function ip(...args: string[]): Promise<void> {
  await new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).output();
}

/** A dockerd of our own: its own bridge, no iptables, shut down within a second. */
async function startPrivateDockerd(port: number): Promise<{ pid: number; stop(): Promise<void> }> {
  await Deno.mkdir(ROOT, { recursive: true });
  await ip("link", "add", "name", BRIDGE, "type", "bridge");
  await ip("addr", "add", BRIDGE_CIDR, "dev", BRIDGE);
  await ip("link", "set", BRIDGE, "up");
  const child = new Deno.Command("dockerd", {
    args: [
      `-H=tcp://127.0.0.1:${port}`,
      `--data-root=${ROOT}/data`,
      `--exec-root=${ROOT}/exec`,
      `--pidfile=${ROOT}/dockerd.pid`,
      `--bridge=${BRIDGE}`,
      "--iptables=false",
      "--ip-masq=false",
      "--shutdown-timeout=1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/** Removes the private engine's bridge. */
async function removePrivateBridge(): Promise<void> {
  await ip("link", "del", BRIDGE);
}

async function waitForEngine(engine: Engine, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await engine.ping({ signal: AbortSignal.timeout(1000) });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "after an engine restart the manager reports it unreachable, then reconnects and restarts the service",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const dockerHost = `tcp://127.0.0.1:${port}`;
    const hostBridgeBefore = await linkExists("docker0");
    let dockerd = await startPrivateDockerd(port);
    const engine = createEngine({ dockerHost });
    const labels = testLabels("env-engine-restart");
    let home: string | undefined;
    try {
      await waitForEngine(engine, 30_000);
      const busybox = await buildBusyboxImage(engine);
      const config = await testStackConfig("engine", { web: httpService(busybox, 0, { restart: "on-failure" }) }, {
        dockerHost,
      });
      home = config.home;
      const recorder = eventRecorder();
      await using manager = createEnvManager({
        config,
        engine,
        registry: new Registry(),
        extraLabels: labels,
        onEvent: recorder.onEvent,
      });
      const updates = await drainStart(manager);
      assertEquals(updates.at(-1)!.status, "running", JSON.stringify(updates));
      await waitUntil(() => manager.supervising, 10_000, "the supervisor to connect");

      await dockerd.stop();
      await waitUntil(() => !manager.supervising, 10_000, "the supervisor to notice the engine is gone");
      const error = await assertRejects(
        () => manager.status({ names: [], signal: AbortSignal.timeout(5_000) }),
        DockerUnavailableError,
      );
      assertStringIncludes(error.message, `Cannot reach the Docker engine at ${dockerHost}`);

      dockerd = await startPrivateDockerd(port);
      await waitForEngine(engine, 30_000);
      const restarted = await recorder.waitFor((e) => e.type === "service_restarted" && e.resourceId === "web", 30_000)
        .catch((error) => {
          throw new Error(`${error.message}; events: ${JSON.stringify(recorder.events)}`);
        });
      assertStringIncludes(restarted.data.reason, "container exited with code");
      assert(manager.supervising);
      const [web] = await manager.status({ names: ["web"], signal: AbortSignal.timeout(10_000) });
      assertEquals([web.status, web.restartCount], ["running", 1]);

      const stopped = await manager.stop({
        names: [],
        remove: true,
        removeVolumes: true,
        timeoutSeconds: 1,
        signal: AbortSignal.timeout(30_000),
      });
      assertEquals(stopped.success, true);
      await assertNothingLeft(engine, labels);
    } finally {
      await removeByLabel(engine, labels).catch(() => {});
      await dockerd.stop();
      await removePrivateBridge();
      if (home) await Deno.remove(home, { recursive: true });
    }
    // The machine's own engine keeps its default bridge.
    assertEquals(await linkExists("docker0"), hostBridgeBefore);
  },
});

async function linkExists(name: string): Promise<boolean> {
  const { code } = await new Deno.Command("ip", { args: ["link", "show", name], stdout: "null", stderr: "null" })
    .output();
  return code === 0;
}
