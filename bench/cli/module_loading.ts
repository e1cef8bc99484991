/**
 * Where a CLI run's time goes: the Deno runtime alone, then the import time of
 * each layer the CLI loads, and of the npm modules it avoids loading (the
 * Connect gRPC stack), each measured in a fresh process.
 *
 * @module
 */

/** Options of {@linkcode measureModuleLoading}. */
export interface ModuleLoadingOptions {
  /** `deno run -P=dspy-agent --config deno.json`. */
  cli: string[];
  /** The repository root, ending in `/`. */
  root: string;
  /** Fresh processes per figure. */
  runs: number;
}

const probes: [string, string][] = [
  ["src/cli/mod.ts (parsing, help, errors, output)", "src/cli/mod.ts"],
  ["src/config/mod.ts (smol-toml)", "src/config/mod.ts"],
  ["src/client/mod.ts (Connect JSON over fetch, used by the CLI)", "src/client/mod.ts"],
  ["src/cli/commands/status.ts (everything status loads)", "src/cli/commands/status.ts"],
  ["@connectrpc/connect-node + node:http2 (avoided)", "npm:@connectrpc/connect-node"],
  ["@bufbuild/protobuf + generated code (avoided)", "src/gen/env_manager/v1/env_manager_pb.ts"],
];

/** Returns [what, median ms] rows: process start-up, then each module's import time. */
export async function measureModuleLoading(options: ModuleLoadingOptions): Promise<[string, number][]> {
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-bench-load-" });
  try {
    const rows: [string, number][] = [];
    const empty = `${dir}/empty.ts`;
    await Deno.writeTextFile(empty, "");
    const startups: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const begin = performance.now();
      await new Deno.Command(options.cli[0], { args: [...options.cli.slice(1), empty], stdout: "null", stderr: "null" })
        .output();
      startups.push(performance.now() - begin);
    }
    rows.push(["deno run of an empty file (runtime floor, wall)", median(startups)]);
    for (const [what, specifier] of probes) {
      const target = specifier.startsWith("npm:") ? specifier.slice(4) : `${options.root}${specifier}`;
      const probe = `${dir}/probe.ts`;
      await Deno.writeTextFile(
        probe,
        `const t = performance.now(); await import(${JSON.stringify(target)}); console.log(performance.now() - t);\n`,
      );
      const xs: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const out = await new Deno.Command(options.cli[0], {
          args: [...options.cli.slice(1), probe],
          stdout: "piped",
          stderr: "null",
        }).output();
        xs.push(Number(new TextDecoder().decode(out.stdout).trim()));
      }
      rows.push([`import ${what}`, median(xs)]);
    }
    return rows;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
