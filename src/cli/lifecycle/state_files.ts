/**
 * The files the daemon and the CLI share in the state folder, and reading
 * them. The daemon (src/daemon) writes `daemon.json` once both listeners are
 * up and removes it on exit; it holds `daemon.lock` for its lifetime.
 *
 * @module
 */

import process from "node:process";

/** Paths of the lifecycle files in a state folder. */
export interface StatePaths {
  /** `<home>/daemon.json`: pid, version and addresses of the running daemon. */
  daemonInfo: string;
  /** `<home>/daemon.lock`: held by the running daemon. */
  daemonLock: string;
  /** `<home>/start.lock`: serializes concurrent `dspy-agent start`. */
  startLock: string;
  /** `<home>/logs`: the logs folder. */
  logsDir: string;
  /** `<home>/logs/daemon.log`: the detached daemon's output. */
  daemonLog: string;
}

/** Returns the lifecycle file paths of a state folder. */
export function statePaths(home: string): StatePaths {
  return {
    daemonInfo: `${home}/daemon.json`,
    daemonLock: `${home}/daemon.lock`,
    startLock: `${home}/start.lock`,
    logsDir: `${home}/logs`,
    daemonLog: `${home}/logs/daemon.log`,
  };
}

/** What `daemon.json` holds. */
export interface DaemonInfo {
  /** The daemon's process id. */
  pid: number;
  /** The daemon's version. */
  version: string;
  /** The gRPC address it listens on. */
  grpcAddr: string;
  /** The HTTP address it listens on. */
  httpAddr: string;
  /** When it started (ISO text or unix milliseconds). */
  startedAt: string | number;
}

/** Reads `daemon.json`; undefined when there is none or it is unreadable (a daemon mid-exit). */
export async function readDaemonInfo(home: string, signal?: AbortSignal): Promise<DaemonInfo | undefined> {
  try {
    const info = JSON.parse(await Deno.readTextFile(statePaths(home).daemonInfo, { signal }));
    return typeof info?.pid === "number" ? info as DaemonInfo : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Whether a process exists, by signal 0 (node:process; Deno.kill has no
 * signal 0, and /proc needs --allow-all). A process we spawned is reaped by
 * Deno, so a dead child does not linger as a zombie.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Returns the last `lines` lines of the daemon log written since the latest `start` spawned it (empty when there is none). */
export async function tailDaemonLog(path: string, lines: number, signal?: AbortSignal): Promise<string[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  try {
    signal?.throwIfAborted();
    const size = (await file.stat()).size;
    const chunk = Math.min(size, 64 * 1024);
    await file.seek(size - chunk, Deno.SeekMode.Start);
    const buffer = new Uint8Array(chunk);
    let read = 0;
    while (read < chunk) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    const all = text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "" && !isDenoNoise(l));
    // Only this run of the daemon: lines after the last start marker `spawnDaemon` writes.
    const start = all.findLastIndex((l) => l.startsWith("--- dspy-agent serve started"));
    return all.slice(start + 1).slice(-lines);
  } finally {
    file.close();
  }
}

/** Deno's own warning about permissions in deno.json, printed by every `deno run -P` (source runs only). */
function isDenoNoise(line: string): boolean {
  return line.includes("Permissions in the config file is an experimental feature");
}
