/**
 * Stopping a stack: reverse dependency order, graceful timeout then kill, one result per service. Containers are removed on request, volumes only when explicitly asked.
 *
 * @module
 */
import { LABEL_SERVICE, projectSelector } from "../labels.ts";
import { apply, recordOf, type StackContext } from "./stack_context.ts";
import { listExisting } from "./stack_lookup.ts";
import { networkName } from "./stack_container.ts";

/** Options of {@linkcode stopStack}. */
export interface StopStackOptions {
  /** Services to stop; empty means every service of the stack. */
  names: readonly string[];
  /** Grace period before a kill. @default {10} */
  timeoutSeconds?: number;
  /** Remove the containers afterwards. @default {false} */
  remove?: boolean;
  /** Also remove the stack's named volumes (only with `remove`). @default {false} */
  removeVolumes?: boolean;
  /** Stops waiting (containers being stopped keep stopping in the engine). */
  signal: AbortSignal;
}

/** The outcome of a stop. */
export interface StopStackResult {
  /** Whether every service stopped. */
  success: boolean;
  /** Service name to `stopped`, `removed`, `not running` or `error: ...`. */
  results: Record<string, string>;
}

/** Stops services, dependents before what they depend on. Unknown names throw before anything is stopped. */
export async function stopStack(ctx: StackContext, options: StopStackOptions): Promise<StopStackResult> {
  for (const name of options.names) ctx.registry.get(name);
  const { signal } = options;
  const existing = await listExisting(ctx, signal);
  const targets = options.names.length > 0 ? [...options.names] : [...new Set([...existing.keys()].filter(Boolean))];
  const results: Record<string, string> = {};
  const done = new Map<string, Promise<void>>();
  const stopOne = async (name: string): Promise<void> => {
    // Dependents among the targets stop first.
    const dependents = targets.filter((t) => ctx.registry.services.get(t)?.dependsOn.includes(name));
    await Promise.all(dependents.map((d) => done.get(d) ?? Promise.resolve()));
    const container = existing.get(name);
    const record = recordOf(ctx, name);
    record.intentional = true;
    try {
      if (!container) {
        results[name] = "not running";
        ctx.metrics.serviceStops.inc({ service_name: name, status: "not_running" });
        return;
      }
      const wasRunning = container.State === "running";
      if (wasRunning) {
        apply(ctx, name, { type: "stop" });
        await ctx.engine.stopContainer(container.Id, { timeoutSeconds: options.timeoutSeconds ?? 10, signal });
      }
      if (options.remove) {
        await ctx.engine.removeContainer(container.Id, { force: true, signal });
        record.containerId = undefined;
      }
      results[name] = options.remove ? "removed" : wasRunning ? "stopped" : "not running";
      ctx.metrics.serviceStops.inc({ service_name: name, status: options.remove ? "removed" : "stopped" });
      ctx.publish({ type: "service_stopped", resourceId: name, data: { result: results[name] } });
    } catch (error) {
      results[name] = `error: ${(error as Error).message}`;
      ctx.metrics.serviceStops.inc({ service_name: name, status: "error" });
    } finally {
      record.message = results[name] ?? "";
      record.intentional = false;
      apply(ctx, name, { type: "stopped" });
    }
  };
  // Register every promise before awaiting, so each one sees its dependents' promises.
  const order = [...targets];
  for (const name of order) done.set(name, Promise.resolve().then(() => stopOne(name)));
  await Promise.all(done.values());
  if (options.remove && options.removeVolumes) {
    await removeVolumes(ctx, options.names, signal, results);
  }
  if (options.remove && options.names.length === 0) {
    const networks = await ctx.engine.listNetworks({
      selector: projectSelector(ctx.registry.project, { kind: "network" }),
      signal,
    });
    for (const network of networks) {
      if (network.Name === networkName(ctx.registry.project)) {
        await ctx.engine.removeNetwork(network.Id, { signal });
      }
    }
  }
  const success = Object.values(results).every((r) => !r.startsWith("error"));
  return { success, results };
}

async function removeVolumes(
  ctx: StackContext,
  names: readonly string[],
  signal: AbortSignal,
  results: Record<string, string>,
): Promise<void> {
  const volumes = await ctx.engine.listVolumes({
    selector: projectSelector(ctx.registry.project, { kind: "volume" }),
    signal,
  });
  for (const volume of volumes) {
    const service = volume.Labels?.[LABEL_SERVICE];
    if (names.length > 0 && (!service || !names.includes(service))) continue;
    try {
      await ctx.engine.removeVolume(volume.Name, { signal });
    } catch (error) {
      if (service) results[service] = `error: ${(error as Error).message}`;
    }
  }
}
