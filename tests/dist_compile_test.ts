/**
 * `deno task compile` (scripts/compile.ts) where Deno's download host is not
 * reachable: each way of not having the runtime base ends in one line saying
 * so and how to provide it, and with a runtime base the whole pipeline runs
 * to the binary and checks it.
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const TARGET = "x86_64-unknown-linux-gnu";

interface Result {
  code: number;
  /** stderr lines, without Deno's warning about permission sets in deno.json. */
  lines: string[];
}

/** Runs scripts/compile.ts as `deno task compile` does (on src/version.ts's small graph unless args name an entry). */
async function compile(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=release",
      "scripts/compile.ts",
      ...(args.includes("--entry") ? [] : ["--entry", "src/version.ts"]),
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  const lines = new TextDecoder().decode(output.stderr).split("\n")
    .filter((line) => line.trim() !== "" && !line.includes("Permissions in the config file"));
  return { code: output.code, lines };
}

async function withOutDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dist-compile-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("compile fails with one line when the runtime base cannot be downloaded", async () => {
  await withOutDir(async (dir) => {
    // An empty DENO_DIR has no cached denort, and a dead proxy makes the
    // download fail here and on machines that can reach dl.deno.land alike.
    await Deno.mkdir(`${dir}/deno-dir`);
    const result = await compile(["--target", TARGET, "--out-dir", `${dir}/out`], {
      DENO_DIR: `${dir}/deno-dir`,
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
      DENORT_BIN: "",
    });
    assertEquals(result.code, 1);
    assertMatch(result.lines[0], /^Compiling dspy-agent \S+ \(\S+\) for x86_64-unknown-linux-gnu$/);
    assertEquals(result.lines.slice(1), [
      `Cannot compile for ${TARGET}: the Deno runtime base (denort) could not be downloaded; ` +
      "set DENORT_BIN=/path/to/denort or build where dl.deno.land is reachable",
    ]);
  });
});

Deno.test("compile fails with one line when DENORT_BIN names no file", async () => {
  await withOutDir(async (dir) => {
    const result = await compile(["--out-dir", dir], { DENORT_BIN: `${dir}/no-denort` });
    assertEquals(result.code, 1);
    assertEquals(
      result.lines.at(-1),
      `Cannot compile for ${Deno.build.target}: DENORT_BIN="${dir}/no-denort" cannot be used ` +
        `(the file does not exist); set DENORT_BIN to the denort binary of Deno ${Deno.version.deno} ` +
        `for ${Deno.build.target}`,
    );
    assertEquals(result.lines.length, 2);
  });
});

Deno.test("compile refuses several targets with one DENORT_BIN and unknown targets", async () => {
  const several = await compile(["--target", TARGET, "--target", "aarch64-apple-darwin"], {
    DENORT_BIN: Deno.execPath(),
  });
  assertEquals(several.code, 1);
  assertEquals(several.lines, [
    "Cannot compile for 2 targets with one DENORT_BIN: a runtime base fits one target; pass one --target",
  ]);
  const unknown = await compile(["--target", "riscv64-unknown-linux-gnu"]);
  assertEquals(unknown.code, 1);
  assertMatch(unknown.lines[0], /^Cannot compile for "riscv64-unknown-linux-gnu": not a release target; use one of /);
});

Deno.test({
  name: "compile builds dspy-agent with a runtime base and rejects one that is not denort",
  // The deno executable stands in for denort: deno compile accepts it, so the
  // whole program goes through deno compile (module graph, npm packages,
  // permission set, stamp), but the result runs as deno, so the post-build
  // `dspy-agent version` check must fail.
  ignore: Deno.build.target !== TARGET,
  async fn() {
    await withOutDir(async (dir) => {
      const before = await Deno.readTextFile(`${ROOT}/src/version.ts`);
      const result = await compile(["--entry", "src/main.ts", "--out-dir", dir], { DENORT_BIN: Deno.execPath() });
      assertEquals(result.code, 1);
      assertEquals(result.lines[1], `Built ${dir}/${TARGET}/dspy-agent`);
      assertMatch(
        result.lines[2],
        /^Cannot verify ".*\/dspy-agent": `dspy-agent version` did not report .*; is DENORT_BIN a denort binary\?$/,
      );
      // The runtime base plus the program and only the npm packages it uses
      // (not node_modules' build tools, e.g. buf's 95 MB binary).
      const size = (await Deno.stat(`${dir}/${TARGET}/dspy-agent`)).size;
      const base = (await Deno.stat(Deno.execPath())).size;
      assert(size > base && size < base + 40_000_000, `unexpected binary size ${size}`);
      assertEquals(await Deno.readTextFile(`${ROOT}/src/version.ts`), before);

      // The permission set "dspy-agent" from deno.json is baked into the binary.
      const set = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).permissions["dspy-agent"];
      const baked = await bakedPermissions(`${dir}/${TARGET}/dspy-agent`);
      assertEquals(baked.allow_net, set.net === true ? [] : set.net);
      assertEquals(baked.allow_sys, set.sys === true ? [] : set.sys);
      assertEquals(baked.allow_ffi, null);
    });
  },
});

/** Reads the `"permissions"` object deno compile writes into a binary's metadata. */
async function bakedPermissions(binary: string): Promise<Record<string, unknown>> {
  const bytes = Buffer.from(await Deno.readFile(binary));
  const start = bytes.indexOf('"permissions":{') + '"permissions":'.length;
  assert(start > '"permissions":'.length, "no permissions in the binary's metadata");
  let depth = 0;
  let end = start;
  do {
    if (bytes[end] === 0x7b) depth++;
    if (bytes[end] === 0x7d) depth--;
    end++;
  } while (depth > 0);
  return JSON.parse(bytes.subarray(start, end).toString("utf8"));
}
