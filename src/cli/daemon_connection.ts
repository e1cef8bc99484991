/**
 * Connecting a command to the daemon named by the configuration.
 *
 * @module
 */

import { createDaemonClient, type DaemonClient } from "../client/mod.ts";
import type { Config } from "../config/mod.ts";
import type { CommandContext } from "./context.ts";
import { DaemonNotRunningError } from "./errors.ts";
import { probeHealth } from "./lifecycle/wait_health.ts";
import { isProcessAlive, readDaemonInfo } from "./lifecycle/state_files.ts";
import type { Health } from "../client/mod.ts";

/** The address to dial for a listen address (`0.0.0.0` and `[::]` mean this machine). */
export function dialAddress(listen: string): string {
  if (listen.startsWith("0.0.0.0:")) return `127.0.0.1:${listen.slice(8)}`;
  if (listen.startsWith("[::]:")) return `[::1]:${listen.slice(5)}`;
  return listen;
}

/**
 * The dashboard's address for a person to open (`start` prints it, `dashboard` opens it): a wildcard listen address
 * is reached through loopback.
 */
export function dashboardUrl(config: Pick<Config, "httpAddr" | "tls">): string {
  const at = config.httpAddr.lastIndexOf(":");
  const host = config.httpAddr.slice(0, at).replace(/^(0\.0\.0\.0|\[::\])$/, "127.0.0.1");
  return `${config.tls.cert ? "https" : "http"}://${host}:${config.httpAddr.slice(at + 1)}/`;
}

/** Creates clients for the configured daemon (no call is made yet). */
export async function clientFor(ctx: CommandContext, config: Config): Promise<DaemonClient> {
  // With TLS configured the daemon serves only TLS; the CA to trust is [tls] ca, else the certificate itself.
  const caFile = config.tls.ca ?? config.tls.cert;
  return await createDaemonClient({
    address: dialAddress(config.grpcAddr),
    home: config.home,
    envToken: ctx.env.DSPY_AGENT_TOKEN,
    caCert: caFile ? await Deno.readTextFile(caFile) : undefined,
    signal: ctx.signal,
  });
}

/**
 * Finds the daemon of this state folder: the configured address first, then
 * the address in `daemon.json` when its process lives (a daemon started with
 * other settings). `health` is undefined when neither answers.
 */
export async function findDaemon(
  ctx: CommandContext,
  config: Config,
): Promise<{ client: DaemonClient; health?: Health }> {
  const client = await clientFor(ctx, config);
  const health = await probeHealth(client, { signal: ctx.signal });
  if (health) return { client, health };
  const info = await readDaemonInfo(config.home, ctx.signal);
  if (info?.grpcAddr && dialAddress(info.grpcAddr) !== client.address && isProcessAlive(info.pid)) {
    const other = await clientFor(ctx, { ...config, grpcAddr: info.grpcAddr });
    const otherHealth = await probeHealth(other, { signal: ctx.signal });
    if (otherHealth) return { client: other, health: otherHealth };
  }
  return { client };
}

/** Like {@linkcode findDaemon}, but throws {@linkcode DaemonNotRunningError} when no daemon answers. */
export async function requireDaemon(
  ctx: CommandContext,
  config: Config,
): Promise<{ client: DaemonClient; health: Health }> {
  const { client, health } = await findDaemon(ctx, config);
  if (!health) throw new DaemonNotRunningError(client.address);
  return { client, health };
}
