/**
 * Running the real `dspy-agent` CLI as a subprocess for the CLI tests: a
 * fresh state folder, free loopback ports, and cleanup of any daemon the
 * test started (by the pid in `daemon.json`).
 *
 * @module
 */

import { cliCommand, freePort } from "./daemon.ts";

/** A state folder with its own ports, for one test. */
export interface CliEnv extends AsyncDisposable {
  /** DSPY_AGENT_HOME. */
  home: string;
  /** ORCHESTRATOR_GRPC_ADDR. */
  grpcAddr: string;
  /** ORCHESTRATOR_HTTP_ADDR. */
  httpAddr: string;
  /** The environment passed to every run. */
  env: Record<string, string>;
  /** Runs the CLI and collects its output. */
  run(args: string[], options?: { env?: Record<string, string>; signal?: AbortSignal }): Promise<CliResult>;
}

/** The outcome of one CLI run. */
export interface CliResult {
  /** The exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr, without Deno's permission warning. */
  stderr: string;
}

/** Options of {@linkcode createCliEnv}. */
export interface CliEnvOptions {
  /** config.toml text for the state folder. */
  configToml?: string;
  /** More environment. */
  env?: Record<string, string>;
}

/**
 * Creates a state folder with free ports. Disposing it stops any daemon
 * started there, removes the folder and, when the config names a `project`,
 * removes every Docker resource of that project by label and asserts none is left.
 */
export async function createCliEnv(options: CliEnvOptions = {}): Promise<CliEnv> {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-cli-" });
  if (options.configToml !== undefined) await Deno.writeTextFile(`${home}/config.toml`, options.configToml);
  const grpcAddr = `127.0.0.1:${await freePort()}`;
  const httpAddr = `127.0.0.1:${await freePort()}`;
  const env: Record<string, string> = {
    DSPY_AGENT_HOME: home,
    ORCHESTRATOR_GRPC_ADDR: grpcAddr,
    ORCHESTRATOR_HTTP_ADDR: httpAddr,
    NO_COLOR: "1",
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? home,
    ...options.env,
  };
  return {
    home,
    grpcAddr,
    httpAddr,
    env,
    run: (args, runOptions) => runCli(args, { env: { ...env, ...runOptions?.env }, signal: runOptions?.signal }),
    async [Symbol.asyncDispose]() {
      await killDaemon(home);
      await Deno.remove(home, { recursive: true }).catch(() => {});
      const project = options.configToml?.match(/^project = "([^"]+)"/m)?.[1];
      if (project) await removeProject(project);
      // Whatever this folder's daemon made under its default project (its objects carry the folder's path), so a
      // run of the suite leaves no network behind: Docker has address pools for about thirty.
      await removeHomeObjects(home);
    },
  };
}

/** Runs `deno run -P=dspy-agent src/main.ts ARGS` with exactly the given environment. */
export async function runCli(
  args: string[],
  options: { env: Record<string, string>; signal?: AbortSignal },
): Promise<CliResult> {
  const { cmd, args: base } = cliCommand();
  const out = await new Deno.Command(cmd, {
    args: [...base, ...args],
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: withoutDenoNoise(decoder.decode(out.stderr)) };
}

/** Drops Deno's "Permissions in the config file is an experimental feature" warning. */
export function withoutDenoNoise(text: string): string {
  return text.split("\n").filter((l) => !l.includes("Permissions in the config file")).join("\n");
}

/** Stops a daemon left running in a state folder (SIGKILL after 10 s), waiting until it is gone. */
export async function killDaemon(home: string): Promise<void> {
  let pid: number | undefined;
  try {
    pid = JSON.parse(await Deno.readTextFile(`${home}/daemon.json`)).pid;
  } catch {
    return;
  }
  if (!pid) return;
  const alive = () => {
    try {
      Deno.kill(pid!, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  Deno.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) Deno.kill(pid, "SIGKILL");
}

/** config.toml for a unique project with the built-in redis off and the given services. */
export function projectToml(project: string, services: string): string {
  return `project = "${project}"\nhealth_timeout_seconds = 20\n\n[services]\nredis = false\n\n${services}`;
}

/** A busybox web service answering /health on 8080 after `delay` seconds, published on `port`. */
export function webService(name: string, image: string, port: number, delay = 0): string {
  return `[services.${name}]
image = "${image}"
command = ["sh", "-c", "echo hello from ${name}; sleep ${delay}; mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www"]
ports = ["${port}:8080"]
required = true
[services.${name}.health]
kind = "http"
port = 8080
path = "/health"
`;
}

/** A CLI process still running, for tests that interrupt it. */
export interface RunningCli {
  /** Resolves once stdout contains the text (rejects after `timeoutMs`). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal. */
  kill(signal: Deno.Signal): void;
  /** Resolves with the result when it exits. */
  result: Promise<CliResult>;
}

/** Starts the CLI without waiting for it to end. */
export function spawnCli(args: string[], env: Record<string, string>): RunningCli {
  const { cmd, args: base } = cliCommand();
  const child = new Deno.Command(cmd, {
    args: [...base, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  let stdout = "";
  let stderr = "";
  const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) add(chunk);
  };
  const drained = Promise.all([drain(child.stdout, (s) => stdout += s), drain(child.stderr, (s) => stderr += s)]);
  const result = child.status.then(async (s) => {
    await drained;
    return { code: s.code, stdout, stderr: withoutDenoNoise(stderr) };
  });
  return {
    result,
    kill: (signal) => child.kill(signal),
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes(text)) {
        if (Date.now() > deadline) {
          throw new Error(`"${text}" did not appear; stdout so far:\n${stdout}\nstderr:\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A unique project name for one test: `dspy-agent-test-cli-<name>-<random>`. */
export function testProject(name: string): string {
  return `dspy-agent-test-cli-${name}-${crypto.randomUUID().slice(0, 6)}`;
}

/** Removes the containers, networks and volumes labelled with a project, then asserts nothing is left. */
/** Removes every Docker object labelled with this state folder (its daemon's default-project stack). */
async function removeHomeObjects(home: string): Promise<void> {
  const { removeByLabel } = await import("./docker.ts");
  const { LABEL_HOME, createEngine } = await import("../../src/env/mod.ts");
  const engine = createEngine({ dockerHost: Deno.env.get("DOCKER_HOST") ?? "unix:///var/run/docker.sock" });
  // No engine (a test of the CLI without Docker): nothing was made.
  if (!(await engine.ping({ signal: AbortSignal.timeout(2000) }).then(() => true, () => false))) return;
  await removeByLabel(engine, { [LABEL_HOME]: home }).catch(() => {});
}

export async function removeProject(project: string): Promise<void> {
  const { assertNothingLeft, ensureDockerEngine, removeByLabel } = await import("./docker.ts");
  const { LABEL_PROJECT } = await import("../../src/env/mod.ts");
  const engine = await ensureDockerEngine();
  await removeByLabel(engine, { [LABEL_PROJECT]: project });
  await assertNothingLeft(engine, { [LABEL_PROJECT]: project });
}
