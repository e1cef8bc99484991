/**
 * `config validate` runs exactly the checks `start` runs: what one refuses, so does the other, with the key named and
 * long values shortened.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { createCliEnv } from "./support/cli.ts";
import { freePort } from "./support/daemon.ts";

const CASES: [string, string, string][] = [
  [
    "a dependency cycle",
    `[services.a]\nimage = "x"\ndepends_on = ["b"]\n[services.b]\nimage = "x"\ndepends_on = ["a"]\n`,
    "cycle",
  ],
  ["a port over 65535", `[services.a]\nimage = "x"\nports = ["70000:80"]\n`, "70000"],
  ["port 0", `[services.a]\nimage = "x"\nports = ["0:80"]\n`, "1-65535"],
  [
    "two services on one host port",
    `[services.a]\nimage = "x"\nports = ["18080:80"]\n[services.b]\nimage = "x"\nports = ["18080:80"]\n`,
    "18080",
  ],
];

Deno.test("config validate refuses what start refuses, naming the problem", async (t) => {
  for (const [name, toml, expected] of CASES) {
    await t.step(name, async () => {
      await using cli = await createCliEnv({ configToml: `${toml}[services]\nredis = false\n` });
      const validate = await cli.run(["config", "validate"]);
      assertEquals(validate.code, 2, validate.stdout + validate.stderr);
      assertStringIncludes(validate.stdout + validate.stderr, expected);
      const start = await cli.run(["start", "--timeout", "20"]);
      assert(start.code !== 0, `start accepted what validate refused: ${start.stdout}`);
      assertStringIncludes(start.stdout + start.stderr, expected);
    });
  }
  await t.step("a non-loopback address without TLS", async () => {
    const port = await freePort();
    await using cli = await createCliEnv({
      configToml: "[services]\nredis = false\n",
      env: { ORCHESTRATOR_GRPC_ADDR: `0.0.0.0:${port}` },
    });
    for (const args of [["config", "validate"], ["start", "--timeout", "20"]]) {
      const out = await cli.run(args);
      assert(out.code !== 0, `${args.join(" ")} accepted it`);
      assertStringIncludes(out.stdout + out.stderr, "[tls] cert and key");
    }
  });
  await t.step("a 5 MB value is shortened in the message", async () => {
    await using cli = await createCliEnv({ configToml: `log_level = "${"x".repeat(5_000_000)}"\n` });
    const validate = await cli.run(["config", "validate"]);
    assertEquals(validate.code, 2);
    assert(validate.stdout.length + validate.stderr.length < 2_000, "the whole value was echoed back");
    assertStringIncludes(validate.stdout + validate.stderr, ",000,002 characters)");
  });
});

Deno.test("the store URL's password never shows: config show and get mask it, from the file or the environment", async () => {
  await using cli = await createCliEnv({
    configToml: `store = "postgres://dspy:s3cret-file@db.internal:5432/dspy"\n[services]\nredis = false\n`,
  });
  const shown = await cli.run(["config", "show"]);
  assertEquals(shown.code, 0, shown.stderr);
  assertStringIncludes(shown.stdout, "postgres://dspy:****@db.internal:5432/dspy");
  assert(!shown.stdout.includes("s3cret"), shown.stdout);
  const json = await cli.run(["--json", "config", "show"]);
  assert(!json.stdout.includes("s3cret"), json.stdout);
  const fromEnv = await cli.run(["config", "get", "store"], {
    env: { DSPY_AGENT_STORE_URL: "postgresql://dspy:s3cret-env@127.0.0.1/dspy" },
  });
  assertEquals(fromEnv.stdout.trim(), "postgresql://dspy:****@127.0.0.1/dspy");
  const bad = await cli.run(["config", "validate"], { env: { DSPY_AGENT_STORE_URL: "mysql://u:s3cret@h/db" } });
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stdout + bad.stderr, "postgres://user@host:port/database");
  assert(!(bad.stdout + bad.stderr).includes("s3cret"), bad.stdout + bad.stderr);
});
