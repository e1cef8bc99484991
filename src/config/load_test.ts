import { assert, assertEquals, assertRejects, assertStringIncludes, assertThrows } from "../../tests/support/assert.ts";
import { ConfigErrors, loadConfig, parseConfigText, setConfigValue, validateConfigFile } from "./mod.ts";

async function withHome(
  toml: string | undefined,
  fn: (home: string) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-config-" });
  try {
    if (toml !== undefined) {
      await Deno.writeTextFile(`${home}/config.toml`, toml);
    }
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("loadConfig() uses defaults when no file exists", async () => {
  await withHome(undefined, async (home) => {
    const { config, provenance } = await loadConfig({
      env: { DSPY_AGENT_HOME: home },
    });
    assertEquals(config.grpcAddr, "127.0.0.1:50052");
    assertEquals(config.httpAddr, "127.0.0.1:9097");
    assertEquals(config.configFile, `${home}/config.toml`);
    assertEquals(provenance.grpc_addr, "default");
  });
});

Deno.test("loadConfig() layers file, environment and flags in that order", async () => {
  const toml = `orchestrator_addr = ":6000"\nhttp_addr = "127.0.0.1:7000"\nmax_concurrent = 3\n` +
    `[services]\nredis = false\n[services.router]\nimage = "x/router:1"\nports = ["19000:9000"]\n` +
    `depends_on = ["redis"]\n[services.router.health]\nkind = "http"\npath = "/health"\n[ports]\nredis = 6380\n`;
  await withHome(toml, async (home) => {
    const { config, provenance } = await loadConfig({
      env: {
        DSPY_AGENT_HOME: home,
        ORCHESTRATOR_HTTP_ADDR: "127.0.0.1:7001",
        ENV_MANAGER_HEALTH_TIMEOUT: "30s",
      },
      flags: { maxConcurrent: 2 },
    });
    assertEquals(config.grpcAddr, "127.0.0.1:6000"); // empty host means loopback
    assertEquals(provenance.grpc_addr, "file");
    assertEquals(config.httpAddr, "127.0.0.1:7001");
    assertEquals(provenance.http_addr, "env");
    assertEquals(config.healthTimeoutSeconds, 30);
    assertEquals(config.maxConcurrent, 2);
    assertEquals(provenance.max_concurrent, "flag");
    assertEquals(config.services.redis, { enabled: false });
    assertEquals(config.services.router.dependsOn, ["redis"]);
    assertEquals(config.services.router.health, {
      kind: "http",
      path: "/health",
    });
    assertEquals(config.ports.redis, 6380);
  });
});

Deno.test("loadConfig() names file, line and key of an unknown key and a wrong type", async () => {
  await withHome(
    `gpu = true\n\n[services.router]\nimage = 5\nimagee = "x"\n`,
    async (home) => {
      const err = await assertRejects(
        () => loadConfig({ env: { DSPY_AGENT_HOME: home } }),
        ConfigErrors,
      );
      assertEquals(err.errors.length, 2);
      const [wrongType, unknown] = err.errors;
      assertEquals([wrongType.line, wrongType.key], [
        4,
        "services.router.image",
      ]);
      assertStringIncludes(wrongType.message, `${home}/config.toml`);
      assertStringIncludes(wrongType.message, "expected a string");
      assertEquals([unknown.line, unknown.key], [5, "services.router.imagee"]);
    },
  );
});

Deno.test("loadConfig() reports malformed TOML with its line", async () => {
  await withHome(`gpu = true\nworkspace = "unterminated\n`, async (home) => {
    const err = await assertRejects(
      () => loadConfig({ env: { DSPY_AGENT_HOME: home } }),
      ConfigErrors,
    );
    assertEquals(err.errors[0].line, 2);
    assertStringIncludes(err.message, "malformed TOML");
  });
});

Deno.test("loadConfig() rejects a bad address in the environment", async () => {
  await withHome(undefined, async (home) => {
    const err = await assertRejects(
      () =>
        loadConfig({
          env: { DSPY_AGENT_HOME: home, ORCHESTRATOR_GRPC_ADDR: "nonsense" },
        }),
      ConfigErrors,
    );
    assertStringIncludes(err.message, "ORCHESTRATOR_GRPC_ADDR");
  });
});

Deno.test("loadConfig() fails when an explicit --config file is missing", async () => {
  await withHome(undefined, async (home) => {
    const err = await assertRejects(
      () =>
        loadConfig({
          env: { DSPY_AGENT_HOME: home },
          configFile: `${home}/nope.toml`,
        }),
      ConfigErrors,
    );
    assertStringIncludes(err.message, "does not exist");
  });
});

Deno.test("validateConfigFile() returns every problem", async () => {
  await withHome(
    `log_level = "loud"\n[services.a]\nrestart = "sometimes"\n`,
    async (home) => {
      const errors = await validateConfigFile(`${home}/config.toml`);
      assertEquals(errors.map((e) => e.line), [1, 3]);
    },
  );
});

Deno.test("setConfigValue() edits a key in place and adds missing tables", () => {
  const text = `# keep me\ngpu = false\n\n[services]\nredis = true\n`;
  const out = setConfigValue(text, "gpu", "true");
  assertStringIncludes(out, "# keep me\ngpu = true");
  const added = setConfigValue(out, "services.router.image", "x/router:1");
  assertStringIncludes(added, `[services.router]\nimage = "x/router:1"`);
  assert(
    setConfigValue(text, "max_concurrent", "3").startsWith(
      "# keep me\ngpu = false\n\nmax_concurrent = 3",
    ),
  );
});

Deno.test("parseConfigText() reads [tasks] retention_days and refuses a negative one", () => {
  assertEquals(parseConfigText("[tasks]\nretention_days = 30\n", "c.toml").tasks?.retentionDays, 30);
  assertThrows(() => parseConfigText("[tasks]\nretention_days = -1\n", "c.toml"), ConfigErrors, "retention_days");
});
