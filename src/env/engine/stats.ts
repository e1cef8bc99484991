/**
 * Resource usage of a container from the engine's stats API (for GetServicesStatus).
 * @module
 */
import type { ContainerStatsSample, Engine } from "./engine.ts";

/** CPU, memory and network use of one container. */
export interface ContainerUsage {
  /** Percent of one core (200 = two cores busy), like `docker stats`. */
  cpuPercent: number;
  /** Memory in use, without the page cache. */
  memoryBytes: number;
  /** Bytes received on all networks since the container started. */
  networkRxBytes: number;
  /** Bytes sent on all networks since the container started. */
  networkTxBytes: number;
}

/** Options for {@linkcode containerStats}. */
export interface ContainerStatsOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
  /**
   * Time between the two samples CPU use is computed from. The engine's own
   * two-sample mode always waits about a second; two one-shot samples are faster.
   * @default 100
   */
  sampleMs?: number;
}

/** Samples a container twice and returns its CPU, memory and network use. */
export async function containerStats(
  engine: Engine,
  id: string,
  options: ContainerStatsOptions = {},
): Promise<ContainerUsage> {
  const { signal, sampleMs = 100 } = options;
  const first = await engine.stats(id, { signal, oneShot: true });
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const second = await engine.stats(id, { signal, oneShot: true });
  return usageFromSamples(first, second);
}

/** Computes usage from two samples (or from one whose `precpu_stats` the engine filled). */
export function usageFromSamples(
  previous: ContainerStatsSample | undefined,
  current: ContainerStatsSample,
): ContainerUsage {
  const before = previous?.cpu_stats ?? current.precpu_stats;
  const after = current.cpu_stats;
  const cpuDelta = (after?.cpu_usage?.total_usage ?? 0) - (before?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (after?.system_cpu_usage ?? 0) - (before?.system_cpu_usage ?? 0);
  const cores = after?.online_cpus || after?.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * cores * 100 : 0;
  const memory = current.memory_stats ?? { usage: 0 };
  const stats = (memory.stats ?? {}) as Record<string, number | undefined>;
  // Like `docker stats`: cgroup v1 subtracts total_inactive_file (or cache), v2 inactive_file.
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? stats.cache ?? 0;
  const memoryBytes = Math.max(0, (memory.usage ?? 0) - cache);
  let networkRxBytes = 0;
  let networkTxBytes = 0;
  for (const network of Object.values(current.networks ?? {})) {
    networkRxBytes += network.rx_bytes ?? 0;
    networkTxBytes += network.tx_bytes ?? 0;
  }
  return { cpuPercent: round(cpuPercent), memoryBytes, networkRxBytes, networkTxBytes };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
