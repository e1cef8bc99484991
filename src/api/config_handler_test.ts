import { createClient, createRouterTransport } from "@connectrpc/connect";
import { toBinary, toJsonString } from "@bufbuild/protobuf";
import { loadConfig } from "../config/mod.ts";
import { GetConfigResponseSchema, OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";
import { assert, assertEquals } from "../../tests/support/assert.ts";
import { configHandler } from "./config_handler.ts";

const PASSWORD = "s3cret-Pa55word";
const FILE_SECRET = "password-from-the-file-9f1c";

async function answerFor(configToml: string, env: Record<string, string>, flags = {}) {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-getconfig-" });
  await Deno.writeTextFile(`${home}/config.toml`, configToml);
  const loaded = await loadConfig({ env: { DSPY_AGENT_HOME: home, ...env }, flags });
  const transport = createRouterTransport((router) => router.service(OrchestratorService, configHandler(loaded)));
  const answer = await createClient(OrchestratorService, transport).getConfig({});
  return { home, answer };
}

Deno.test("GetConfig answers each setting with its value and its source: default, file (path), env (name), flag", async () => {
  const { home, answer } = await answerFor('project = "from-file"\nmax_concurrent = 3\n', {
    ENV_MANAGER_HEALTH_TIMEOUT: "42",
  }, { logLevel: "debug" });
  try {
    const by = Object.fromEntries(answer.settings.map((s) => [s.key, s]));
    assertEquals(answer.configFile, `${home}/config.toml`);
    assertEquals([by.project.value, by.project.source, by.project.origin], ['"from-file"', "file", answer.configFile]);
    assertEquals([by.max_concurrent.value, by.max_concurrent.source], ["3", "file"]);
    assertEquals(
      [by.health_timeout_seconds.value, by.health_timeout_seconds.source, by.health_timeout_seconds.origin],
      ["42", "env", "ENV_MANAGER_HEALTH_TIMEOUT"],
    );
    assertEquals([by.log_level.value, by.log_level.source, by.log_level.origin], ['"debug"', "flag", ""]);
    assertEquals([by.grpc_addr.value, by.grpc_addr.source, by.grpc_addr.origin], ['"127.0.0.1:50052"', "default", ""]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("GetConfig never answers a store password, from the URL or from the password file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-getconfig-secret-" });
  const passwordFile = `${dir}/pg.password`;
  await Deno.writeTextFile(passwordFile, FILE_SECRET);
  try {
    for (
      const [toml, env] of [
        [`store = "postgres://agent:${PASSWORD}@127.0.0.1:5432/tasks"\n`, {}],
        ["", { DSPY_AGENT_STORE_URL: `postgresql://agent:${PASSWORD}@db.internal:5432/tasks` }],
      ] as const
    ) {
      const { home, answer } = await answerFor(`${toml}store_password_file = "${passwordFile}"\n`, env);
      try {
        const store = answer.settings.find((s) => s.key === "store")!;
        assert(store.value.includes("agent:****@"), store.value);
        // Every byte of the answer, as JSON and on the wire.
        const json = toJsonString(GetConfigResponseSchema, answer);
        const wire = new TextDecoder().decode(toBinary(GetConfigResponseSchema, answer));
        for (const text of [json, wire]) {
          assert(!text.includes(PASSWORD), "the store password is in the answer");
          assert(!text.includes(FILE_SECRET), "the password file's contents are in the answer");
        }
        assertEquals(answer.settings.find((s) => s.key === "store_password_file")?.value, JSON.stringify(passwordFile));
      } finally {
        await Deno.remove(home, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
