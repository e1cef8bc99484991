/**
 * The state-folder lock (`daemon.lock`, one daemon per folder) and `daemon.json`, which tells the CLI where the
 * daemon listens.
 *
 * @module
 */
import { DaemonAlreadyRunningError } from "./errors.ts";

/** The file a running daemon describes itself in, inside the state folder. */
export const DAEMON_FILE = "daemon.json";

/** What `<home>/daemon.json` holds while a daemon runs. */
export interface DaemonFile {
  pid: number;
  version: string;
  grpcAddr: string;
  httpAddr: string;
  startedAt: number;
}

/** An exclusive hold on a state folder for one daemon's lifetime. */
export interface DaemonLock extends AsyncDisposable {
  /** Publishes the daemon's facts in `<home>/daemon.json`. */
  publish(info: DaemonFile): Promise<void>;
}

/**
 * Takes the exclusive lock `<home>/daemon.lock`, so two daemons never share a
 * state folder. The operating system drops the lock when the process dies,
 * even by kill -9, so a stale lock never blocks a restart.
 */
export async function acquireDaemonLock(home: string): Promise<DaemonLock> {
  await Deno.mkdir(home, { recursive: true });
  const file = await Deno.open(`${home}/daemon.lock`, {
    create: true,
    write: true,
  });
  // Deno has no try-lock: a lock not granted at once means another daemon holds it.
  const granted = await Promise.race([
    file.lock(true).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 500)),
  ]);
  if (!granted) {
    const other = await readDaemonFile(home);
    file.close();
    throw new DaemonAlreadyRunningError(home, other?.pid);
  }
  const infoPath = `${home}/${DAEMON_FILE}`;
  return {
    async publish(info) {
      const tmp = `${infoPath}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify(info, null, 2) + "\n");
      await Deno.rename(tmp, infoPath);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(infoPath).catch(() => {});
      await file.unlock().catch(() => {});
      file.close();
    },
  };
}

/** Reads `<home>/daemon.json`, or undefined when no daemon has published one. */
export async function readDaemonFile(
  home: string,
): Promise<DaemonFile | undefined> {
  try {
    return JSON.parse(
      await Deno.readTextFile(`${home}/${DAEMON_FILE}`),
    ) as DaemonFile;
  } catch {
    return undefined;
  }
}
