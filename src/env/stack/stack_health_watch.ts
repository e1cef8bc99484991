/**
 * `StreamHealth`: the health of services, sent on every change and at least once per interval.
 *
 * @module
 */
import { delay } from "../../async/mod.ts";
import { statusOf } from "./service_state.ts";
import { recordOf, type StackContext } from "./stack_context.ts";

/** What watching health reads: the registry and the records. */
type HealthView = Pick<StackContext, "registry" | "records">;

/** The health of one service at one moment. */
export interface HealthInfo {
  service: string;
  healthy: boolean;
  message: string;
  /** Unix ms. */
  timestamp: number;
  /** `status`, `state`, `container_id`, `kind`, `detail`, `restart_count`. */
  details: Record<string, string>;
}

/** Options of {@linkcode watchHealth}. */
export interface WatchHealthOptions {
  /** Services to watch; empty means every defined service. */
  names: readonly string[];
  /** Seconds between unchanged reports. @default {5} */
  intervalSeconds?: number;
  signal: AbortSignal;
}

/** Yields every watched service once, then each change as it happens, and everything again every interval. */
export async function* watchHealth(
  ctx: HealthView,
  nextChange: () => Promise<void>,
  options: WatchHealthOptions,
): AsyncGenerator<HealthInfo> {
  for (const name of options.names) ctx.registry.get(name);
  const names = options.names.length > 0 ? [...options.names] : [...ctx.registry.services.keys()];
  const intervalMs = Math.max(1, options.intervalSeconds || 5) * 1000;
  const last = new Map<string, string>();
  let lastFull = 0;
  while (!options.signal.aborted) {
    const full = performance.now() - lastFull >= intervalMs;
    if (full) lastFull = performance.now();
    for (const name of names) {
      const info = snapshot(ctx, name);
      const key = `${info.healthy}|${info.details.status}|${info.message}`;
      if (full || last.get(name) !== key) {
        last.set(name, key);
        yield info;
      }
    }
    const wait = intervalMs - (performance.now() - lastFull);
    const timer = new AbortController();
    const stop = AbortSignal.any([options.signal, timer.signal]);
    await Promise.race([nextChange(), delay(Math.max(1, wait), stop).catch(() => {})]);
    timer.abort();
  }
}

function snapshot(ctx: HealthView, name: string): HealthInfo {
  const record = recordOf(ctx, name);
  const def = ctx.registry.services.get(name);
  const status = statusOf(record.state);
  const healthy = status === "running" && record.lastHealth?.healthy !== false;
  const details: Record<string, string> = {
    status,
    state: record.state.kind,
    kind: def?.health.kind ?? "unknown",
    container_id: record.containerId ?? "",
    restart_count: String(record.restartCount),
  };
  if (record.lastHealth) details.detail = record.lastHealth.detail;
  return {
    service: name,
    healthy,
    message: record.message || status,
    timestamp: Date.now(),
    details,
  };
}
