/**
 * `dspy-agent workers`: the workers connected to the daemon (the worker protocol's ListWorkers).
 *
 * @module
 */

import { type CommandContext, configOf } from "../context.ts";
import { requireDaemon } from "../daemon_connection.ts";
import { ExitCode } from "../errors.ts";
import { formatDuration } from "../output/format.ts";
import { renderTable } from "../output/table.ts";

/** Runs `workers`. */
export async function run(ctx: CommandContext): Promise<number> {
  const { client } = await requireDaemon(ctx, await configOf(ctx));
  try {
    const workers = await client.listWorkers({ signal: ctx.signal });
    if (ctx.globals.json) {
      ctx.output.writeJson({ workers });
      return ExitCode.ok;
    }
    if (workers.length === 0) {
      ctx.output.line(
        "No workers. Start one with the Python package: Worker(...).run() (see the README, From Python).",
      );
      return ExitCode.ok;
    }
    const now = Date.now();
    const rows = workers.map((w) => [
      w.name,
      w.state,
      `${w.running}/${w.slots}`,
      formatDuration(Math.max(0, now - w.lastHeartbeatMs)) + " ago",
      w.taskTypes.join(","),
    ]);
    ctx.output.line(renderTable(["NAME", "STATE", "BUSY", "HEARTBEAT", "TASK TYPES"], rows).join("\n"));
    return ExitCode.ok;
  } finally {
    client.close();
  }
}
