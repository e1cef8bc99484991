/**
 * Spawns `dspy-agent serve` detached, in its own session, with its output
 * appended to `<home>/logs/daemon.log`, so it outlives the `start` that made it.
 *
 * @module
 */

import { statePaths } from "./state_files.ts";

/** How to run `serve`: the program and its arguments. */
export interface ServeCommand {
  /** The executable. */
  program: string;
  /** Its arguments, ending with `serve` and forwarded options. */
  args: string[];
}

/** Options of {@linkcode serveCommand}. */
export interface ServeCommandOptions {
  /** `--config FILE` to forward. */
  configFile?: string;
  /** The running executable. @default {Deno.execPath()} */
  execPath?: string;
  /** The URL of src/main.ts. @default {the real one} */
  mainUrl?: string;
}

/**
 * Returns the command that runs `serve`: the binary itself when compiled, else
 * `deno run -P=dspy-agent --config <repo>/deno.json <repo>/src/main.ts serve`.
 */
export function serveCommand(options: ServeCommandOptions = {}): ServeCommand {
  const execPath = options.execPath ?? Deno.execPath();
  const forwarded = options.configFile ? ["--config", options.configFile] : [];
  const base = execPath.split(/[\\/]/).pop() ?? "";
  if (base !== "deno" && base !== "deno.exe") return { program: execPath, args: ["serve", ...forwarded] };
  // compile-safe: only under `deno run`; a compiled binary re-runs itself (branch above)
  const mainUrl = new URL(options.mainUrl ?? new URL("../../main.ts", import.meta.url).href);
  const mainPath = decodeURIComponent(mainUrl.pathname);
  const denoJson = decodeURIComponent(new URL("../deno.json", mainUrl).pathname);
  return {
    program: execPath,
    args: ["run", "-q", "--no-prompt", "-P=dspy-agent", "--config", denoJson, mainPath, "serve", ...forwarded],
  };
}

/** A daemon process this CLI spawned. */
export interface SpawnedDaemon {
  /** Its process id. */
  pid: number;
  /** Resolves with its exit code when it ends. */
  exited: Promise<number>;
  /** Lets this CLI exit while the daemon keeps running. */
  release(): void;
}

/** Options of {@linkcode spawnDaemon}. */
export interface SpawnDaemonOptions {
  /** The state folder (for the log file). */
  home: string;
  /** What to run. */
  command: ServeCommand;
}

/** Starts the daemon detached; its stdout and stderr append to `<home>/logs/daemon.log`. */
export async function spawnDaemon(options: SpawnDaemonOptions): Promise<SpawnedDaemon> {
  const paths = statePaths(options.home);
  await Deno.mkdir(paths.logsDir, { recursive: true });
  await Deno.writeTextFile(
    paths.daemonLog,
    `--- dspy-agent serve started by pid ${Deno.pid} at ${new Date().toISOString()}\n`,
    {
      append: true,
    },
  );
  // Deno.Command cannot send output to a file, so a POSIX shell redirects it and
  // execs the daemon (same pid). `detached` gives it its own session (setsid).
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'log="$1"; shift; exec "$@" >>"$log" 2>&1',
      "sh",
      paths.daemonLog,
      options.command.program,
      ...options.command.args,
    ],
    detached: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    pid: child.pid,
    exited: child.status.then((s) => s.code),
    release: () => child.unref(),
  };
}
