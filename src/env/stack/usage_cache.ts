/**
 * The last CPU, memory and network reading of each running container. The
 * stats API takes about a second per container on Engine 20.10 (it ignores
 * `one-shot`), so `GetServicesStatus` answers from here and refreshes stale
 * readings in the background; only a container never read yet is waited for
 * (bench/cli: `dspy-agent status` against `docker-compose ps`).
 *
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import { containerStats, type ContainerUsage } from "../engine/stats.ts";

/** Readings older than this are refreshed in the background on the next read. */
const FRESH_MS = 5_000;

interface Entry {
  value?: ContainerUsage;
  at: number;
  refreshing?: Promise<void>;
}

/** Per-container usage readings with background refresh. */
export interface UsageCache {
  /** The latest reading; waits for one only when the container was never read. */
  get(containerId: string, signal: AbortSignal): Promise<ContainerUsage | undefined>;
  /** Starts a reading now, for example when a service turns healthy. */
  warm(containerId: string): void;
  /** Forgets containers not in `alive`. */
  retain(alive: ReadonlySet<string>): void;
}

/** Creates an empty cache reading from `engine`. */
export function createUsageCache(engine: Engine): UsageCache {
  const entries = new Map<string, Entry>();
  const refresh = (id: string): Entry => {
    let entry = entries.get(id);
    if (!entry) entries.set(id, entry = { at: 0 });
    const current = entry;
    if (!current.refreshing && Date.now() - current.at > FRESH_MS) {
      current.refreshing = containerStats(engine, id, { signal: AbortSignal.timeout(10_000) })
        .then((value) => {
          current.value = value;
          current.at = Date.now();
        })
        .catch(() => {})
        .finally(() => (current.refreshing = undefined));
    }
    return current;
  };
  return {
    async get(id, signal) {
      const entry = refresh(id);
      if (entry.value === undefined && entry.refreshing) {
        await Promise.race([
          entry.refreshing,
          new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
        ]);
      }
      return entry.value;
    },
    warm(id) {
      refresh(id);
    },
    retain(alive) {
      for (const id of entries.keys()) if (!alive.has(id)) entries.delete(id);
    },
  };
}
