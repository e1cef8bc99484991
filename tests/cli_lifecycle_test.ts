/**
 * The CLI end to end against a real daemon and Docker engine: start, status,
 * logs, tasks and stop on a throwaway project, then the failure paths
 * . Containers are found and removed by the project label.
 */

import { LABEL_PROJECT } from "../src/env/mod.ts";
import type { Engine } from "../src/env/engine/engine.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { buildBusyboxImage, ensureDockerEngine } from "./support/docker.ts";
import { freePort } from "./support/daemon.ts";
import { type CliEnv, createCliEnv, projectToml, spawnCli, testProject, webService } from "./support/cli.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

async function containersOf(engine: Engine, project: string) {
  return await engine.listContainers({ selector: { [LABEL_PROJECT]: project } });
}

/** Stops the stack the way a person would; the harness then sweeps the project by label and asserts nothing is left. */
async function cleanup(cli: CliEnv): Promise<void> {
  await cli.run(["stop", "--remove", "--force", "--timeout", "5"]);
}

Deno.test({
  name: "start brings up the daemon and a service and returns; start again changes nothing; status, logs, stop",
  ...sanitize,
  async fn(t) {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    const port = await freePort();
    await using cli = await createCliEnv({ configToml: projectToml(project, webService("web", image, port)) });
    try {
      let pid = 0;
      await t.step("start exits 0 once the service is healthy, leaving it running", async () => {
        const r = await cli.run(["start"]);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assert(/✓ web\s+healthy/.test(r.stdout), r.stdout);
        assert(r.stdout.includes("Ready in"), r.stdout);
        pid = JSON.parse(await Deno.readTextFile(`${cli.home}/daemon.json`)).pid;
        assert(pid > 0);
        const body = await (await fetch(`http://127.0.0.1:${port}/health`)).text();
        assertEquals(body.trim(), "ok");
      });
      await t.step("start again reuses the daemon and the running service", async () => {
        const r = await cli.run(["start", "--json"]);
        assertEquals(r.code, 0, r.stderr);
        const result = JSON.parse(r.stdout);
        assertEquals(result.daemon.started, false);
        assertEquals(result.daemon.pid, pid);
        assertEquals(result.services.map((s: { name: string; ok: boolean }) => [s.name, s.ok]), [["web", true]]);
        assertEquals((await containersOf(engine, project)).length, 1);
      });
      await t.step("status shows the daemon and a table of services", async () => {
        const r = await cli.run(["status"]);
        assertEquals(r.code, 0, r.stderr);
        assert(r.stdout.includes(`pid ${pid}`), r.stdout);
        assert(/^web\s+running/m.test(r.stdout), r.stdout);
        assert(r.stdout.includes(`${port}`), r.stdout);
        const json = JSON.parse((await cli.run(["status", "--json"])).stdout);
        assertEquals(json.daemon.pid, pid);
        assertEquals(json.daemon.healthy, true);
        assertEquals(json.services.find((s: { name: string }) => s.name === "web").status, "running");
      });
      await t.step("logs prints the service's lines with its prefix, and the daemon's", async () => {
        const r = await cli.run(["logs", "web", "-n", "10"]);
        assertEquals(r.code, 0, r.stderr);
        assert(/^web \| hello from web$/m.test(r.stdout), r.stdout);
        const daemon = await cli.run(["logs", "daemon"]);
        assertEquals(daemon.code, 0);
        assert(daemon.stdout.includes("dspy-agent serve started"), daemon.stdout);
      });
      await t.step("logs -f follows until Ctrl-C, which ends it cleanly", async () => {
        const follow = spawnCli(["logs", "web", "-f"], cli.env);
        await follow.waitFor("hello from web");
        follow.kill("SIGINT");
        const r = await follow.result;
        assertEquals(r.code, 0, r.stderr);
        assert(!r.stderr.includes("Error"), r.stderr);
      });
      await t.step("tasks submit, get and list reach the orchestrator", async () => {
        const submit = await cli.run(["tasks", "submit", "--class", "cpu_short", "-p", "note=from-cli", "--json"]);
        assertEquals(submit.code, 0, submit.stderr);
        const { taskId } = JSON.parse(submit.stdout);
        assert(typeof taskId === "string" && taskId.length > 0);
        const get = await cli.run(["tasks", "get", taskId, "--json"]);
        assertEquals(get.code, 0, get.stderr);
        assertEquals(JSON.parse(get.stdout).id, taskId);
        const list = await cli.run(["tasks", "list", "--json"]);
        assert(JSON.parse(list.stdout).some((task: { id: string }) => task.id === taskId), list.stdout);
        const missing = await cli.run(["tasks", "get", "no-such-task"]);
        assertEquals(missing.code, 2, missing.stderr);
      });
      await t.step("stop stops the service and the daemon; a second stop is not an error", async () => {
        const r = await cli.run(["stop", "--remove", "--timeout", "3"]);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assert(/✓ daemon\s+stopped/.test(r.stdout), r.stdout);
        assertEquals((await containersOf(engine, project)).length, 0);
        let alive = true;
        try {
          Deno.kill(pid, "SIGCONT");
        } catch {
          alive = false;
        }
        assert(!alive, "the daemon process is gone");
        assertEquals((await cli.run(["status"])).code, 3);
        assertEquals((await cli.run(["stop"])).code, 0);
      });
    } finally {
      await cleanup(cli);
    }
    assertEquals((await containersOf(engine, project)).length, 0, "nothing is left");
  },
});

Deno.test({
  name: "start exits 6 when a required service fails, showing its last log lines",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    const toml = projectToml(
      project,
      `[services.broken]\nimage = "${image}"\ncommand = ["sh", "-c", "echo boom-before-exit; exit 3"]\nrequired = true\nrestart = "no"\n[services.broken.health]\nkind = "http"\nport = 8080\npath = "/health"\n`,
    );
    await using cli = await createCliEnv({ configToml: toml });
    try {
      const r = await cli.run(["start", "--timeout", "60"]);
      assertEquals(r.code, 6, r.stdout + r.stderr);
      assert(r.stdout.includes("✗ broken"), r.stdout);
      assert(r.stdout.includes("boom-before-exit"), `the failed service's log tail is shown: ${r.stdout}`);
      assert(r.stderr.includes('"broken"'), r.stderr);
      assert(!r.stderr.includes("    at "), "no stack trace");
    } finally {
      await cleanup(cli);
    }
    assertEquals((await containersOf(engine, project)).length, 0, "nothing is left");
  },
});

Deno.test({
  name: "start exits 4 with one clear line when the daemon's address is in use",
  ...sanitize,
  async fn() {
    await using cli = await createCliEnv({ configToml: projectToml(testProject("busy"), "") });
    const [host, port] = cli.grpcAddr.split(":");
    // A plain TCP listener that never speaks gRPC: Health cannot answer, serve cannot bind.
    using _listener = Deno.listen({ hostname: host, port: Number(port) });
    const r = await cli.run(["start", "--timeout", "20"]);
    assertEquals(r.code, 4, r.stdout + r.stderr);
    assert(r.stderr.includes(cli.grpcAddr), r.stderr);
    assert(r.stderr.includes("in use"), r.stderr);
  },
});

Deno.test({
  name: "start exits 3 with the daemon's log tail when the daemon is killed while it waits",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    const port = await freePort();
    await using cli = await createCliEnv({ configToml: projectToml(project, webService("slow", image, port, 30)) });
    try {
      const start = cli.run(["start", "--timeout", "60"]);
      let pid = 0;
      const deadline = Date.now() + 30_000;
      while (!pid && Date.now() < deadline) {
        try {
          pid = JSON.parse(await Deno.readTextFile(`${cli.home}/daemon.json`)).pid;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert(pid > 0, "the daemon started");
      // Let StartServices begin, then kill the daemon hard.
      await new Promise((r) => setTimeout(r, 2000));
      Deno.kill(pid, "SIGKILL");
      const r = await start;
      assertEquals(r.code, 3, r.stdout + r.stderr);
      assert(r.stderr.includes("the daemon stopped"), r.stderr);
    } finally {
      await cleanup(cli);
    }
  },
});

Deno.test({
  name: "start exits 5 when the Docker engine is unreachable",
  ...sanitize,
  async fn() {
    const toml = projectToml(
      testProject("nodocker"),
      `[services.web]\nimage = "dspy-agent-test/busybox:1"\ncommand = ["sleep", "60"]\nrequired = true\n`,
    );
    await using cli = await createCliEnv({ configToml: toml, env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
    const r = await cli.run(["start", "--timeout", "30"]);
    assertEquals(r.code, 5, r.stdout + r.stderr);
    assert(/docker/i.test(r.stderr), r.stderr);
    assert(r.stderr.includes("doctor"), r.stderr);
    // The daemon itself runs: status shows it and why services are unknown; stop still ends it.
    const status = await cli.run(["status"]);
    assertEquals(status.code, 0, status.stderr);
    assert(status.stdout.includes("Services unknown:"), status.stdout);
    const stop = await cli.run(["stop"]);
    assertEquals(stop.code, 5, stop.stderr);
    assert(/✓ daemon\s+stopped/.test(stop.stdout), stop.stdout);
    assertEquals((await cli.run(["status"])).code, 3);
  },
});

Deno.test({
  name: "two concurrent starts share one daemon",
  ...sanitize,
  async fn() {
    await using cli = await createCliEnv({ configToml: projectToml(testProject("race"), "") });
    const [a, b] = await Promise.all([cli.run(["start", "--json"]), cli.run(["start", "--json"])]);
    assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    assertEquals(ra.daemon.pid, rb.daemon.pid);
    assertEquals([ra.daemon.started, rb.daemon.started].filter(Boolean).length, 1, "exactly one start spawned it");
    const stop = await cli.run(["stop"]);
    assertEquals(stop.code, 0, stop.stderr);
  },
});
