/**
 * `dspy-agent serve`: the daemon in the foreground, for systemd, containers
 * and `start` (which spawns it detached). SIGTERM or SIGINT end it with 0.
 *
 * @module
 */

import type { CommandContext } from "../context.ts";
import { ExitCode } from "../errors.ts";

/** Runs the daemon until SIGTERM or SIGINT. */
export async function run(ctx: CommandContext): Promise<number> {
  const { config, provenance } = await ctx.loadConfig();
  const [{ runDaemon }, { createLogger }] = await Promise.all([
    import("../../daemon/mod.ts"),
    import("../../log/mod.ts"),
  ]);
  await runDaemon(config, { logger: createLogger({ level: config.logLevel }), provenance });
  return ExitCode.ok;
}
