/**
 * The Prometheus registry of one daemon. Domain folders define their own
 * metrics on it (`env/metrics.ts`, `orchestrator/metrics.ts`).
 *
 * prom-client's `collectDefaultMetrics` breaks scrapes on Deno (a known gap of its Node
 * compatibility), so only metrics we register ourselves are served.
 * @module
 */
import { Gauge, Registry } from "prom-client";

/** Creates an empty registry with the daemon's own process metrics. */
export function createRegistry(
  options: { version: string; startedAt: number },
): Registry {
  const registry = new Registry();
  new Gauge({
    name: "dspy_agent_build_info",
    help: "Always 1; the version of the running daemon is a label.",
    labelNames: ["version"],
    registers: [registry],
  }).set({ version: options.version }, 1);
  new Gauge({
    name: "dspy_agent_start_time_seconds",
    help: "Unix time the daemon started.",
    registers: [registry],
  }).set(options.startedAt / 1000);
  new Gauge({
    name: "dspy_agent_resident_memory_bytes",
    help: "Resident memory of the daemon process.",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  return registry;
}
