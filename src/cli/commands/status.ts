/**
 * `dspy-agent status`: the daemon, a table of services and task counts.
 * With no daemon it prints one line saying how to start it and exits 3.
 *
 * @module
 */

import type { DaemonClient, Health, ServiceStatus } from "../../client/mod.ts";
import { type CommandContext, configOf } from "../context.ts";
import { findDaemon } from "../daemon_connection.ts";
import { CommandFailedError, ExitCode } from "../errors.ts";
import { delay } from "../../async/mod.ts";
import { probeHealth } from "../lifecycle/wait_health.ts";
import { formatBytes, formatDuration } from "../output/format.ts";
import { renderTable } from "../output/table.ts";
import type { Output } from "../output/terminal.ts";

/** Everything `status` shows. */
export interface StatusSnapshot {
  /** The daemon's facts. */
  daemon: {
    pid: number;
    version: string;
    commit: string;
    healthy: boolean;
    grpcAddress: string;
    httpAddress: string;
    uptimeSeconds: number;
    stateDir: string;
    components: Record<string, string>;
  };
  /** One entry per defined service. */
  services: {
    name: string;
    status: string;
    health: string;
    ports: string[];
    startedAt: number;
    cpuPercent: number;
    memoryBytes: number;
    required: boolean;
    enabled: boolean;
    message: string;
  }[];
  /** Why services are unknown (for example Docker is unavailable). */
  servicesError?: string;
  /** Task counts from GetMetrics. */
  tasks: { pending: number; running: number; completed: number; failed: number; total: number };
}

/** Runs `status`. */
export async function run(ctx: CommandContext): Promise<number> {
  const config = await configOf(ctx);
  const found = await findDaemon(ctx, config);
  const client = found.client;
  const watch = ctx.values.watch === true && !ctx.globals.json;
  let health = found.health;
  while (true) {
    health ??= await probeHealth(client, { signal: ctx.signal });
    if (!health) {
      // One line, as scripts and people read it.
      throw new CommandFailedError(
        `No daemon is running at ${client.address}: start it with \`dspy-agent start\``,
        ExitCode.daemonNotRunning,
      );
    }
    const snapshot = await collect(client, health, ctx.signal);
    if (ctx.globals.json) {
      ctx.output.writeJson(snapshot);
      return ExitCode.ok;
    }
    const lines = render(snapshot, ctx.output, ctx.values.all === true);
    if (!watch) {
      ctx.output.line(lines.join("\n"));
      return ExitCode.ok;
    }
    ctx.output.write(`\x1b[H\x1b[2J${lines.join("\n")}\n\n${ctx.output.colors.dim("Every 2s · Ctrl-C to quit")}\n`);
    health = undefined;
    try {
      await delay(2000, ctx.signal);
    } catch {
      return ExitCode.ok; // Ctrl-C ends a watch
    }
  }
}

async function collect(client: DaemonClient, health: Health, signal: AbortSignal): Promise<StatusSnapshot> {
  const [services, metrics] = await Promise.all([
    // The daemon answers even when Docker does not: show it, and say why services are unknown.
    client.getServicesStatus({}, { signal, timeoutMs: 10_000 }).catch((error: Error) => {
      signal.throwIfAborted();
      return error;
    }),
    client.getMetrics({}, { signal, timeoutMs: 5000 }).catch(() => ({} as Record<string, number>)),
  ]);
  const m = metrics;
  return {
    daemon: {
      pid: Number(health.pid),
      version: health.version,
      commit: health.commit,
      healthy: health.healthy,
      grpcAddress: health.grpcAddress || client.address,
      httpAddress: health.httpAddress,
      uptimeSeconds: health.uptimeSeconds,
      stateDir: health.stateDir,
      components: { ...health.services },
    },
    services: services instanceof Error
      ? []
      : Object.values(services).sort((a, b) => a.name.localeCompare(b.name)).map(serviceEntry),
    servicesError: services instanceof Error
      ? ((services as { rawMessage?: string }).rawMessage ?? services.message)
      : undefined,
    tasks: {
      pending: m.tasks_pending ?? 0,
      running: m.tasks_running ?? 0,
      completed: m.tasks_completed ?? 0,
      failed: m.tasks_failed ?? 0,
      total: m.tasks_tracked_total ?? 0,
    },
  };
}

function serviceEntry(s: ServiceStatus): StatusSnapshot["services"][number] {
  // health_checks carries kind, state and, once probed, healthy and detail (src/env/stack_status.ts).
  const h = s.healthChecks;
  const health = h.kind === "none" ? "-" : h.healthy === "true" ? "healthy" : h.healthy === "false" ? "unhealthy" : "-";
  return {
    name: s.name,
    status: s.status,
    health,
    ports: s.portMappings.length ? s.portMappings : s.ports.map(String),
    startedAt: Number(s.startedAt),
    cpuPercent: s.resourceUsage.cpuPercent,
    memoryBytes: s.resourceUsage.memoryBytes,
    required: s.required,
    enabled: s.enabled,
    message: s.message,
  };
}

function render(snapshot: StatusSnapshot, output: Output, all: boolean): string[] {
  const c = output.colors;
  const d = snapshot.daemon;
  const state = d.healthy ? c.green("healthy") : c.yellow("starting");
  const lines = [
    `${c.bold("Daemon")}  ${state}  pid ${d.pid}  v${d.version}${d.commit ? ` (${d.commit})` : ""}  up ${
      formatDuration(d.uptimeSeconds * 1000)
    }`,
    `        grpc ${d.grpcAddress}  http ${d.httpAddress || "-"}${d.stateDir ? `  state ${d.stateDir}` : ""}`,
    "",
  ];
  // Disabled services that are not running are noise unless asked for (--all).
  const shown = snapshot.services.filter((s) => all || s.enabled || s.status !== "stopped");
  const hidden = snapshot.services.length - shown.length;
  if (snapshot.servicesError) lines.push(c.red(`Services unknown: ${snapshot.servicesError}`));
  else if (shown.length === 0) lines.push(c.dim("No services enabled."));
  else {
    const now = Date.now() / 1000;
    const colour = (s: string) =>
      s === "running"
        ? c.green(s)
        : s === "failed" || s === "unhealthy"
        ? c.red(s)
        : s === "starting"
        ? c.yellow(s)
        : c.dim(s);
    lines.push(
      ...renderTable(
        ["SERVICE", "STATE", "HEALTH", "PORTS", "UPTIME", "CPU", "MEMORY"],
        shown.map((s) => [
          s.name,
          colour(s.status),
          s.health,
          s.ports.join(", ") || "-",
          s.status === "running" && s.startedAt > 0 ? formatDuration((now - s.startedAt) * 1000) : "-",
          s.status === "running" ? `${s.cpuPercent.toFixed(1)}%` : "-",
          s.status === "running" && s.memoryBytes > 0 ? formatBytes(s.memoryBytes) : "-",
        ]),
      ).map((line, i) => i === 0 ? c.bold(line) : line),
    );
  }
  if (hidden > 0) {
    lines.push(c.dim(`${hidden} disabled ${hidden === 1 ? "service" : "services"} not shown (--all shows them)`));
  }
  const t = snapshot.tasks;
  lines.push(
    "",
    `${c.bold("Tasks")}   ${t.pending} pending  ${t.running} running  ${t.completed} completed  ${t.total} tracked`,
  );
  return lines;
}
