/**
 * `stop` leaves the stopped containers and the network and says so; `down` removes them (named volumes only with
 * `--volumes`), starting the daemon for the job when it is not running. Real engine, real CLI.
 * @module
 */
import { LABEL_PROJECT } from "../src/env/mod.ts";
import { assertEquals, assertStringIncludes } from "./support/assert.ts";
import { freePort } from "./support/daemon.ts";
import { buildRedisImage, ensureDockerEngine, REDIS_IMAGE } from "./support/docker.ts";
import { createCliEnv, testProject } from "./support/cli.ts";

Deno.test("stop leaves containers and network and says so; down removes them, volumes only with --volumes", async () => {
  const engine = await ensureDockerEngine();
  await buildRedisImage(engine);
  const project = testProject("down");
  const toml = `project = "${project}"\n\n[services.redis]\nimage = "${REDIS_IMAGE}"\n` +
    `ports = ["${await freePort()}:6379"]\nvolumes = ["data:/data"]\n`;
  await using cli = await createCliEnv({ configToml: toml });
  const selector = { [LABEL_PROJECT]: project };
  assertEquals((await cli.run(["start"])).code, 0);
  const stopped = await cli.run(["stop"]);
  assertEquals(stopped.code, 0, stopped.stderr);
  assertStringIncludes(stopped.stdout, "dspy-agent down");
  assertEquals((await engine.listContainers({ selector })).length, 1);
  assertEquals((await engine.listNetworks({ selector })).length, 1);

  // The daemon is not running: down starts it, removes containers and network, keeps the volume, stops it.
  const down = await cli.run(["down"]);
  assertEquals(down.code, 0, down.stdout + down.stderr);
  assertEquals((await engine.listContainers({ selector })).length, 0);
  assertEquals((await engine.listNetworks({ selector })).length, 0);
  assertEquals((await engine.listVolumes({ selector })).length, 1);

  assertEquals((await cli.run(["start"])).code, 0);
  const all = await cli.run(["down", "--volumes"]);
  assertEquals(all.code, 0, all.stdout + all.stderr);
  assertEquals((await engine.listVolumes({ selector })).length, 0);
});
