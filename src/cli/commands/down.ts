/**
 * `dspy-agent down`: `stop` that also removes what the stack created: the service containers and the network, and
 * with `--volumes` the named volumes. Only this state folder's objects are touched; the daemon, which knows which
 * ones those are, does the removing, so it is started for the job when it is not running.
 *
 * @module
 */

import { type CommandContext, configOf } from "../context.ts";
import { findDaemon } from "../daemon_connection.ts";
import { serveCommand, spawnDaemon } from "../lifecycle/spawn_daemon.ts";
import { waitForHealth } from "../lifecycle/wait_health.ts";
import { run as stop } from "./stop.ts";

/** Runs `down`. */
export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) {
    // Services by name: the same as stop --remove for them.
    return await stop({ ...ctx, values: { ...ctx.values, remove: true } });
  }
  const config = await configOf(ctx);
  const { client, health } = await findDaemon(ctx, config);
  if (!health) {
    const spawned = await spawnDaemon({ home: config.home, command: serveCommand({ configFile: ctx.globals.config }) });
    try {
      await waitForHealth({
        client,
        home: config.home,
        timeoutSeconds: 60,
        exited: spawned.exited,
        signal: ctx.signal,
      });
    } finally {
      spawned.release();
    }
  }
  client.close();
  return await stop({ ...ctx, values: { ...ctx.values, remove: true } });
}
