/**
 * `dspy-agent store backup` and `store check` against a real daemon and its SQLite store: an online backup while the
 * daemon runs, an offline one when it is stopped, a restore from the copy, and a damaged store found by `doctor`.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { createCliEnv } from "./support/cli.ts";

Deno.test("store backup (online and offline), store check, and a restore from the backup", async () => {
  await using cli = await createCliEnv({ configToml: "[services]\nredis = false\n" });
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-backup-" });
  try {
    assertEquals((await cli.run(["start"])).code, 0);
    for (let i = 0; i < 5; i++) {
      const submitted = await cli.run(["tasks", "submit", "--id", `kept-${i}`, "--payload", "task_type=noop"]);
      assertEquals(submitted.code, 0, submitted.stderr);
    }
    const online = await cli.run(["store", "backup", `${dir}/online.db`]);
    assertEquals(online.code, 0, online.stderr);
    assertStringIncludes(online.stdout, "online");
    const again = await cli.run(["store", "backup", `${dir}/online.db`]);
    assertEquals(again.code, 2, again.stdout + again.stderr);
    assertStringIncludes(again.stderr, "already there");
    const check = await cli.run(["store", "check"]);
    assertEquals(check.code, 0, check.stderr);
    assertStringIncludes(check.stdout, ": ok");

    assertEquals((await cli.run(["stop"])).code, 0);
    const offline = await cli.run(["store", "backup", `${dir}/offline.db`]);
    assertEquals(offline.code, 0, offline.stderr);
    assert(!offline.stdout.includes("online"), offline.stdout);

    // Restore: the copy replaces the store, and the tasks are there.
    await Deno.remove(`${cli.home}/orchestrator.db`);
    await Deno.copyFile(`${dir}/online.db`, `${cli.home}/orchestrator.db`);
    assertEquals((await cli.run(["start"])).code, 0);
    const got = await cli.run(["tasks", "get", "kept-4", "--json"]);
    assertEquals(got.code, 0, got.stderr);
    assertEquals((await cli.run(["stop"])).code, 0);

    // A damaged store: doctor and store check say so, with the fix.
    await Deno.writeTextFile(`${cli.home}/orchestrator.db`, "not a database ".repeat(500));
    const doctor = await cli.run(["doctor"]);
    assertStringIncludes(doctor.stdout, "task store");
    assertStringIncludes(doctor.stdout, "store backup");
    const broken = await cli.run(["store", "check"]);
    assert(broken.code !== 0, "store check passed a damaged store");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
