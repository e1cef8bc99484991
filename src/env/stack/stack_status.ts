/**
 * What `GetServicesStatus` and `StreamHealth` report: the engine's view of each container, joined with what the
 * manager knows (health detail, restarts, messages). Read live from the engine, so a change shows at once.
 *
 * @module
 */
import type { ContainerSummary } from "../engine/engine.ts";
import type { ContainerUsage } from "../engine/stats.ts";
import { LABEL_DEFINITION_HASH } from "../labels.ts";
import { definitionHash } from "../registry/registry.ts";
import { type ServiceStatusValue, statusOf } from "./service_state.ts";
import { listExisting } from "./stack_lookup.ts";
import { type EngineScope, recordOf, type StackContext } from "./stack_context.ts";

/** What a status report reads: the engine's containers, the records and the usage readings. */
type StatusView = EngineScope & Pick<StackContext, "records" | "usage">;

/** CPU, memory and network of a container (from the stats API, like `docker stats`). */
export type ResourceUsageInfo = ContainerUsage;

/** The status of one service. */
export interface ServiceStatusInfo {
  name: string;
  /** starting, running, unhealthy, stopped or failed. */
  status: ServiceStatusValue;
  containerId: string;
  /** Host ports. */
  ports: number[];
  /** `HOST->CONTAINER/tcp`. */
  portMappings: string[];
  /** `kind`, `healthy`, `detail`, `checked_at`, `state`, `definition`. */
  healthChecks: Record<string, string>;
  /** Unix seconds, 0 when not running. */
  startedAt: number;
  usage?: ResourceUsageInfo;
  message: string;
  required: boolean;
  image: string;
  restartCount: number;
  enabled: boolean;
  /** The container's exit code once it has exited. */
  exitCode?: number;
  /** A failed service's last health probe: why it never became, or stopped being, healthy. */
  lastProbe?: { healthy: boolean; detail: string; at: number };
}

/** Options of {@linkcode servicesStatus}. */
export interface StatusOptions {
  /** Services to report; empty means every defined service plus any container of the project. */
  names: readonly string[];
  /** Also report CPU, memory and network of running containers (the latest cached reading). @default {true} */
  usage?: boolean;
  signal: AbortSignal;
}

/** Returns the status of services; unknown names throw `UnknownServiceError`. */
export async function servicesStatus(ctx: StatusView, options: StatusOptions): Promise<ServiceStatusInfo[]> {
  for (const name of options.names) ctx.registry.get(name);
  const existing = await listExisting(ctx, options.signal);
  const names = options.names.length > 0
    ? [...options.names]
    : [...new Set([...ctx.registry.services.keys(), ...[...existing.keys()].filter(Boolean)])].sort();
  ctx.usage.retain(new Set([...existing.values()].map((c) => c.Id)));
  return await Promise.all(names.map(async (name) => {
    const info = describe(ctx, name, existing.get(name));
    if (options.usage !== false && info.status !== "stopped" && info.containerId && existing.get(name)) {
      info.usage = await ctx.usage.get(info.containerId, options.signal);
    }
    return info;
  }));
}

function describe(
  ctx: Pick<StackContext, "registry" | "records">,
  name: string,
  container: ContainerSummary | undefined,
): ServiceStatusInfo {
  const def = ctx.registry.services.get(name);
  const record = recordOf(ctx, name);
  const managed = record.containerId !== undefined && record.containerId === container?.Id;
  const status = statusFromBoth(statusOf(record.state), managed, container);
  const ports = (container?.Ports ?? []).filter((p) => p.PublicPort).map((p) => ({
    host: p.PublicPort,
    text: `${p.PublicPort}->${p.PrivatePort}/${p.Type}`,
  }));
  const unique = [...new Map(ports.map((p) => [p.text, p])).values()];
  const health: Record<string, string> = {
    kind: def?.health.kind ?? "unknown",
    state: record.state.kind,
  };
  // Health is only reported for a service that runs: a stopped or failed one is never "healthy" (its last probe
  // belongs to a container that is gone).
  if (record.lastHealth && (status === "running" || status === "unhealthy")) {
    health.healthy = String(record.lastHealth.healthy);
    health.detail = record.lastHealth.detail;
    health.checked_at = new Date(record.lastHealth.at).toISOString();
  }
  if (container && def) {
    health.definition = container.Labels?.[LABEL_DEFINITION_HASH] === definitionHash(def) ? "current" : "changed";
  }
  const running = container?.State === "running";
  return {
    name,
    status,
    containerId: container?.Id ?? "",
    ports: unique.map((p) => p.host),
    portMappings: unique.length > 0 ? unique.map((p) => p.text) : running ? record.portMappings : [],
    healthChecks: health,
    startedAt: running ? Math.floor((record.startedAt ?? container!.Created * 1000) / 1000) : 0,
    message: record.message || (container ? container.Status : "no container"),
    required: def?.required ?? false,
    image: def?.image ?? container?.Image ?? "",
    restartCount: record.restartCount,
    enabled: def?.enabled ?? false,
    exitCode: exitCodeOf(container),
    // Kept for a failed service only: it explains the failure (for a running one the health checks above tell).
    lastProbe: status === "failed" && record.lastHealth ? { ...record.lastHealth } : undefined,
  };
}

/**
 * The exit code of a container that has exited, from the engine's list entry: its `Status` reads `Exited (CODE) …`
 * (the Engine API's container list carries no separate field for it).
 */
function exitCodeOf(container: ContainerSummary | undefined): number | undefined {
  if (!container || container.State === "running") return undefined;
  const code = container.Status.match(/^Exited \((\d+)\)/)?.[1];
  return code === undefined ? undefined : Number(code);
}

/** The manager's state wins while it acts; otherwise the container's own state tells. */
function statusFromBoth(
  fromRecord: ServiceStatusValue,
  managed: boolean,
  container: ContainerSummary | undefined,
): ServiceStatusValue {
  if (!container) return fromRecord === "failed" ? "failed" : fromRecord === "starting" ? "starting" : "stopped";
  const running = container.State === "running";
  if (managed || fromRecord === "starting") {
    if (!running && (fromRecord === "running" || fromRecord === "unhealthy")) return "failed";
    return fromRecord;
  }
  if (running) return "running";
  return (exitCodeOf(container) ?? 0) === 0 ? "stopped" : "failed";
}
