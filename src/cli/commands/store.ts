/**
 * `dspy-agent store backup PATH`, `store check` and `store migrate --to URL`: the running daemon holds its task store
 * exclusively, so backup and check ask it over the API; with no daemon running they open the store themselves.
 * `migrate` moves a stopped daemon's SQLite store into an empty PostgreSQL database.
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
    if (action === "migrate") {
      const to = typeof ctx.values.to === "string" ? ctx.values.to : "";
      if (rest.length !== 0 || !/^postgres(ql)?:\/\//.test(to)) {
        throw new UsageError("Usage: dspy-agent store migrate --to postgres://user@host:port/database", {
          command: "store",
        });
      }
      if (health) {
        throw new CommandFailedError(
          "Cannot migrate the task store while the daemon runs: it holds the store.",
          ExitCode.failure,
          { hint: "Run `dspy-agent stop`, migrate, then set `store` (or DSPY_AGENT_STORE_URL) and start again." },
        );
      }
      const { migrateStoreFile } = await import("../../daemon/mod.ts");
      const { maskUrlPassword } = await import("../../config/mod.ts");
      const moved = await migrateStoreFile(config.home, to);
      if (ctx.globals.json) ctx.output.writeJson({ ...moved, to: maskUrlPassword(to) });
      else {
        ctx.output.line(
          `Moved ${moved.tasks} tasks, ${moved.events} events, ${moved.workflows} workflows and ${moved.runs} runs ` +
            `to ${maskUrlPassword(to)}.`,
        );
        ctx.output.line(
          `Next: set store = "${maskUrlPassword(to)}" in ${config.configFile} (or DSPY_AGENT_STORE_URL) and run ` +
            "`dspy-agent start`. The SQLite file stays as it was.",
        );
      }
      return ExitCode.ok;
    }
    throw new UsageError("Usage: dspy-agent store backup PATH | store check | store migrate --to URL", {
      command: "store",
    });
  } finally {
    client.close();
  }
}
