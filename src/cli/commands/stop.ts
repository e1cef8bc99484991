/**
 * `dspy-agent stop`: stop services in reverse dependency order (the daemon
 * orders them), then the daemon unless services were named. Stopping when
 * nothing runs is not an error.
 *
 * @module
 */

import { type CommandContext, configOf } from "../context.ts";
import { findDaemon } from "../daemon_connection.ts";
import { CommandFailedError, ExitCode, UsageError } from "../errors.ts";
import { isProcessAlive, readDaemonInfo } from "../lifecycle/state_files.ts";
import { stopDaemonProcess } from "../lifecycle/stop_daemon.ts";
import { parseSeconds } from "../output/format.ts";

/** Runs `stop`. */
export async function run(ctx: CommandContext): Promise<number> {
  const timeoutSeconds = parseSeconds(String(ctx.values.timeout ?? "10"));
  if (timeoutSeconds === undefined) {
    throw new UsageError(`Invalid --timeout "${ctx.values.timeout}"`, { command: "stop" });
  }
  const force = ctx.values.force === true;
  const config = await configOf(ctx);
  const { client, health } = await findDaemon(ctx, config);
  const out = ctx.output;
  const c = out.colors;
  const result: { services: Record<string, string>; daemon: string } = { services: {}, daemon: "not running" };
  const info = await readDaemonInfo(config.home, ctx.signal);
  const pid = Number(health?.pid ?? 0) || info?.pid;
  let failed = false;
  let servicesError: unknown;

  if (health) {
    const response = await client.stopServices(
      {
        serviceNames: ctx.positionals,
        timeoutSeconds: Math.ceil(timeoutSeconds),
        remove: ctx.values.remove === true,
        removeVolumes: ctx.values.volumes === true,
      },
      { signal: ctx.signal, timeoutMs: (timeoutSeconds + 30) * 1000 },
    ).catch((error) => {
      // Services cannot be stopped (for example Docker is down): the daemon still stops; the error is reported last.
      ctx.signal.throwIfAborted();
      servicesError = error;
      return { success: false, serviceResults: {} as Record<string, string> };
    });
    result.services = { ...response.serviceResults };
    failed = !response.success;
    if (!ctx.globals.json) {
      for (const [name, outcome] of Object.entries(response.serviceResults)) {
        const mark = outcome.startsWith("error") ? c.red("✗") : c.green("✓");
        out.line(`${mark} ${name.padEnd(20)} ${outcome}`);
      }
    }
  } else if (ctx.positionals.length > 0) {
    if (!ctx.globals.json) out.line("Nothing to stop: the daemon is not running.");
  }

  if (ctx.positionals.length === 0 && pid && (health || isProcessAlive(pid))) {
    // The daemon's own graceful exit (ending streams, closing the store) gets at least 10 s.
    result.daemon = await stopDaemonProcess({
      pid,
      timeoutSeconds: Math.max(timeoutSeconds, 10),
      force,
      signal: ctx.signal,
    });
    if (!ctx.globals.json) {
      const mark = result.daemon === "still running" ? c.red("✗") : c.green("✓");
      out.line(`${mark} ${"daemon".padEnd(20)} ${result.daemon === "exited" ? "stopped" : result.daemon} (pid ${pid})`);
    }
  } else if (!health && ctx.positionals.length === 0 && !ctx.globals.json) {
    out.line("Nothing to stop: the daemon is not running.");
  }

  if (ctx.globals.json) out.writeJson({ ok: !failed && result.daemon !== "still running", ...result });
  else if (health && ctx.values.remove !== true && Object.keys(result.services).length > 0) {
    out.line(c.dim("The stopped containers and the network remain; `dspy-agent down` removes them."));
  }
  if (result.daemon === "still running") {
    throw new CommandFailedError(
      `Cannot stop the daemon (pid ${pid}): still running after ${Math.max(timeoutSeconds, 10)} s`,
      ExitCode.failure,
      {
        hint: "Run `dspy-agent stop --force` to kill it.",
      },
    );
  }
  if (servicesError) throw servicesError;
  if (failed) {
    throw new CommandFailedError("Cannot stop every service", ExitCode.failure, {
      hint: "Try `dspy-agent stop --force`.",
    });
  }
  return ExitCode.ok;
}
