/**
 * The environment manager: the service stack of one project on one Docker engine.
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { Config } from "../../config/mod.ts";
import type { Engine } from "../engine/engine.ts";
import { createEnvMetrics } from "../metrics.ts";
import { createPortAllocator } from "../probes/ports.ts";
import { resolveRegistry, type ServiceRegistry } from "../registry/registry.ts";
import { startSupervisor, type Supervisor } from "./supervisor.ts";
import { apply, type EnvEvent, recordOf, type StackContext } from "./stack_context.ts";
import { createSemaphore } from "../../async/mod.ts";
import { listExisting } from "./stack_lookup.ts";
import { startStack, type StartUpdate } from "./stack_start.ts";
import { stopStack, type StopStackOptions, type StopStackResult } from "./stack_stop.ts";
import { servicesStatus, type ServiceStatusInfo, type StatusOptions } from "./stack_status.ts";
import { probeUntilHealthy } from "./stack_steps.ts";
import { type HealthInfo, watchHealth, type WatchHealthOptions } from "./stack_health_watch.ts";
import { createUsageCache } from "./usage_cache.ts";

/** Options of {@linkcode createEnvManager}. */
export interface EnvManagerOptions {
  /** The effective configuration (services, ports, limits, project, state folder). */
  config: Config;
  /** The Docker engine. */
  engine: Engine;
  /** The daemon's metrics registry; the env-manager metrics of docs/compatibility.md §7 are registered on it. */
  registry: Registry;
  /** Told about every service event (`service_starting`, `service_healthy`, ...). */
  onEvent?: (event: EnvEvent) => void;
  /** Stops supervision when aborted (same as disposing). */
  signal?: AbortSignal;
  /** Extra labels on everything created (tests add `dspy-agent.test`). */
  extraLabels?: Record<string, string>;
  /** Follow engine events and probe running services. @default {true} */
  supervise?: boolean;
  /** Milliseconds between health probes of running services. @default {2000} */
  monitorIntervalMs?: number;
}

/** The environment manager. Disposing it stops supervision; containers keep running. */
export interface EnvManager extends AsyncDisposable {
  /** The validated service registry. */
  readonly services: ServiceRegistry;
  /** Whether the supervisor follows the engine's events right now. */
  readonly supervising: boolean;
  /** Starts services (and their dependencies), streaming each transition. Config errors throw at once. */
  start(options: { names: readonly string[]; gpu?: boolean; signal: AbortSignal }): AsyncIterable<StartUpdate>;
  /** Stops services in reverse dependency order. */
  stop(options: StopStackOptions): Promise<StopStackResult>;
  /** Stops and starts one service's container, waiting for it to be healthy again. */
  restart(name: string, options: { timeoutSeconds?: number; signal: AbortSignal }): Promise<{
    success: boolean;
    message: string;
  }>;
  /** The status of services. */
  status(options: StatusOptions): Promise<ServiceStatusInfo[]>;
  /** Health of services: once at first, then on every change, and at least every interval. */
  watchHealth(options: WatchHealthOptions): AsyncIterable<HealthInfo>;
}

/** Creates the environment manager; throws `ConfigErrors` when the service configuration is invalid. */
export function createEnvManager(options: EnvManagerOptions): EnvManager {
  const services = resolveRegistry(options.config);
  const metrics = createEnvMetrics(options.registry);
  let waiters: (() => void)[] = [];
  const ctx: StackContext = {
    config: options.config,
    engine: options.engine,
    registry: services,
    metrics,
    ports: createPortAllocator({ home: options.config.home, project: options.config.project }),
    engineSlots: createSemaphore(options.config.maxConcurrent),
    records: new Map(),
    usage: createUsageCache(options.engine),
    extraLabels: options.extraLabels,
    publish(event) {
      const containerId = ctx.records.get(event.resourceId)?.containerId;
      if (event.type === "service_healthy" && containerId) ctx.usage.warm(containerId);
      try {
        options.onEvent?.(event);
      } catch {
        // A listener's failure must not break a start.
      }
    },
    changed() {
      const ready = waiters;
      waiters = [];
      for (const wake of ready) wake();
    },
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.push(resolve));
  // Wanted host ports of enabled services are kept free of other services' remaps.
  ctx.ports.reserve(
    [...services.services.values()].flatMap((d) => d.ports.map((p) => p.hostPort ?? 0)).filter((p) => p > 0),
  );
  const supervisor: Supervisor | undefined = options.supervise === false
    ? undefined
    : startSupervisor(ctx, { monitorIntervalMs: options.monitorIntervalMs });
  let startChain = Promise.resolve();
  const onAbort = () => supervisor?.[Symbol.asyncDispose]();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    services,
    get supervising() {
      return supervisor?.connected ?? false;
    },
    start(o) {
      // Validated now (config errors throw at once); run after any start under way, so two
      // StartServices calls (the CLI's and a Python client's) never race over one service: the
      // later one then finds the services up and adopts them.
      const updates = startStack(ctx, o);
      const previous = startChain;
      let release = () => {};
      startChain = new Promise<void>((resolve) => (release = resolve));
      return (async function* () {
        try {
          await previous;
          o.signal.throwIfAborted();
          yield* updates;
        } finally {
          release();
        }
      })();
    },
    stop: (o) => stopStack(ctx, o),
    status: (o) => servicesStatus(ctx, o),
    watchHealth: (o) => watchHealth(ctx, nextChange, o),
    async restart(name, { timeoutSeconds = 10, signal }) {
      const def = services.get(name);
      const record = recordOf(ctx, name);
      const container = (await listExisting(ctx, signal)).get(name);
      if (!container) {
        let last: StartUpdate | undefined;
        for await (const update of startStack(ctx, { names: [name], signal })) last = update;
        return { success: last?.status === "running", message: last?.message ?? "" };
      }
      record.intentional = true;
      try {
        if (!("containerId" in record.state) || record.state.containerId !== container.Id) {
          if (!["waiting", "stopped", "failed", "unhealthy"].includes(record.state.kind)) {
            apply(ctx, name, { type: "stopped" });
          }
          apply(ctx, name, { type: "adopt", containerId: container.Id, at: Date.now() });
        }
        record.containerId = container.Id;
        apply(ctx, name, { type: "restart", attempt: 0 });
        await ctx.engine.stopContainer(container.Id, { timeoutSeconds, signal });
        await ctx.engine.startContainer(container.Id, { signal });
        apply(ctx, name, { type: "probe" });
        const result = await probeUntilHealthy(ctx, def, signal);
        if (!result.healthy) {
          const message = `Cannot restart service "${name}": ${result.detail}`;
          apply(ctx, name, { type: "fail", reason: message });
          record.message = message;
          return { success: false, message };
        }
        apply(ctx, name, { type: "healthy", at: Date.now() });
        record.startedAt = Date.now();
        record.message = `restarted (${result.detail})`;
        ctx.publish({
          type: "service_restarted",
          resourceId: name,
          data: { manual: "true", container_id: container.Id },
        });
        return { success: true, message: record.message };
      } finally {
        record.intentional = false;
      }
    },
    async [Symbol.asyncDispose]() {
      options.signal?.removeEventListener("abort", onAbort);
      await supervisor?.[Symbol.asyncDispose]();
    },
  };
}
