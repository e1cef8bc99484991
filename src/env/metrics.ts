/**
 * The environment manager's Prometheus metrics, under the names operators already scrape (docs/compatibility.md §7).
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The environment manager's metrics on one registry. */
export interface EnvMetrics {
  /** `env_manager_service_start_total{service_name,status}`. */
  serviceStarts: Counter<"service_name" | "status">;
  /** `env_manager_service_stop_total{service_name,status}`. */
  serviceStops: Counter<"service_name" | "status">;
  /** `env_manager_failed_service_starts_total{service_name,reason}`. */
  failedStarts: Counter<"service_name" | "reason">;
  /** `env_manager_active_services`. */
  activeServices: Gauge;
  /** `env_manager_service_health_check_duration_seconds{service_name,status}`. */
  healthCheckDuration: Histogram<"service_name" | "status">;
  /** `env_manager_docker_api_duration_seconds{operation,status}`. */
  dockerApiDuration: Histogram<"operation" | "status">;
  /** An engine call observer for `createEngine({ observe })` feeding {@linkcode EnvMetrics.dockerApiDuration}. */
  observeEngineCall(operation: string, status: "ok" | "error", seconds: number): void;
}

/**
 * Registers the metrics on `registry`, or returns the ones already there (the daemon registers them before it
 * creates the engine, and the environment manager asks again).
 */
export function createEnvMetrics(registry: Registry): EnvMetrics {
  const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
  const serviceStarts = existing<Counter<"service_name" | "status">>("env_manager_service_start_total") ??
    new Counter({
      name: "env_manager_service_start_total",
      help: "Service starts by outcome (healthy, adopted, failed, skipped).",
      labelNames: ["service_name", "status"],
      registers: [registry],
    });
  const serviceStops = existing<Counter<"service_name" | "status">>("env_manager_service_stop_total") ??
    new Counter({
      name: "env_manager_service_stop_total",
      help: "Service stops by outcome (stopped, removed, not_running, error).",
      labelNames: ["service_name", "status"],
      registers: [registry],
    });
  const failedStarts = existing<Counter<"service_name" | "reason">>("env_manager_failed_service_starts_total") ??
    new Counter({
      name: "env_manager_failed_service_starts_total",
      help: "Failed service starts by reason (image, create, start, health, exited, dependency).",
      labelNames: ["service_name", "reason"],
      registers: [registry],
    });
  const activeServices = existing<Gauge>("env_manager_active_services") ??
    new Gauge({
      name: "env_manager_active_services",
      help: "Services whose container runs and answers its health check.",
      registers: [registry],
    });
  const healthCheckDuration =
    existing<Histogram<"service_name" | "status">>("env_manager_service_health_check_duration_seconds") ??
      new Histogram({
        name: "env_manager_service_health_check_duration_seconds",
        help: "Time from a service's container start until its health check passed or gave up.",
        labelNames: ["service_name", "status"],
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      });
  const dockerApiDuration = existing<Histogram<"operation" | "status">>("env_manager_docker_api_duration_seconds") ??
    new Histogram({
      name: "env_manager_docker_api_duration_seconds",
      help: "Docker Engine API call latency by operation.",
      labelNames: ["operation", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
  return {
    serviceStarts,
    serviceStops,
    failedStarts,
    activeServices,
    healthCheckDuration,
    dockerApiDuration,
    observeEngineCall(operation, status, seconds) {
      dockerApiDuration.observe({ operation, status }, seconds);
    },
  };
}
