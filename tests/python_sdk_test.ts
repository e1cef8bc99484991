/**
 * The Python package (`python/`, distribution dspy-agent-client) as a user gets it: installed offline into a fresh
 * virtualenv that sees Debian's grpcio and protobuf, then its pytest suite run against a real daemon it starts
 * (python/tests/conftest.py). pytest's own exit code decides: 5 (no tests ran) fails too.
 * @module
 */
import { assertEquals } from "./support/assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string) {
  const out = await new Deno.Command(cmd, { args, env, cwd, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("the Python client installs offline into a virtualenv and passes its pytest suite against a real daemon", async () => {
  const venv = await Deno.makeTempDir({ prefix: "dspy-agent-venv-" });
  try {
    const made = await run("/usr/bin/python3", ["-m", "venv", "--system-site-packages", venv]);
    assertEquals(made.code, 0, made.text);
    const pip = await run(`${venv}/bin/pip`, ["install", "-q", "--no-index", "--no-build-isolation", `${ROOT}python`]);
    assertEquals(pip.code, 0, pip.text);
    const pytest = await run(`${venv}/bin/python`, [
      "-m",
      "pytest",
      "-q",
      "-p",
      "no:cacheprovider",
      `${ROOT}python/tests`,
    ], {
      DENO: Deno.execPath(),
      PATH: `${venv}/bin:/usr/bin:/bin`,
      HOME: Deno.env.get("HOME") ?? "/root",
    }, venv);
    console.log(pytest.text.trim().split("\n").slice(-3).join("\n"));
    assertEquals(pytest.code, 0, pytest.text);
  } finally {
    await Deno.remove(venv, { recursive: true });
  }
});
