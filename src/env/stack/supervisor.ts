/**
 * Supervision: follows the engine's event stream and probes running services, restarting a service whose
 * container dies or turns unhealthy according to its restart policy, with backoff.
 * When the engine goes away the supervisor keeps retrying and reconciles once it is back.
 *
 * @module
 */
import { DockerError } from "../errors.ts";
import type { EngineEvent } from "../engine/engine.ts";
import { backoffMs, delay } from "../../async/mod.ts";
import { probeOnce } from "../probes/health.ts";
import { LABEL_SERVICE, projectSelector } from "../labels.ts";
import { definitionHash } from "../registry/registry.ts";
import { apply, recordOf, type StackContext } from "./stack_context.ts";
import { listExisting } from "./stack_lookup.ts";
import { ensureNetwork, prepareContainer, probeContext, probeUntilHealthy, startPrepared } from "./stack_steps.ts";
import { publishedPorts } from "./stack_container.ts";

/** Options of {@linkcode startSupervisor}. */
export interface SupervisorOptions {
  /** Milliseconds between health probes of running services. @default {2000} */
  monitorIntervalMs?: number;
  /** Failed probes in a row before a running service counts as unhealthy. @default {3} */
  unhealthyAfter?: number;
  /** The first restart delay in ms; it doubles per attempt up to 30 s. @default {250} */
  restartDelayMs?: number;
}

/** The running supervisor. */
export interface Supervisor extends AsyncDisposable {
  /** Whether the engine's event stream is connected. */
  readonly connected: boolean;
}

/** Starts supervising the stack of `ctx` until disposed. */
export function startSupervisor(ctx: StackContext, options: SupervisorOptions = {}): Supervisor {
  const controller = new AbortController();
  const signal = controller.signal;
  const state = { connected: false };
  const failures = new Map<string, number>();
  const pending = new Set<string>();

  const restartLater = (service: string, reason: string) => {
    const record = recordOf(ctx, service);
    const policy = ctx.registry.services.get(service)?.restart ?? "no";
    const exitCode = Number(reason.match(/code (\d+)/)?.[1] ?? "1");
    const wanted = policy === "always" || (policy === "on-failure" && exitCode !== 0);
    if (!wanted || pending.has(service) || signal.aborted) {
      if (!wanted) {
        ctx.publish({ type: "service_failed", resourceId: service, data: { error: reason, restart: policy } });
      }
      return;
    }
    pending.add(service);
    const attempt = record.restartCount + 1;
    const pause = Math.min(30_000, (options.restartDelayMs ?? 250) * 2 ** Math.min(10, failures.get(service) ?? 0));
    delay(pause, signal)
      .then(() => {
        // Cleared first, so a failed restart can schedule the next attempt.
        pending.delete(service);
        return restart(service, attempt, reason);
      })
      .catch(() => pending.delete(service));
  };

  const containerExists = async (id: string) => {
    try {
      await ctx.engine.inspectContainer(id, { signal });
      return true;
    } catch (error) {
      if (error instanceof DockerError && error.notFound) return false;
      throw error;
    }
  };

  /** Another container of the service exists already (a start replaced ours): that one is the service now. */
  const adoptReplacement = async (service: string) => {
    const other = (await listExisting(ctx, signal)).get(service);
    if (!other || other.State !== "running") return false;
    const record = recordOf(ctx, service);
    apply(ctx, service, { type: "stopped" });
    record.containerId = other.Id;
    apply(ctx, service, { type: "adopt", containerId: other.Id, at: Date.now() });
    record.message = "its container was replaced; following the new one";
    return true;
  };

  const restart = async (service: string, attempt: number, reason: string) => {
    const record = recordOf(ctx, service);
    const def = ctx.registry.services.get(service);
    if (!def || !record.containerId || record.intentional) return;
    record.intentional = true;
    try {
      apply(ctx, service, { type: "restart", attempt });
      if (await containerExists(record.containerId)) {
        await ctx.engine.stopContainer(record.containerId, { timeoutSeconds: 5, signal });
        await ctx.engine.startContainer(record.containerId, { signal });
        apply(ctx, service, { type: "probe" });
      } else if (await adoptReplacement(service)) {
        return;
      } else {
        // Removed outside dspy-agent (docker rm -f, a prune): made again from its definition, as a start would;
        // a deleted image is pulled again.
        record.containerId = undefined;
        apply(ctx, service, { type: "stopped" });
        apply(ctx, service, { type: "wait" });
        const onPhase = () => {};
        await prepareContainer(ctx, def, definitionHash(def), { signal, onPhase, network: ensureNetwork(ctx, signal) });
        await startPrepared(ctx, def, { signal, onPhase });
        reason = `${reason}; the container was gone, so it was created again`;
      }
      const result = await probeUntilHealthy(ctx, def, signal);
      if (!result.healthy) throw new Error(`not healthy after restart: ${result.detail}`);
      apply(ctx, service, { type: "healthy", at: Date.now() });
      record.restartCount++;
      record.startedAt = Date.now();
      record.message = `restarted after: ${reason}`;
      failures.set(service, 0);
      ctx.publish({
        type: "service_restarted",
        resourceId: service,
        data: { attempt: String(attempt), reason, container_id: record.containerId ?? "" },
      });
    } catch (error) {
      if (signal.aborted) return;
      failures.set(service, (failures.get(service) ?? 0) + 1);
      const message = `restart failed: ${(error as Error).message}`;
      record.message = message;
      if (record.state.kind !== "failed") apply(ctx, service, { type: "fail", reason: message });
      record.intentional = false;
      restartLater(service, `${reason}; ${message}`);
    } finally {
      record.intentional = false;
    }
  };

  const died = (service: string, reason: string) => {
    const record = recordOf(ctx, service);
    if (!["running", "unhealthy", "probing"].includes(record.state.kind)) return;
    apply(ctx, service, { type: "died", reason });
    record.message = reason;
    ctx.publish({
      type: "service_unhealthy",
      resourceId: service,
      data: { reason, container_id: record.containerId ?? "" },
    });
    restartLater(service, reason);
  };

  const onEvent = (event: EngineEvent) => {
    const service = event.Actor.Attributes[LABEL_SERVICE];
    if (!service) return;
    const record = recordOf(ctx, service);
    if (record.intentional || record.containerId !== event.Actor.ID) return;
    if (event.Action === "die") {
      died(service, `container exited with code ${event.Actor.Attributes.exitCode ?? "?"}`);
    } else if (event.Action === "health_status: unhealthy" && record.state.kind === "running") {
      markUnhealthy(service, "docker health check reports unhealthy");
    }
  };

  const markUnhealthy = (service: string, reason: string) => {
    apply(ctx, service, { type: "unhealthy", reason });
    recordOf(ctx, service).message = reason;
    ctx.publish({ type: "service_unhealthy", resourceId: service, data: { reason } });
    const policy = ctx.registry.services.get(service)?.restart ?? "no";
    if (policy !== "no") restartLater(service, `${reason} (code 1)`);
  };

  /** Brings the records in line with the engine: adopt running containers, notice dead ones. */
  const reconcile = async () => {
    const existing = await listExisting(ctx, signal);
    for (const [service, record] of ctx.records) {
      if (record.intentional || !record.containerId) continue;
      const container = existing.get(service);
      if (container?.Id === record.containerId && container.State === "running") continue;
      const code = container?.Status.match(/Exited \((\d+)\)/)?.[1] ?? "?";
      died(service, container ? `container exited with code ${code}` : "container removed outside dspy-agent");
    }
    for (const [service, container] of existing) {
      const def = ctx.registry.services.get(service);
      const record = recordOf(ctx, service);
      if (!def || container.State !== "running" || record.state.kind !== "stopped") continue;
      if (container.Labels?.["dev.dspy-agent.definition-hash"] !== definitionHash(def)) continue;
      record.containerId = container.Id;
      const details = await ctx.engine.inspectContainer(container.Id, { signal });
      const ports = publishedPorts(details);
      record.hostPorts = ports.map((p) => p.hostPort);
      record.portMappings = ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`);
      record.startedAt = Date.parse(details.State?.StartedAt ?? "") || container.Created * 1000;
      apply(ctx, service, { type: "adopt", containerId: container.Id, at: Date.now() });
    }
  };

  const followEvents = async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await ctx.engine.ping({ signal });
        const since = Math.floor(Date.now() / 1000);
        await reconcile();
        const selector = projectSelector(ctx.registry.project, { kind: "service" });
        const events = ctx.engine.events({ selector, types: ["container"], since, signal });
        state.connected = true;
        failures = 0;
        for await (const event of events) onEvent(event);
      } catch (error) {
        if (signal.aborted) break;
        if (!(error instanceof DockerError) && !(error instanceof Error)) throw error;
      }
      state.connected = false;
      await delay(backoffMs(++failures, { baseMs: 250, maxMs: 2000 }), signal).catch(() => {});
    }
  };

  const monitor = async () => {
    const interval = options.monitorIntervalMs ?? 2000;
    while (!signal.aborted) {
      await delay(interval, signal).catch(() => {});
      if (signal.aborted || !state.connected) continue;
      await Promise.all([...ctx.records].map(async ([service, record]) => {
        const def = ctx.registry.services.get(service);
        if (!def || record.intentional || !record.containerId) return;
        if (record.state.kind !== "running" && record.state.kind !== "unhealthy") return;
        try {
          const details = await ctx.engine.inspectContainer(record.containerId, { signal });
          const result = await probeOnce(def.health, probeContext(ctx, def, details), signal);
          if (record.intentional) return;
          record.lastHealth = { ...result, at: Date.now() };
          const count = result.healthy ? 0 : (failures.get(`probe:${service}`) ?? 0) + 1;
          failures.set(`probe:${service}`, count);
          if (result.healthy && record.state.kind === "unhealthy") {
            apply(ctx, service, { type: "healthy", at: Date.now() });
            ctx.publish({ type: "service_healthy", resourceId: service, data: { detail: result.detail } });
          } else if (count >= (options.unhealthyAfter ?? 3) && record.state.kind === "running") {
            markUnhealthy(service, `health check failing: ${result.detail}`);
          }
          ctx.changed();
        } catch {
          // The event stream notices a dead container or engine; a failed probe round is not news.
        }
      }));
    }
  };

  const loops = Promise.all([followEvents(), monitor()]);
  return {
    get connected() {
      return state.connected;
    },
    async [Symbol.asyncDispose]() {
      controller.abort();
      await loops.catch(() => {});
    },
  };
}
