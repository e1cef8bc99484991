/**
 * Fails when a folder of src/ imports another it must not, or reaches past
 * another folder's mod.ts (STYLE.md: imports flow one way; mod.ts is each
 * folder's public face). docs/architecture.md draws the same picture.
 */
import { assertEquals } from "./support/assert.ts";

const SRC = new URL("../src/", import.meta.url).pathname;

/** Which folders each folder may import. `gen` is generated wire code. */
const ALLOWED: Record<string, string[]> = {
  "main.ts": ["cli"],
  cli: ["client", "config", "daemon", "log", "version.ts", "gen", "async"],
  client: ["config", "gen", "daemon"],
  daemon: ["api", "config", "env", "orchestrator", "log", "metrics", "version.ts"],
  api: ["env", "orchestrator", "config", "log", "gen", "version.ts", "async"],
  orchestrator: ["env", "config", "log", "async"],
  env: ["config", "log", "async"],
  config: [],
  log: [],
  async: [],
  metrics: [],
  gen: [],
  "version.ts": [],
};

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(`${path}/`);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

function folderOf(relative: string): string {
  return relative.includes("/") ? relative.split("/")[0] : relative;
}

Deno.test("src/ folders import only what the architecture allows, through mod.ts", async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const rel = file.slice(SRC.length);
    const from = folderOf(rel);
    if (from === "gen") continue;
    const text = await Deno.readTextFile(file);
    for (
      const m of text.matchAll(
        /(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm,
      )
    ) {
      // `import x from "m"`, `export ... from "m"`, `import("m")`, and a bare `import "m"` (for its effects).
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith(".")) continue;
      const target = new URL(spec, `file://${file}`).pathname;
      // version.ts reads the version from deno.json as a static JSON import, which deno compile bundles.
      if (rel === "version.ts" && spec === "../deno.json") continue;
      if (!target.startsWith(SRC)) {
        violations.push(`${rel} imports ${spec}, outside src/`);
        continue;
      }
      const targetRel = target.slice(SRC.length);
      const to = folderOf(targetRel);
      if (to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) {
        violations.push(`${rel} imports ${targetRel}: ${from} must not depend on ${to}`);
      } else if (to !== "gen" && targetRel.includes("/") && !targetRel.endsWith("/mod.ts")) {
        violations.push(`${rel} imports ${targetRel}: import ${to}/mod.ts instead`);
      }
    }
  }
  assertEquals(violations, []);
});
