/**
 * The daemon's side of a CLI run: how long each RPC that `status` makes
 * takes, measured in-process over the same client the CLI uses.
 *
 * @module
 */

import { ConnectJsonTransport } from "../../src/client/mod.ts";

/** Returns [procedure, median ms] for the calls `status` makes. */
export async function measureRpcLatency(address: string, runs: number): Promise<[string, number][]> {
  const transport = new ConnectJsonTransport({ address });
  const procedures = [
    "orchestrator.v1.OrchestratorService/Health",
    "env_manager.v1.EnvManagerService/GetServicesStatus",
    "orchestrator.v1.OrchestratorService/GetMetrics",
  ];
  try {
    const rows: [string, number][] = [];
    for (const procedure of procedures) {
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const begin = performance.now();
        await transport.unary(procedure, {}, { timeoutMs: 30_000 });
        xs.push(performance.now() - begin);
      }
      xs.sort((a, b) => a - b);
      rows.push([procedure, xs[Math.floor(xs.length / 2)]]);
    }
    return rows;
  } finally {
    transport.close();
  }
}
