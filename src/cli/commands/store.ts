/**
 * `dspy-agent store backup PATH` and `store check`: the running daemon holds its task store exclusively, so the
 * command asks it over the API; with no daemon running it opens the store itself, read-only.
 *
 * @module
 */

import type { CommandContext } from "../context.ts";
import { findDaemon } from "../daemon_connection.ts";
import { CommandFailedError, ExitCode, UsageError } from "../errors.ts";
import { formatBytes } from "../output/format.ts";

/** Runs `store`. */
export async function run(ctx: CommandContext): Promise<number> {
  const [action, ...rest] = ctx.positionals;
  const { config } = await ctx.loadConfig();
  const { client, health } = await findDaemon(ctx, config);
  try {
    if (action === "backup") {
      if (rest.length !== 1) throw new UsageError("Usage: dspy-agent store backup PATH", { command: "store" });
      const path = rest[0].startsWith("/") ? rest[0] : `${Deno.cwd()}/${rest[0]}`;
      const done = health
        ? await client.backupStore({ path }, { signal: ctx.signal })
        : (await import("../../daemon/mod.ts")).backupStoreFile(config.home, path);
      if (ctx.globals.json) ctx.output.writeJson({ ...done, online: Boolean(health) });
      else {
        ctx.output.line(
          `Backed up the task store to ${done.path} (${formatBytes(done.bytes)}${health ? ", online" : ""}).`,
        );
      }
      return ExitCode.ok;
    }
    if (action === "check") {
      const result = health
        ? await client.checkStore({ signal: ctx.signal })
        : (await import("../../daemon/mod.ts")).checkStoreFile(config.home);
      if (ctx.globals.json) ctx.output.writeJson(result);
      else ctx.output.line(`${result.path}: ${result.ok ? "ok" : result.detail}`);
      if (!result.ok) {
        throw new CommandFailedError(`The task store "${result.path}" is damaged: ${result.detail}`, ExitCode.failure, {
          hint: "Stop the daemon, move the file aside, and put back a copy made by `dspy-agent store backup`.",
        });
      }
      return ExitCode.ok;
    }
    throw new UsageError("Usage: dspy-agent store backup PATH | store check", { command: "store" });
  } finally {
    client.close();
  }
}
