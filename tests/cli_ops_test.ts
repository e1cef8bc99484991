/**
 * `doctor` and `pull` against the real engine: every check with its fix, and
 * a pull that cannot reach a registry (none is reachable here) reported per
 * image with exit 1.
 */

import { assert, assertEquals } from "./support/assert.ts";
import { ensureDockerEngine } from "./support/docker.ts";
import { freePort } from "./support/daemon.ts";
import { createCliEnv, projectToml, spawnCli, testProject } from "./support/cli.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

interface Check {
  name: string;
  status: string;
  detail: string;
  fix?: string;
}

Deno.test({
  name: "doctor passes on a healthy machine and names a busy service port with its fix",
  ...sanitize,
  async fn() {
    await ensureDockerEngine();
    const port = await freePort();
    const toml = projectToml(testProject("doctor"), `[services.web]\nimage = "x"\nports = ["${port}:80"]\n`);
    await using cli = await createCliEnv({ configToml: toml });
    const ok = await cli.run(["doctor", "--json"]);
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
    const checks: Check[] = JSON.parse(ok.stdout).checks;
    assertEquals(checks.find((c) => c.name === "docker engine")?.status, "ok");
    assert(/^Docker \d+\.\d+/.test(checks.find((c) => c.name === "docker engine")!.detail));
    assertEquals(checks.map((c) => c.name), [
      "config",
      "docker engine",
      "state folder",
      "ports",
      "gpu",
      "disk space",
      "task store",
    ]);

    using _busy = Deno.listen({ hostname: "127.0.0.1", port });
    const busy = await cli.run(["doctor"]);
    assertEquals(busy.code, 1, busy.stdout);
    assert(busy.stdout.includes(`✗ ports`), busy.stdout);
    assert(busy.stdout.includes(`127.0.0.1:${port} (service web)`), busy.stdout);
    assert(busy.stdout.includes("fix:"), busy.stdout);
  },
});

Deno.test({
  name: "pull reports an image it cannot pull and exits 1; an unknown service exits 2",
  ...sanitize,
  async fn() {
    await ensureDockerEngine();
    const toml = projectToml(
      testProject("pull"),
      `[services.web]\nimage = "dspy-agent-test/not-in-any-registry:1"\nenabled = false\n`,
    );
    await using cli = await createCliEnv({ configToml: toml });
    assertEquals((await cli.run(["start"])).code, 0);
    const r = await cli.run(["pull", "web", "--json"]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout);
    assertEquals(result.ok, false);
    assertEquals(result.images["dspy-agent-test/not-in-any-registry:1"].status, "error");
    const text = await cli.run(["pull", "web"]);
    assert(text.stdout.includes("✗ dspy-agent-test/not-in-any-registry:1"), text.stdout);
    assert(text.stderr.includes("Cannot pull"), text.stderr);
    assertEquals((await cli.run(["pull", "nosuch"])).code, 2);
    assertEquals((await cli.run(["stop"])).code, 0);
  },
});

Deno.test({
  name: "tasks submit --wait prints the result; cancel ends a running task; watch follows it to the end",
  ...sanitize,
  async fn() {
    await using cli = await createCliEnv({ configToml: projectToml(testProject("tasks"), "") });
    assertEquals((await cli.run(["start"])).code, 0);
    const quick = `execution=${JSON.stringify({ command: ["sh", "-c", `echo '__DSPY_RESULT__:{"answer":42}'`] })}`;
    const done = await cli.run(["tasks", "submit", "-p", quick, "--wait"]);
    assertEquals(done.code, 0, done.stdout + done.stderr);
    assert(/✓ task-\S+\s+completed/.test(done.stdout), done.stdout);
    assert(done.stdout.includes('data: {"answer":42}'), done.stdout);

    const slow = await cli.run(["tasks", "submit", "-p", 'execution={"command":["sleep","60"]}']);
    const id = slow.stdout.trim();
    const watch = spawnCli(["tasks", "watch", id], cli.env);
    const cancel = await cli.run(["tasks", "cancel", id, "--reason", "test over"]);
    assertEquals(cancel.code, 0, cancel.stderr);
    const watched = await watch.result;
    assertEquals(watched.code, 0, watched.stderr);
    assert(watched.stdout.includes(`✗ ${id}  cancelled`), watched.stdout);
    const get = JSON.parse((await cli.run(["tasks", "get", id, "--json"])).stdout);
    assertEquals([get.status, get.state], ["failed", "cancelled"]);
    assertEquals((await cli.run(["tasks", "cancel", "no-such-task"])).code === 0, false);
    assertEquals((await cli.run(["stop"])).code, 0);
  },
});
