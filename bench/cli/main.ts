/**
 * bench/cli: wall time of `dspy-agent status`, of `start` when
 * everything already runs, of `--help` and `version`, beside
 * `docker-compose ps` on a running one-service compose project, all in the
 * same run, interleaved so machine load hits every command alike. Then where
 * start-up time goes (module loading).
 *
 * Run: deno run -P=test bench/cli/main.ts [--runs N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { measureModuleLoading } from "./module_loading.ts";
import { ensureBusyboxImage, removeProject } from "./docker_cli.ts";
import { measureRpcLatency } from "./rpc_latency.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = Deno.execPath();
const CLI = [DENO, "run", "-P=dspy-agent", "--config", `${ROOT}deno.json`, `${ROOT}src/main.ts`];
const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string", default: "15" } } });
const runs = Number(values.runs);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function timed(
  argv: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<{ ms: number; code: number; out: string }> {
  const begin = performance.now();
  const r = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const ms = performance.now() - begin;
  const dec = new TextDecoder();
  return { ms, code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const image = await ensureBusyboxImage();
const id = crypto.randomUUID().slice(0, 6);
const home = await Deno.makeTempDir({ prefix: "dspy-agent-bench-cli-" });
const composeDir = await Deno.makeTempDir({ prefix: "dspy-agent-bench-compose-" });
const project = `dspy-agent-bench-cli-${id}`;
const env: Record<string, string> = {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? home,
  DSPY_AGENT_HOME: home,
  ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${freePort()}`,
  ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${freePort()}`,
  NO_COLOR: "1",
};
await Deno.writeTextFile(
  `${home}/config.toml`,
  `project = "${project}"\n[services]\nredis = false\n[services.web]\nimage = "${image}"\n` +
    `command = ["sh", "-c", "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www"]\n` +
    `ports = ["${freePort()}:8080"]\n[services.web.health]\nkind = "http"\nport = 8080\npath = "/health"\n`,
);
await Deno.writeTextFile(
  `${composeDir}/docker-compose.yml`,
  `version: "3"\nservices:\n  web:\n    image: ${image}\n    command: ["sleep", "3600"]\n`,
);
// A second state folder whose daemon runs no service: its `status` makes no
// Docker stats call, which isolates the CLI's and the daemon's own cost.
const idleHome = await Deno.makeTempDir({ prefix: "dspy-agent-bench-cli-idle-" });
await Deno.writeTextFile(`${idleHome}/config.toml`, `project = "${project}-idle"\n[services]\nredis = false\n`);
const idleEnv: Record<string, string> = {
  ...env,
  DSPY_AGENT_HOME: idleHome,
  ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${freePort()}`,
  ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${freePort()}`,
};
const composeProject = `dspybenchcli${id}`;
const compose = ["docker-compose", "-p", composeProject, "-f", `${composeDir}/docker-compose.yml`];

try {
  const cold = await timed([...CLI, "start"], env);
  if (cold.code !== 0) throw new Error(`dspy-agent start failed (${cold.code}):\n${cold.out}`);
  const idle = await timed([...CLI, "start"], idleEnv);
  if (idle.code !== 0) throw new Error(`dspy-agent start (no services) failed (${idle.code}):\n${idle.out}`);
  const up = await timed([...compose, "up", "-d"], env);
  if (up.code !== 0) throw new Error(`docker-compose up failed:\n${up.out}`);

  const commands: [string, string[], Record<string, string>?][] = [
    ["dspy-agent status", [...CLI, "status"]],
    ["dspy-agent status (no service running)", [...CLI, "status"], idleEnv],
    ["dspy-agent start (all running)", [...CLI, "start"]],
    ["dspy-agent --help", [...CLI, "--help"]],
    ["dspy-agent version", [...CLI, "version"]],
    ["docker-compose ps", [...compose, "ps"]],
  ];
  const times = new Map(commands.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < runs + 1; i++) {
    for (const [name, argv, runEnv] of commands) {
      const r = await timed(argv, runEnv ?? env);
      if (r.code !== 0) throw new Error(`${name} failed (${r.code}):\n${r.out}`);
      if (i > 0) times.get(name)!.push(r.ms); // the first round warms caches
    }
  }
  const reference = median(times.get("docker-compose ps")!);
  console.log(`\nbench/cli: ${runs} runs each, interleaved; medians (min–max)\n`);
  console.log(`${"command".padEnd(40)} ${"median".padStart(9)} ${"range".padStart(15)}  vs compose ps`);
  for (const [name, xs] of times) {
    const m = median(xs);
    const range = `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
    console.log(
      `${name.padEnd(40)} ${m.toFixed(0).padStart(6)} ms ${range.padStart(15)}  ${(m / reference).toFixed(2)}×`,
    );
  }
  const ratio = median(times.get("dspy-agent status")!) / reference;
  console.log(
    `\nstatus / docker-compose ps = ${ratio.toFixed(2)} (target ≤ 0.50: ${ratio <= 0.5 ? "met" : "NOT met"})`,
  );
  console.log(
    `cold start (daemon + 1 service) = ${cold.ms.toFixed(0)} ms; docker-compose up -d = ${up.ms.toFixed(0)} ms`,
  );

  console.log("\nThe daemon's share: RPCs that status makes (median of 5, in-process):");
  for (const [procedure, ms] of await measureRpcLatency(env.ORCHESTRATOR_GRPC_ADDR, 5)) {
    console.log(`  ${procedure.padEnd(58)} ${ms.toFixed(0).padStart(5)} ms`);
  }
  console.log("\nThe CLI's share: process start-up and module loading (median of 5 fresh processes):");
  for (const [what, ms] of await measureModuleLoading({ cli: CLI.slice(0, 5), root: ROOT, runs: 5 })) {
    console.log(`  ${what.padEnd(58)} ${ms.toFixed(0).padStart(5)} ms`);
  }
} finally {
  await timed([...CLI, "stop", "--remove", "--force"], env);
  await timed([...CLI, "stop", "--force"], idleEnv);
  await Deno.remove(idleHome, { recursive: true }).catch(() => {});
  await removeProject(project);
  await removeProject(`${project}-idle`);
  await timed([...compose, "down", "-t", "1"], env);
  await Deno.remove(home, { recursive: true }).catch(() => {});
  await Deno.remove(composeDir, { recursive: true }).catch(() => {});
}
