/**
 * `dspy-agent start --foreground`: the daemon runs in this process, the
 * services start with the same live view, and Ctrl-C (or SIGTERM) stops the
 * services and then the daemon.
 *
 * @module
 */

import type { Config } from "../../../config/mod.ts";
import type { CommandContext } from "../../context.ts";
import { clientFor } from "../../daemon_connection.ts";
import { ExitCode, ServicesFailedError } from "../../errors.ts";
import { waitForHealth } from "../../lifecycle/wait_health.ts";
import { LiveView } from "../../output/live_view.ts";
import { followStart } from "./start_progress.ts";

/** Runs the daemon here, starts the services, then serves until Ctrl-C or SIGTERM. */
export async function runForeground(ctx: CommandContext, config: Config, timeoutSeconds: number): Promise<number> {
  const [{ runDaemon }, { createLogger }] = await Promise.all([
    import("../../../daemon/mod.ts"),
    import("../../../log/mod.ts"),
  ]);
  let release!: () => void;
  const stop = new Promise<void>((resolve) => release = resolve);
  const client = await clientFor(ctx, config);
  // Like `docker compose up`: ending the foreground run stops its services, then the daemon.
  const stopEverything = async () => {
    ctx.output.error("Stopping services…");
    await client.stopServices({ serviceNames: ctx.positionals }, { signal: AbortSignal.timeout(60_000) }).catch(
      () => {},
    );
    release();
  };
  ctx.signal.addEventListener("abort", () => void stopEverything(), { once: true });
  Deno.addSignalListener("SIGTERM", () => void stopEverything());
  let daemonFailed: unknown;
  // The configuration is loaded once per command: this is the provenance of the `config` given.
  const { provenance } = await ctx.loadConfig();
  const daemon = runDaemon(config, { logger: createLogger({ level: config.logLevel }), stopWhen: stop, provenance })
    .catch((error) => {
      daemonFailed = error;
      throw error;
    });
  const exited = daemon.then(() => 0, () => 1);
  const view = ctx.globals.json ? undefined : new LiveView({ output: ctx.output });
  try {
    await waitForHealth({ client, home: config.home, timeoutSeconds, exited, signal: ctx.signal }).catch((error) => {
      throw daemonFailed ?? error;
    });
    const { outcomes, failures } = await followStart(
      client.startServices(
        { serviceNames: ctx.positionals, parallel: true, gpu: config.gpu },
      ),
      view,
    );
    view?.close();
    if (ctx.globals.json) ctx.output.writeJson({ ok: failures.length === 0, services: outcomes });
    if (failures.length > 0) throw new ServicesFailedError(failures);
    ctx.output.error("Daemon running in the foreground; press Ctrl-C to stop it.");
  } catch (error) {
    view?.close();
    if (!ctx.signal.aborted) {
      // Stop the in-process daemon before reporting, so the failure leaves nothing behind.
      release();
      await exited;
    }
    throw error;
  }
  await daemon;
  return ExitCode.ok;
}
