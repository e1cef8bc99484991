/**
 * Two state folders with default configs side by side on one real engine (docs/architecture.md, ownership): each gets
 * a project of its own, stopping one leaves the other's service running, and a config that names the other's project
 * is refused with the other folder's path.
 * @module
 */
import { LABEL_OWNER } from "../src/env/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { freePort } from "./support/daemon.ts";
import {
  assertNothingLeft,
  buildRedisImage,
  ensureDockerEngine,
  REDIS_IMAGE,
  removeByLabel,
} from "./support/docker.ts";
import { createCliEnv } from "./support/cli.ts";

async function redisConfig(): Promise<string> {
  return `[services.redis]\nimage = "${REDIS_IMAGE}"\nports = ["${await freePort()}:6379"]\n`;
}

Deno.test("two homes with default configs never share or touch each other's stack; a taken project is refused", async () => {
  const engine = await ensureDockerEngine();
  await buildRedisImage(engine);
  await using a = await createCliEnv({ configToml: await redisConfig() });
  await using b = await createCliEnv({ configToml: await redisConfig() });
  const ids: string[] = [];
  try {
    for (const cli of [a, b]) {
      const started = await cli.run(["start"]);
      assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
      ids.push((await Deno.readTextFile(`${cli.home}/instance.id`)).trim());
    }
    assert(ids[0] !== ids[1], "two homes got one id");
    const mine = async (id: string) => await engine.listContainers({ selector: { [LABEL_OWNER]: id } });
    const [ofA, ofB] = [await mine(ids[0]), await mine(ids[1])];
    assertEquals([ofA.length, ofB.length], [1, 1]);
    assert(
      ofA[0].Labels["dev.dspy-agent.project"] !== ofB[0].Labels["dev.dspy-agent.project"],
      "one project for two homes",
    );

    // Stopping A leaves B's service running.
    assertEquals((await a.run(["stop"])).code, 0);
    const bAfter = await engine.inspectContainer(ofB[0].Id);
    assertEquals(bAfter.State.Running, true);

    // A third home that names A's project explicitly is refused, and told whose it is.
    const project = ofA[0].Labels["dev.dspy-agent.project"];
    await using c = await createCliEnv({ configToml: `project = "${project}"\n${await redisConfig()}` });
    const refused = await c.run(["start"]);
    assert(refused.code !== 0, "a project owned by another home was accepted");
    assertStringIncludes(refused.stdout + refused.stderr, a.home);
    assertStringIncludes(refused.stdout + refused.stderr, 'project = "..."');
    assertEquals((await b.run(["stop"])).code, 0);
  } finally {
    for (const id of ids) await removeByLabel(engine, { [LABEL_OWNER]: id });
  }
  for (const id of ids) await assertNothingLeft(engine, { [LABEL_OWNER]: id });
});
