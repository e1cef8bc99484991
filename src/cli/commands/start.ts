/**
 * `dspy-agent start`: make sure the daemon runs, start the services, show
 * their progress, and return once every required service is healthy
 * .
 *
 * @module
 */

import type { DaemonClient, Health } from "../../client/mod.ts";
import type { Config } from "../../config/mod.ts";
import { type CommandContext, configOf } from "../context.ts";
import { dashboardUrl, findDaemon } from "../daemon_connection.ts";
import { CommandFailedError, DaemonExitedError, ExitCode, ServicesFailedError, UsageError } from "../errors.ts";
import { acquireStartLock } from "../lifecycle/start_lock.ts";
import { serveCommand, spawnDaemon } from "../lifecycle/spawn_daemon.ts";
import { isProcessAlive, readDaemonInfo, statePaths, tailDaemonLog } from "../lifecycle/state_files.ts";
import { probeHealth, waitForHealth } from "../lifecycle/wait_health.ts";
import { formatDuration, parseSeconds } from "../output/format.ts";
import { LiveView } from "../output/live_view.ts";
import { followStart, type StartResult } from "./parts/start_progress.ts";

/** Runs `start`. */
export async function run(ctx: CommandContext): Promise<number> {
  const timeoutSeconds = parseSeconds(String(ctx.values.timeout ?? "120"));
  if (timeoutSeconds === undefined) {
    throw new UsageError(`Invalid --timeout "${ctx.values.timeout}"`, { command: "start" });
  }
  const config = await configOf(ctx, ctx.values.gpu ? { gpu: true } : undefined);
  if (ctx.values.foreground) {
    const { runForeground } = await import("./parts/start_foreground.ts");
    return await runForeground(ctx, config, timeoutSeconds);
  }
  const began = Date.now();
  const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutSeconds * 1000)]);
  const view = ctx.globals.json ? undefined : new LiveView({ output: ctx.output });
  try {
    await using _lock = await acquireStartLock(
      config.home,
      () => view?.set("daemon", { state: "active", text: "waiting for another `dspy-agent start` to finish" }),
    );
    const daemon = await ensureDaemon({ ctx, config, view, timeoutSeconds });
    const client = daemon.client;
    const started = await startServices({
      ctx,
      config,
      client,
      view,
      signal: deadline,
      daemonPid: Number(daemon.health.pid),
    });
    view?.close();
    return report(ctx, config, { daemon, started, elapsedMs: Date.now() - began });
  } catch (error) {
    view?.close();
    if (deadline.aborted && !ctx.signal.aborted) {
      throw new CommandFailedError(
        `Cannot start services: not ready after ${timeoutSeconds} s`,
        ExitCode.serviceFailed,
        {
          hint: "Run `dspy-agent status` and `dspy-agent logs SERVICE`, or raise --timeout.",
          cause: error,
        },
      );
    }
    throw error;
  }
}

interface DaemonState {
  /** The client of the daemon in use. */
  client: DaemonClient;
  health: Health;
  /** Whether this run started it. */
  spawned: boolean;
}

async function ensureDaemon(parts: {
  ctx: CommandContext;
  config: Config;
  view?: LiveView;
  timeoutSeconds: number;
}): Promise<DaemonState> {
  const { ctx, config, view } = parts;
  const found = await findDaemon(ctx, config);
  const client = found.client;
  const existing = found.health;
  if (existing?.healthy) {
    // Only a start that waited for another one has a daemon line to finish.
    if (view?.rows().some(([name]) => name === "daemon")) {
      view.set("daemon", {
        state: "ok",
        text: `ready on ${existing.grpcAddress || client.address} (pid ${existing.pid})`,
      });
    }
    return { client, health: existing, spawned: false };
  }
  const info = await readDaemonInfo(config.home, ctx.signal);
  if (existing || (info && isProcessAlive(info.pid))) {
    // A daemon runs but is not ready yet (started by systemd or an earlier start): wait for it.
    view?.set("daemon", { state: "active", text: `waiting for pid ${info?.pid ?? existing?.pid}` });
    const health = await waitForHealth({
      client,
      home: config.home,
      timeoutSeconds: parts.timeoutSeconds,
      signal: ctx.signal,
    });
    view?.set("daemon", { state: "ok", text: `ready on ${health.grpcAddress || client.address}` });
    return { client, health, spawned: false };
  }
  view?.set("daemon", { state: "active", text: "starting" });
  const spawned = await spawnDaemon({ home: config.home, command: serveCommand({ configFile: ctx.globals.config }) });
  view?.set("daemon", { state: "active", text: `starting (pid ${spawned.pid})` });
  try {
    const health = await waitForHealth({
      client,
      home: config.home,
      timeoutSeconds: parts.timeoutSeconds,
      exited: spawned.exited,
      signal: ctx.signal,
    });
    view?.set("daemon", {
      state: "ok",
      text: `ready on ${health.grpcAddress || client.address} (pid ${health.pid || spawned.pid})`,
    });
    return { client, health, spawned: true };
  } catch (error) {
    view?.set("daemon", { state: "failed", text: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    spawned.release();
  }
}

async function startServices(parts: {
  ctx: CommandContext;
  config: Config;
  client: DaemonClient;
  view?: LiveView;
  signal: AbortSignal;
  daemonPid: number;
}): Promise<StartResult> {
  const { ctx, client, view } = parts;
  try {
    const stream = client.startServices(
      { serviceNames: ctx.positionals, parallel: true, gpu: parts.config.gpu },
      { signal: parts.signal },
    );
    return await followStart(stream, view);
  } catch (error) {
    parts.signal.throwIfAborted();
    // A broken stream and a daemon that no longer answers: it died (or was killed) while starting services.
    const gone = (parts.daemonPid > 0 && !isProcessAlive(parts.daemonPid)) ||
      (error as { code?: string }).code === "unavailable" && !await probeHealth(client, { timeoutMs: 1000 });
    if (gone) {
      const logFile = statePaths(parts.config.home).daemonLog;
      throw new DaemonExitedError({ logTail: await tailDaemonLog(logFile, 20), logFile, stage: "services" }, {
        cause: error,
      });
    }
    throw error;
  }
}

function report(
  ctx: CommandContext,
  config: Config,
  result: { daemon: DaemonState; started: StartResult; elapsedMs: number },
): number {
  const { outcomes, failures } = result.started;
  const { health } = result.daemon;
  if (ctx.globals.json) {
    ctx.output.writeJson({
      ok: failures.length === 0,
      daemon: {
        pid: Number(health.pid),
        version: health.version,
        grpcAddress: health.grpcAddress,
        started: result.daemon.spawned,
      },
      services: outcomes,
      elapsedMs: result.elapsedMs,
    });
  }
  if (failures.length > 0) throw new ServicesFailedError(failures);
  if (!ctx.globals.json) {
    const c = ctx.output.colors;
    const running = outcomes.filter((o) => o.ok).length;
    const what = outcomes.length === 0 ? "no services enabled" : `${running} of ${outcomes.length} services running`;
    ctx.output.line(
      `${c.green("✓")} Ready in ${
        formatDuration(result.elapsedMs)
      }: ${what}; daemon pid ${health.pid} on ${health.grpcAddress}`,
    );
    ctx.output.line(`  Dashboard: ${dashboardUrl(config)}`);
  }
  return ExitCode.ok;
}
