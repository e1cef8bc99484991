/**
 * `runDaemon`: the daemon in the foreground: the state-folder lock, `startDaemon`, signals, and a clean exit.
 *
 * @module
 */
import type { Config, ConfigSource } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { VERSION } from "../version.ts";
import { startDaemon } from "./daemon.ts";
import { acquireDaemonLock } from "./lock.ts";

/** Options of {@linkcode runDaemon}. */
export interface RunDaemonOptions {
  logger: Logger;
  /** Resolves when the daemon should stop. @default {SIGTERM or SIGINT} */
  stopWhen?: Promise<unknown>;
  /** Where each setting came from, for GetConfig. @default {{}} */
  provenance?: Record<string, ConfigSource>;
}

/**
 * Runs the daemon in the foreground (`dspy-agent serve`) until SIGTERM or
 * SIGINT, then stops accepting, ends open streams and returns. Throws
 * `DaemonAlreadyRunningError`, `AddressInUseError` or the error that stopped
 * start-up; the CLI maps them to messages and exit codes.
 */
export async function runDaemon(
  config: Config,
  options: RunDaemonOptions,
): Promise<void> {
  // Listening from the start: a SIGTERM that arrives while the daemon starts stops it once it is up.
  using signals = options.stopWhen ? undefined : stopSignal();
  const stop = options.stopWhen ?? signals!.received;
  await using lock = await acquireDaemonLock(config.home);
  await using daemon = await startDaemon(config, { logger: options.logger, provenance: options.provenance });
  await lock.publish({
    pid: Deno.pid,
    version: VERSION,
    grpcAddr: daemon.grpcAddress,
    httpAddr: daemon.httpAddress,
    startedAt: Date.now(),
  });
  await stop;
}

/** Resolves `received` on the first SIGTERM or SIGINT; disposing stops listening. */
function stopSignal(): { received: Promise<string> } & Disposable {
  // Windows only delivers SIGINT and SIGBREAK to a console program.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGTERM", "SIGINT"];
  let handlers: (readonly [Deno.Signal, () => void])[] = [];
  const stopListening = () => {
    handlers.forEach(([s, h]) => Deno.removeSignalListener(s, h));
    handlers = [];
  };
  const received = new Promise<string>((resolve) => {
    handlers = signals.map((signal) => {
      const handler = () => {
        stopListening();
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
  });
  return { received, [Symbol.dispose]: stopListening };
}
