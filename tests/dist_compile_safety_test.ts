/**
 * The program behaves the same once `deno compile`d: nothing in its
 * module graph reads files next to its modules or imports a computed
 * specifier, it runs from a copy of its modules outside the repository with
 * the repository unreadable, and a stamped version reaches `dspy-agent version`.
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { formatHazard, scanModuleGraph, scanSource } from "../scripts/lib/compile_safety.ts";
import { writeStamp } from "../scripts/lib/stamp.ts";

import { freePort } from "./support/daemon.ts";
import { type CommandResult, runCommand } from "./support/run.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const ENTRY = `${ROOT}/src/main.ts`;
const VERSION = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).version as string;

function deno(args: string[], cwd: string): Promise<CommandResult> {
  return runCommand(Deno.execPath(), args, { cwd, env: { NO_COLOR: "1" } });
}

/** Polls a /health URL for up to 60 s and returns the first answer's status. */
async function waitForHealth(url: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (true) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

Deno.test("the scan flags module-relative file reads and computed imports", () => {
  const source = [
    'const text = await Deno.readTextFile(new URL("./schema.sql", import.meta.url));',
    "const here = import.meta.dirname;",
    "const mod = await import(`./commands/${name}.ts`);",
    "const other = await import(specifier);",
    'const legacy = require("./x" + suffix);',
    'const fine = await import("./commands/status.ts");',
    "if (import.meta.main) main();",
    "// import(name) in a comment is not code",
    " * JSDoc: new URL(x, import.meta.url)",
    'const url = "http://example.com"; // trailing comment import(x)',
    "// compile-safe: only used under deno run, never in the binary",
    'const main = new URL("../main.ts", import.meta.url);',
    "const vouched = import.meta.filename; // compile-safe: tests only",
    "const unexplained = import.meta.url; // compile-safe:",
  ].join("\n");
  const hazards = scanSource("fixture.ts", source);
  assertEquals(hazards.map((hazard) => hazard.line), [1, 2, 3, 4, 5, 14]);
  assertStringIncludes(formatHazard(hazards[2]), "fixture.ts:3: import() with a computed specifier");
});

Deno.test("dspy-agent's module graph has nothing deno compile would miss", async () => {
  const scan = await scanModuleGraph(ENTRY, { cwd: ROOT });
  assert(scan.modules.includes(`${ROOT}/src/version.ts`), "src/version.ts is not in the graph");
  assert(scan.modules.some((module) => module.includes("/src/daemon/")), "the daemon is not in the graph");
  assertEquals(scan.hazards.map(formatHazard), []);
});

Deno.test("dspy-agent and its daemon run from a copy of its modules with the repository unreadable", async () => {
  const { modules } = await scanModuleGraph(ENTRY, { cwd: ROOT });
  const dir = await Deno.makeTempDir({ prefix: "dist-compile-safety-" });
  try {
    const copy = `${dir}/bundle`;
    for (const file of [...modules, `${ROOT}/deno.json`, `${ROOT}/deno.lock`]) {
      assert(file.startsWith(`${ROOT}/`), `module outside the repository: ${file}`);
      const target = `${copy}/${file.slice(ROOT.length + 1)}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.copyFile(file, target);
    }
    const elsewhere = `${dir}/elsewhere`;
    await Deno.mkdir(elsewhere);
    const run = (args: string[]) =>
      deno([
        "run",
        "-P=dspy-agent",
        "--no-prompt",
        `--config=${copy}/deno.json`,
        `--deny-read=${ROOT}`,
        `${copy}/src/main.ts`,
        ...args,
      ], elsewhere);

    const version = await run(["version"]);
    assertEquals(version.code, 0, version.stderr);
    assertStringIncludes(version.stdout, `${VERSION} (dev)`);
    const help = await run(["--help"]);
    assertEquals(help.code, 0, help.stderr);
    assertStringIncludes(help.stdout, "serve");

    // The daemon itself: up, healthy, and stopped by SIGTERM, all from the copy.
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const serve = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "-P=dspy-agent",
        "--no-prompt",
        `--config=${copy}/deno.json`,
        `--deny-read=${ROOT}`,
        `${copy}/src/main.ts`,
        "serve",
      ],
      cwd: elsewhere,
      env: {
        NO_COLOR: "1",
        DSPY_AGENT_HOME: `${dir}/home`,
        ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${grpcPort}`,
        ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${httpPort}`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = serve.output();
    try {
      assertEquals(await waitForHealth(`http://127.0.0.1:${httpPort}/health`), 200);
    } finally {
      serve.kill("SIGTERM");
    }
    // Bounded: a daemon that does not stop within 30 s is killed and the test fails with what it logged.
    const watchdog = setTimeout(() => serve.kill("SIGKILL"), 30_000);
    const stopped = await output;
    clearTimeout(watchdog);
    const log = new TextDecoder().decode(stopped.stderr) + new TextDecoder().decode(stopped.stdout);
    assertEquals(stopped.code, 0, `the daemon did not stop cleanly on SIGTERM:\n${log}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stamped version and commit reach `dspy-agent version` without touching src/", async () => {
  const before = await Deno.readTextFile(`${ROOT}/src/version.ts`);
  const dir = await Deno.makeTempDir({ prefix: "dist-stamp-" });
  try {
    const stamp = { version: "9.8.7-test", commit: "0123456789ab+test" };
    const importMap = await writeStamp(stamp, { root: ROOT, outDir: dir });
    // The same resolution `deno compile --import-map` embeds (scripts/compile_target.ts).
    const result = await deno(
      ["run", "-P=dspy-agent", "--no-prompt", "--import-map", importMap, ENTRY, "version"],
      ROOT,
    );
    assertEquals(result.code, 0, result.stderr);
    assertStringIncludes(result.stdout, "9.8.7-test (0123456789ab+test)");
    assertEquals(await Deno.readTextFile(`${ROOT}/src/version.ts`), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
