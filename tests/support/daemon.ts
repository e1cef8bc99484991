/**
 * Starts a real daemon (`dspy-agent serve`) as a subprocess under the
 * production permission set, on free loopback ports, with its own state folder.
 * @module
 */
import { createServer } from "node:net";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}src/main.ts`;

/** A daemon subprocess. */
export interface DaemonProcess extends AsyncDisposable {
  /** The state folder. */
  home: string;
  grpcAddr: string;
  httpAddr: string;
  pid: number;
  /** Everything the daemon wrote to stderr and stdout so far. */
  output(): string;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  /** SIGTERM, then waits; returns the exit code. */
  stop(): Promise<number>;
}

/** Options of {@linkcode startDaemonProcess}. */
export interface DaemonProcessOptions {
  /** The state folder. @default {a new temp folder, removed on dispose} */
  home?: string;
  /** config.toml text written into the state folder before start. */
  configToml?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Milliseconds to wait for /health. @default {30000} */
  readyTimeoutMs?: number;
  /** Wait for healthy before returning. @default {true} */
  waitReady?: boolean;
  /** A command the daemon runs under, for example `["ip", "netns", "exec", "NAME"]`. @default {[]} */
  wrap?: string[];
}

/** Returns a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The argv that runs the CLI from source under the production permission set. */
export function cliCommand(): { cmd: string; args: string[] } {
  return {
    cmd: Deno.execPath(),
    args: ["run", "-q", "--no-prompt", "-P=dspy-agent", "--config", `${ROOT}deno.json`, MAIN],
  };
}

/** Starts `dspy-agent serve` and waits until `GET /health` answers ok. */
export async function startDaemonProcess(
  options: DaemonProcessOptions = {},
): Promise<DaemonProcess> {
  const ownHome = options.home === undefined;
  const home = options.home ??
    await Deno.makeTempDir({ prefix: "dspy-agent-daemon-" });
  if (options.configToml !== undefined) {
    await Deno.writeTextFile(`${home}/config.toml`, options.configToml);
  }
  const grpcAddr = options.env?.ORCHESTRATOR_GRPC_ADDR ??
    `127.0.0.1:${await freePort()}`;
  const httpAddr = options.env?.ORCHESTRATOR_HTTP_ADDR ??
    `127.0.0.1:${await freePort()}`;
  const { cmd, args } = cliCommand();
  const wrap = options.wrap ?? [];
  const child = new Deno.Command(wrap.length > 0 ? wrap[0] : cmd, {
    args: wrap.length > 0 ? [...wrap.slice(1), cmd, ...args, "serve"] : [...args, "serve"],
    env: {
      DSPY_AGENT_HOME: home,
      ORCHESTRATOR_GRPC_ADDR: grpcAddr,
      ORCHESTRATOR_HTTP_ADDR: httpAddr,
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await drained;
    return s.code;
  });
  let done = false;
  exited.then(() => (done = true));

  const daemon: DaemonProcess = {
    home,
    grpcAddr,
    httpAddr,
    pid: child.pid,
    output: () => output,
    kill: (signal = "SIGTERM") => {
      if (!done) child.kill(signal);
    },
    exited,
    async stop() {
      daemon.kill("SIGTERM");
      return await exited;
    },
    async [Symbol.asyncDispose]() {
      if (!done) {
        daemon.kill("SIGTERM");
        const timer = setTimeout(() => daemon.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (ownHome) await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
  if (options.waitReady === false) return daemon;
  try {
    await waitHealthy(httpAddr, exited, options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await daemon[Symbol.asyncDispose]();
    throw new Error(
      `${(err as Error).message}\n--- daemon output ---\n${output}`,
    );
  }
  return daemon;
}

async function waitHealthy(
  httpAddr: string,
  exited: Promise<number>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | undefined;
  exited.then((c) => (exitCode = c));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `The daemon exited with code ${exitCode} before it was healthy`,
      );
    }
    try {
      const res = await fetch(`http://${httpAddr}/health`);
      const body = await res.json();
      if (res.ok && body.status === "ok") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The daemon was not healthy within ${timeoutMs} ms`);
}
