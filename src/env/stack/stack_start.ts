/**
 * Bringing a stack up: each service starts the moment its own dependencies are healthy.
 *
 * Pull, volumes, ports and container creation do not depend on other services, so they run at once; only the
 * container start waits for the dependencies. A second start adopts running containers of the same definition.
 *
 * @module
 */
import type { ContainerSummary } from "../engine/engine.ts";
import { LABEL_DEFINITION_HASH } from "../labels.ts";
import { listExisting, logTail } from "./stack_lookup.ts";
import { definitionHash } from "../registry/registry.ts";
import type { ServiceDefinition } from "../registry/service_definition.ts";
import { type ServiceStatusValue, statusOf } from "./service_state.ts";
import { ensureNetwork, ensureVolumes, prepareContainer, probeUntilHealthy, startPrepared } from "./stack_steps.ts";
import { apply, recordOf, type StackContext } from "./stack_context.ts";
import { ServiceStartError } from "./stack_errors.ts";

/** The step of a service within a start (the `phase` field of `ServiceStatusUpdate`). */
export type StartPhase =
  | "waiting"
  | "pulling"
  | "creating"
  | "starting"
  | "probing"
  | "healthy"
  | "adopted"
  | "failed"
  | "skipped"
  | "done";

/** One transition streamed by a start. */
export interface StartUpdate {
  /** The service; empty on the final `done` update. */
  service: string;
  /** starting, running, unhealthy, stopped or failed. */
  status: ServiceStatusValue;
  /** The step. */
  phase: StartPhase;
  /** What happened, or why it failed. */
  message: string;
  /** 0 to 100 for the service; for `done`, the share of services healthy. */
  progress: number;
  /** `HOST->CONTAINER/tcp` for each published port. */
  portMappings: string[];
  /** The failed container's last log lines. */
  logTail: string[];
  /** Whether the stack fails when this service fails. */
  required: boolean;
  /** Milliseconds since the start began. */
  elapsedMs: number;
}

/** Options of {@linkcode startStack}. */
export interface StartStackOptions {
  /** Services to start with their dependencies; empty means every enabled service. */
  names: readonly string[];
  /** Also start services that need a GPU. */
  gpu?: boolean;
  /** Stops the start (containers already created are left for the next start to adopt or replace). */
  signal: AbortSignal;
}

const PROGRESS: Record<StartPhase, number> = {
  waiting: 0,
  pulling: 10,
  creating: 30,
  starting: 50,
  probing: 70,
  healthy: 100,
  adopted: 100,
  failed: 100,
  skipped: 100,
  done: 100,
};

/**
 * Validates the selection (throwing config errors before any container is touched) and returns the stream of
 * updates; the work happens while the stream is read.
 */
export function startStack(ctx: StackContext, options: StartStackOptions): AsyncIterable<StartUpdate> {
  const defs = ctx.registry.select(options.names, { gpu: options.gpu ?? ctx.config.gpu });
  return run(ctx, defs, options.signal);
}

async function* run(ctx: StackContext, defs: ServiceDefinition[], signal: AbortSignal): AsyncGenerator<StartUpdate> {
  const began = performance.now();
  const queue: StartUpdate[] = [];
  let wake: (() => void) | undefined;
  const emit: Emit = (def, phase, message, logTail = [], percent) => {
    const record = recordOf(ctx, def.name);
    queue.push({
      service: def.name,
      status: phase === "skipped" ? "failed" : statusOf(record.state),
      phase,
      message,
      // A pull moves the service from 10% to 30% as its layers arrive.
      progress: percent === undefined ? PROGRESS[phase] : Math.round(10 + percent / 5),
      portMappings: [...record.portMappings],
      logTail,
      required: def.required,
      elapsedMs: Math.round(performance.now() - began),
    });
    wake?.();
  };

  // The network is awaited only right before the first create, so image checks run meanwhile.
  const network = ensureNetwork(ctx, signal);
  network.catch(() => {});
  const existing = await listExisting(ctx, signal);
  const outcomes = new Map<string, Promise<boolean>>();
  for (const def of defs) {
    const deps = def.dependsOn.map((d) => outcomes.get(d) ?? Promise.resolve(true));
    outcomes.set(def.name, bringUp(ctx, def, { deps, network, existing: existing.get(def.name), emit, signal }));
  }
  let finished = false;
  const all = Promise.all(outcomes.values()).finally(() => {
    finished = true;
    wake?.();
  });
  while (!finished || queue.length > 0) {
    if (queue.length === 0) await new Promise<void>((resolve) => wake = resolve);
    wake = undefined;
    while (queue.length > 0) yield queue.shift()!;
  }
  const results = await all;
  const failedRequired = defs.filter((def, i) => !results[i] && def.required).map((d) => d.name);
  const healthy = results.filter(Boolean).length;
  const ok = failedRequired.length === 0;
  yield {
    service: "",
    status: ok ? "running" : "failed",
    phase: "done",
    message: ok
      ? `${healthy} of ${defs.length} services healthy`
      : `required services failed: ${failedRequired.join(", ")}`,
    progress: defs.length === 0 ? 100 : Math.round((healthy / defs.length) * 100),
    portMappings: [],
    logTail: [],
    required: true,
    elapsedMs: Math.round(performance.now() - began),
  };
}

type Emit = (
  def: ServiceDefinition,
  phase: StartPhase,
  message: string,
  logTail?: string[],
  percent?: number,
) => void;

/** Brings one service up; resolves true once healthy, false when it failed or was skipped. */
async function bringUp(
  ctx: StackContext,
  def: ServiceDefinition,
  options: {
    deps: Promise<boolean>[];
    network: Promise<void>;
    existing: ContainerSummary | undefined;
    emit: Emit;
    signal: AbortSignal;
  },
): Promise<boolean> {
  const { deps, existing, emit, signal } = options;
  const record = recordOf(ctx, def.name);
  const hash = definitionHash(def);
  try {
    if (!["stopped", "failed", "skipped", "running", "unhealthy"].includes(record.state.kind)) {
      throw new ServiceStartError({ service: def.name, reason: `it is already ${record.state.kind}` });
    }
    apply(ctx, def.name, { type: "wait" });
    record.intentional = true;
    ctx.publish({ type: "service_starting", resourceId: def.name, data: { image: def.image } });
    const adoptable = existing?.State === "running" && existing.Labels?.[LABEL_DEFINITION_HASH] === hash;
    if (existing && !adoptable) {
      // A changed definition (or a dead container) is replaced; only containers with our labels are listed.
      await ctx.engineSlots.run(() => ctx.engine.removeContainer(existing.Id, { force: true, signal }), signal);
    }
    if (adoptable) {
      if (!(await Promise.all(deps)).every(Boolean)) return skip(ctx, def, emit);
      return await adopt(ctx, def, existing!, emit, signal);
    }
    // Named volumes first: creating the container would otherwise make them, without our labels.
    await ensureVolumes(ctx, def, signal);
    await prepareContainer(ctx, def, hash, {
      signal,
      network: options.network,
      onPhase: (phase, message, percent) => emit(def, phase, message, [], percent),
    });
    const depsHealthy = (await Promise.all(deps)).every(Boolean);
    if (!depsHealthy) {
      if (record.containerId) {
        await ctx.engine.removeContainer(record.containerId, { force: true, signal }).catch(() => {});
      }
      return skip(ctx, def, emit);
    }
    const started = performance.now();
    await startPrepared(ctx, def, { signal, onPhase: (phase, message) => emit(def, phase, message) });
    const result = await probeUntilHealthy(ctx, def, signal);
    ctx.metrics.healthCheckDuration.observe(
      { service_name: def.name, status: result.healthy ? "healthy" : "unhealthy" },
      (performance.now() - started) / 1000,
    );
    if (!result.healthy) {
      const reason = result.exited
        ? `the container stopped before it became healthy (${result.detail})`
        : `not healthy after ${def.health.timeoutSeconds}s (${def.health.kind} check: ${result.detail})`;
      throw new ServiceStartError({ service: def.name, reason, logTail: await logTail(ctx, record.containerId) }, {
        cause: result,
      });
    }
    apply(ctx, def.name, { type: "healthy", at: Date.now() });
    record.startedAt = Date.now();
    record.message = `healthy (${result.detail})`;
    ctx.metrics.serviceStarts.inc({ service_name: def.name, status: "healthy" });
    ctx.publish({ type: "service_healthy", resourceId: def.name, data: healthData(record) });
    emit(def, "healthy", record.message);
    return true;
  } catch (error) {
    if (signal.aborted) throw error;
    const reason = error instanceof ServiceStartError ? error.reason : (error as Error).message;
    const tail = error instanceof ServiceStartError ? error.logTail : await logTail(ctx, record.containerId);
    const message = `Cannot start service "${def.name}": ${reason}`;
    record.message = message;
    if (record.state.kind !== "failed") apply(ctx, def.name, { type: "fail", reason: message, logTail: tail });
    ctx.metrics.serviceStarts.inc({ service_name: def.name, status: "failed" });
    ctx.metrics.failedStarts.inc({ service_name: def.name, reason: failureKind(error) });
    ctx.publish({ type: "service_failed", resourceId: def.name, data: { error: message, log_tail: tail.join("\n") } });
    emit(def, "failed", message, tail);
    return false;
  } finally {
    record.intentional = false;
  }
}

async function adopt(
  ctx: StackContext,
  def: ServiceDefinition,
  existing: ContainerSummary,
  emit: Emit,
  signal: AbortSignal,
): Promise<boolean> {
  const record = recordOf(ctx, def.name);
  record.containerId = existing.Id;
  const result = await probeUntilHealthy(ctx, def, signal, { adopting: true });
  if (!result.healthy) {
    throw new ServiceStartError({
      service: def.name,
      reason: `its running container is not healthy (${result.detail})`,
      logTail: await logTail(ctx, existing.Id),
    });
  }
  // A new manager's supervisor may have adopted the same container meanwhile; then it is adopted already.
  const adoptedBySupervisor = record.state.kind === "running" && "containerId" in record.state &&
    record.state.containerId === existing.Id;
  if (!adoptedBySupervisor) apply(ctx, def.name, { type: "adopt", containerId: existing.Id, at: Date.now() });
  record.startedAt = existing.Created * 1000;
  record.message = `adopted running container (${result.detail})`;
  ctx.metrics.serviceStarts.inc({ service_name: def.name, status: "adopted" });
  ctx.publish({ type: "service_healthy", resourceId: def.name, data: { ...healthData(record), adopted: "true" } });
  emit(def, "adopted", record.message);
  return true;
}

function skip(ctx: StackContext, def: ServiceDefinition, emit: Emit): false {
  const failed = def.dependsOn.filter((d) => !["running"].includes(recordOf(ctx, d).state.kind));
  const message = `Cannot start service "${def.name}": dependency ${failed.map((d) => `"${d}"`).join(", ")} failed`;
  const record = recordOf(ctx, def.name);
  record.message = message;
  record.containerId = undefined;
  apply(ctx, def.name, { type: "skip", reason: message });
  ctx.metrics.serviceStarts.inc({ service_name: def.name, status: "skipped" });
  ctx.metrics.failedStarts.inc({ service_name: def.name, reason: "dependency" });
  ctx.publish({ type: "service_failed", resourceId: def.name, data: { error: message, skipped: "true" } });
  emit(def, "skipped", message);
  return false;
}

function healthData(record: { containerId?: string; portMappings: string[] }): Record<string, string> {
  return { container_id: record.containerId ?? "", ports: record.portMappings.join(",") };
}

function failureKind(error: unknown): string {
  if (error instanceof Error && error.name === "ImageNotFoundError") return "image";
  if (error instanceof ServiceStartError) return error.reason.includes("stopped before") ? "exited" : "health";
  if (error instanceof Error && error.name === "NoFreePortError") return "port";
  return "engine";
}
