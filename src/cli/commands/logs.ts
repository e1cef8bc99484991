/**
 * `dspy-agent logs`: service logs multiplexed with a coloured prefix per
 * service, like compose; `daemon` reads the daemon's own log file.
 * Ctrl-C ends a follow cleanly (exit 0).
 *
 * @module
 */

import type { LogEntry } from "../../client/mod.ts";
import { type CommandContext, configOf } from "../context.ts";
import { requireDaemon } from "../daemon_connection.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { statePaths } from "../lifecycle/state_files.ts";
import { followFile } from "../lifecycle/follow_file.ts";
import { parseSince } from "../output/format.ts";

/** Runs `logs`. */
export async function run(ctx: CommandContext): Promise<number> {
  const tail = ctx.values.tail === undefined ? 0 : Number(ctx.values.tail);
  if (!Number.isInteger(tail) || tail < 0) {
    throw new UsageError(`Invalid --tail "${ctx.values.tail}"`, { command: "logs" });
  }
  const since = ctx.values.since === undefined ? 0 : parseSince(String(ctx.values.since), Date.now());
  if (since === undefined) throw new UsageError(`Invalid --since "${ctx.values.since}"`, { command: "logs" });
  const follow = ctx.values.follow === true;
  const config = await configOf(ctx);
  const names = ctx.positionals;
  try {
    if (names.length === 1 && names[0] === "daemon") {
      await followFile({
        path: statePaths(config.home).daemonLog,
        tail,
        follow,
        signal: ctx.signal,
        write: (l) => ctx.output.line(l),
      });
      return ExitCode.ok;
    }
    const { client } = await requireDaemon(ctx, config);
    const services = names.length > 0
      ? names
      : Object.values(await client.getServicesStatus({}, { signal: ctx.signal }))
        .filter((s) => s.containerId !== "") // services that never ran have no logs
        .map((s) => s.name)
        .sort();
    if (services.length === 0) {
      ctx.output.error("No service has run yet: nothing to show. Start them with `dspy-agent start`.");
      return ExitCode.ok;
    }
    const width = Math.max(...services.map((s) => s.length));
    const prefix = (name: string) => ctx.output.colors.palette(services.indexOf(name), `${name.padEnd(width)} |`);
    await Promise.all(services.map(async (serviceName) => {
      const stream = client.streamLogs(
        { serviceName, follow, tail, sinceTimestamp: since, timestamps: ctx.values.timestamps === true },
        { signal: ctx.signal },
      );
      for await (const entry of stream) {
        for (const line of entry.message.replace(/\r?\n$/, "").split("\n")) {
          const time = ctx.values.timestamps ? `${formatTimestamp(entry)} ` : "";
          ctx.output.line(`${prefix(serviceName)} ${time}${line}`);
        }
      }
    }));
  } catch (error) {
    // Ctrl-C is how a follow ends: not a failure.
    if (follow && ctx.signal.aborted) return ExitCode.ok;
    throw error;
  }
  return ExitCode.ok;
}

function formatTimestamp(entry: LogEntry): string {
  if (entry.timestampNanos) {
    const nanos = BigInt(entry.timestampNanos);
    const ms = Number(nanos / 1_000_000n);
    return new Date(ms).toISOString().replace("Z", `${String(nanos % 1_000_000n).padStart(6, "0")}Z`).replace(
      /\.(\d{3})(\d{6})Z$/,
      ".$1$2Z",
    );
  }
  return new Date(Number(entry.timestamp) * 1000).toISOString();
}
