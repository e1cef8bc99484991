/**
 * The CLI without a daemon: help, version, usage errors, completions, the
 * config commands and the documented exit codes.
 */

import { assert, assertEquals } from "./support/assert.ts";
import { createCliEnv } from "./support/cli.ts";

Deno.test("dspy-agent --help lists every command and the exit codes", async () => {
  await using cli = await createCliEnv();
  const r = await cli.run(["--help"]);
  assertEquals(r.code, 0);
  for (
    const name of [
      "start",
      "stop",
      "status",
      "dashboard",
      "logs",
      "config",
      "pull",
      "doctor",
      "tasks",
      "version",
      "completions",
      "serve",
    ]
  ) {
    assert(r.stdout.includes(`  ${name} `), `--help lists ${name}`);
  }
  assert(r.stdout.includes("3 daemon not running"));
});

Deno.test("dspy-agent version prints the version from deno.json, as text and JSON", async () => {
  await using cli = await createCliEnv();
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const text = await cli.run(["version"]);
  assertEquals(text.code, 0);
  assert(text.stdout.startsWith(`dspy-agent ${denoJson.version} `), text.stdout);
  const json = await cli.run(["version", "--json"]);
  assertEquals(JSON.parse(json.stdout).version, denoJson.version);
});

Deno.test("an unknown command or option exits 2 with a hint and no stack trace", async () => {
  await using cli = await createCliEnv();
  const unknown = await cli.run(["frobnicate"]);
  assertEquals(unknown.code, 2);
  assert(unknown.stderr.includes('Unknown command "frobnicate"'), unknown.stderr);
  assert(unknown.stderr.includes("--help"), unknown.stderr);
  assert(!unknown.stderr.includes("    at "), "no stack trace without --debug");
  const option = await cli.run(["status", "--bogus"]);
  assertEquals(option.code, 2);
  assert(option.stderr.includes("--bogus"), option.stderr);
  const debug = await cli.run(["status", "--bogus", "--debug"]);
  assert(debug.stderr.includes("    at "), "--debug shows the stack");
});

Deno.test("status with no daemon prints one line on how to start it and exits 3", async () => {
  await using cli = await createCliEnv();
  const r = await cli.run(["status"]);
  assertEquals(r.code, 3);
  assertEquals(r.stdout, "");
  assertEquals(r.stderr.trim().split("\n"), [
    `Error: No daemon is running at ${cli.grpcAddr}: start it with \`dspy-agent start\``,
  ]);
  const json = await cli.run(["status", "--json"]);
  assertEquals(json.code, 3);
  assertEquals(JSON.parse(json.stdout).error.exitCode, 3);
});

Deno.test("stop with nothing running is not an error", async () => {
  await using cli = await createCliEnv();
  const r = await cli.run(["stop"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("Nothing to stop"), r.stdout);
});

Deno.test("completions print scripts that bash, zsh and fish accept", async () => {
  await using cli = await createCliEnv();
  const bash = await cli.run(["completions", "bash"]);
  assertEquals(bash.code, 0);
  const check = await new Deno.Command("bash", { args: ["-n", "-c", bash.stdout] }).output();
  assert(check.success, new TextDecoder().decode(check.stderr));
  assert(bash.stdout.includes("complete -F _dspy_agent dspy-agent"));
  const zsh = await cli.run(["completions", "zsh"]);
  assert(zsh.stdout.startsWith("#compdef dspy-agent"));
  await assertParses("zsh", ["-n"], zsh.stdout);
  const fish = await cli.run(["completions", "fish"]);
  assert(fish.stdout.includes("complete -c dspy-agent -n"));
  await assertParses("fish", ["--no-execute"], fish.stdout);
  assertEquals((await cli.run(["completions", "tcsh"])).code, 2);
});

Deno.test("config init writes the file once and refuses to overwrite without --force", async () => {
  await using cli = await createCliEnv();
  const path = (await cli.run(["config", "path"])).stdout.trim();
  assertEquals(path, `${cli.home}/config.toml`);
  assertEquals((await cli.run(["config", "init"])).code, 0);
  const first = await Deno.readTextFile(path);
  assert(first.includes("[services]"));
  await Deno.writeTextFile(path, first + "\n# mine\n");
  const again = await cli.run(["config", "init"]);
  assertEquals(again.code, 1);
  assert(again.stderr.includes("--force"), again.stderr);
  assert((await Deno.readTextFile(path)).includes("# mine"), "the file is untouched");
  assertEquals((await cli.run(["config", "init", "--force"])).code, 0);
  assert(!(await Deno.readTextFile(path)).includes("# mine"));
});

Deno.test("config show tells where each value came from: default, file, env, flag", async () => {
  await using cli = await createCliEnv({ configToml: 'project = "from-file"\nmax_concurrent = 3\n' });
  const r = await cli.run(["config", "show", "--json"], { env: { ENV_MANAGER_HEALTH_TIMEOUT: "42" } });
  assertEquals(r.code, 0, r.stderr);
  const { config, provenance } = JSON.parse(r.stdout);
  assertEquals(config.project, "from-file");
  assertEquals(provenance.project, "file");
  assertEquals(provenance.max_concurrent, "file");
  assertEquals(config.healthTimeoutSeconds, 42);
  assertEquals(provenance.health_timeout_seconds, "env");
  assertEquals(provenance.grpc_addr, "env");
  assertEquals(provenance.log_level, "default");
  const text = await cli.run(["config", "show"]);
  assert(/^project\s+= "from-file"\s+# file$/m.test(text.stdout), text.stdout);
});

Deno.test("config set changes one key and config get reads it back", async () => {
  await using cli = await createCliEnv({ configToml: "# keep this comment\n[services]\n" });
  assertEquals((await cli.run(["config", "set", "max_concurrent", "7"])).code, 0);
  assertEquals((await cli.run(["config", "get", "max_concurrent"])).stdout.trim(), "7");
  const text = await Deno.readTextFile(`${cli.home}/config.toml`);
  assert(text.includes("# keep this comment"));
  const bad = await cli.run(["config", "set", "max_concurrent", '"many"']);
  assertEquals(bad.code, 2, bad.stderr);
  assertEquals((await cli.run(["config", "get", "no_such_key"])).code, 2);
});

Deno.test("config validate reports every problem with file and line, exit 2", async () => {
  await using cli = await createCliEnv({
    configToml: 'gpu = "yes"\nmax_concurrent = 0\n\n[services.web]\nrestart = "sometimes"\n',
  });
  const r = await cli.run(["config", "validate"]);
  assertEquals(r.code, 2, r.stdout + r.stderr);
  const file = `${cli.home}/config.toml`;
  assert(r.stdout.includes(`${file}:1: gpu`), r.stdout);
  assert(r.stdout.includes(`${file}:2: max_concurrent`), r.stdout);
  assert(r.stdout.includes(`${file}:5: services.web.restart`), r.stdout);
  const json = await cli.run(["config", "validate", "--json"]);
  assertEquals(JSON.parse(json.stdout).problems.length, 3);
});

Deno.test("a bad config makes every command that needs it exit 2 with the location", async () => {
  await using cli = await createCliEnv({ configToml: "gpu = [unclosed\n" });
  const r = await cli.run(["status"]);
  assertEquals(r.code, 2);
  assert(r.stderr.includes(`${cli.home}/config.toml`), r.stderr);
  assert(r.stderr.includes("config validate"), r.stderr);
});

Deno.test("doctor reports an unreachable Docker engine with its fix and exits 5", async () => {
  await using cli = await createCliEnv({ env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
  const r = await cli.run(["doctor", "--json"]);
  assertEquals(r.code, 5, r.stderr);
  const report = JSON.parse(r.stdout);
  const docker = report.checks.find((c: { name: string }) => c.name === "docker engine");
  assertEquals(docker.status, "fail");
  assert(docker.fix.length > 0);
  assertEquals(report.checks.find((c: { name: string }) => c.name === "state folder").status, "ok");
});

/** Asserts that a shell parses a script without running it (scripts/ensure-system-deps installs zsh and fish). */
async function assertParses(shell: string, flags: string[], script: string): Promise<void> {
  const child = new Deno.Command(shell, { args: flags, stdin: "piped", stdout: "null", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  assert(out.success, `${shell}: ${new TextDecoder().decode(out.stderr)}`);
}
