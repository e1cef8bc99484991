/**
 * Ctrl-C and the foreground daemon: `start --foreground` serves until SIGINT
 * and then stops its services and itself; Ctrl-C during a background `start`
 * exits 130 and leaves the daemon running.
 */

import { LABEL_PROJECT } from "../src/env/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { buildBusyboxImage, ensureDockerEngine } from "./support/docker.ts";
import { freePort } from "./support/daemon.ts";
import { createCliEnv, projectToml, spawnCli, testProject, webService } from "./support/cli.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "start --foreground serves until Ctrl-C, then stops its services and the daemon",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    const worker = `[services.worker]\nimage = "${image}"\n` +
      `command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n[services.worker.health]\nkind = "none"\n`;
    await using cli = await createCliEnv({ configToml: projectToml(project, worker) });
    try {
      const run = spawnCli(["start", "--foreground"], cli.env);
      await run.waitFor("✓ worker", 60_000);
      const status = await cli.run(["status", "--json"]);
      assertEquals(
        JSON.parse(status.stdout).services.find((s: { name: string }) => s.name === "worker").status,
        "running",
      );
      run.kill("SIGINT");
      const r = await run.result;
      assertEquals(r.code, 0, r.stdout + r.stderr);
      assertEquals((await cli.run(["status"])).code, 3, "the daemon is gone");
      const left = await engine.listContainers({ selector: { [LABEL_PROJECT]: project } });
      assert(left.every((c) => c.State !== "running"), `no container runs: ${left.map((c) => c.State)}`);
    } finally {
      await cli.run(["stop", "--remove", "--force", "--timeout", "2"]);
    }
  },
});

Deno.test({
  name: "Ctrl-C during start exits 130 and leaves the daemon running",
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    await using cli = await createCliEnv({
      configToml: projectToml(project, webService("slow", image, await freePort(), 60)),
    });
    try {
      const run = spawnCli(["start"], cli.env);
      await run.waitFor("✓ daemon", 60_000);
      await new Promise((r) => setTimeout(r, 500));
      run.kill("SIGINT");
      const r = await run.result;
      assertEquals(r.code, 130, r.stdout + r.stderr);
      assert(r.stderr.includes("Interrupted"), r.stderr);
      const status = await cli.run(["status"]);
      assertEquals(status.code, 0, `the daemon keeps running: ${status.stdout}${status.stderr}`);
    } finally {
      await cli.run(["stop", "--remove", "--force", "--timeout", "2"]);
    }
  },
});
