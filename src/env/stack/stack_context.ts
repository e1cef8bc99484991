/**
 * What the parts of the environment manager share: the engine, the registry, and one record per service.
 *
 * @module
 */
import type { Config } from "../../config/mod.ts";
import type { Engine } from "../engine/engine.ts";
import type { ProbeResult } from "../probes/health.ts";
import type { EnvMetrics } from "../metrics.ts";
import type { PortAllocator } from "../probes/ports.ts";
import type { ServiceRegistry } from "../registry/registry.ts";
import type { ServiceEvent, ServiceState } from "./service_state.ts";
import { transition } from "./service_state.ts";
import type { Semaphore } from "../../async/mod.ts";
import type { UsageCache } from "./usage_cache.ts";

/** An event the environment manager publishes (the daemon forwards them to `StreamEvents`). */
export interface EnvEvent {
  /** `service_starting`, `service_healthy`, `service_unhealthy`, `service_failed`, `service_restarted`, `service_stopped` or `service_port_remapped`. */
  type: string;
  /** The service name. */
  resourceId: string;
  /** Facts, as text. */
  data: Record<string, string>;
}

/** What the manager knows about one service beyond its container. */
export interface ServiceRecord {
  /** The lifecycle state. */
  state: ServiceState;
  /** The container, once created or adopted. */
  containerId?: string;
  /** `HOST->CONTAINER/tcp` for each published port. */
  portMappings: string[];
  /** Host ports. */
  hostPorts: number[];
  /** Restarts done by the supervisor. */
  restartCount: number;
  /** The last probe, with its unix-ms time. */
  lastHealth?: ProbeResult & { at: number };
  /** Unix ms when the container last became healthy. */
  startedAt?: number;
  /** The last message (why it failed, ...). */
  message: string;
  /** Set while the manager itself stops or restarts it, so the supervisor leaves it alone. */
  intentional: boolean;
}

/** The shared context of the manager's parts. */
export interface StackContext {
  config: Config;
  engine: Engine;
  registry: ServiceRegistry;
  metrics: EnvMetrics;
  ports: PortAllocator;
  /** Limits engine operations at once (`ENV_MANAGER_MAX_CONCURRENT`). */
  engineSlots: Semaphore;
  records: Map<string, ServiceRecord>;
  /** The latest CPU, memory and network readings of running containers. */
  usage: UsageCache;
  /** The network creation under way, shared by concurrent starts. */
  networkPending?: Promise<void>;
  extraLabels?: Record<string, string>;
  publish(event: EnvEvent): void;
  /** Called whenever any record changes (StreamHealth waits on it). */
  changed(): void;
}

/*
 * The narrow pieces each step takes, so a signature says what the step touches. The whole StackContext goes only to
 * the parts that coordinate steps: startStack, stopStack and the supervisor.
 */

/** The service records: read with recordOf. */
export type Records = Pick<StackContext, "records">;
/** The service records with what a change notifies: changed with apply. */
export type RecordKeeping = Pick<StackContext, "records" | "metrics" | "changed">;
/** The engine and the project its objects belong to, with the labels each object carries. */
export type EngineScope = Pick<StackContext, "engine" | "registry" | "extraLabels">;

/** Returns the record of a service, creating a stopped one. */
export function recordOf(ctx: Records, service: string): ServiceRecord {
  let record = ctx.records.get(service);
  if (!record) {
    record = {
      state: { kind: "stopped" },
      portMappings: [],
      hostPorts: [],
      restartCount: 0,
      message: "",
      intentional: false,
    };
    ctx.records.set(service, record);
  }
  return record;
}

/** Applies a lifecycle event to a service's record (illegal transitions throw) and notifies watchers. */
export function apply(ctx: RecordKeeping, service: string, event: ServiceEvent): ServiceState {
  const record = recordOf(ctx, service);
  const before = record.state.kind;
  record.state = transition(service, record.state, event);
  if (record.state.kind === "running" && before !== "running") ctx.metrics.activeServices.inc();
  if (record.state.kind !== "running" && before === "running") ctx.metrics.activeServices.dec();
  ctx.changed();
  return record.state;
}
