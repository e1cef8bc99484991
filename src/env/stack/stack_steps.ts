/**
 * The engine steps of bringing one service up: network, image, volumes, ports, create, start, probe.
 *
 * @module
 */
import { DockerError } from "../errors.ts";
import type { ContainerDetails } from "../engine/engine.ts";
import { type ProbeContext, waitHealthy, type WaitHealthyResult } from "../probes/health.ts";
import { ownedLabels, projectSelector } from "../labels.ts";
import { pullImages } from "./pull.ts";
import { formatPortMapping, type ServiceDefinition } from "../registry/service_definition.ts";
import { containerSpec, networkName, probeAddress, publishedPorts, volumeName } from "./stack_container.ts";
import { apply, type EngineScope, type RecordKeeping, recordOf, type StackContext } from "./stack_context.ts";
import { ImageNotFoundError } from "./stack_errors.ts";

/** Engine operations on the critical path go first when the engine slots are all taken. */
const PRIORITY_START = 2;
const PRIORITY_CREATE_NOW = 1;
const PRIORITY_CREATE_LATER = 0;

/** Told when a service enters a step. */
export type OnPhase = (
  phase: "pulling" | "creating" | "starting" | "probing",
  message: string,
  /** The pull's own progress, 0 to 100. */
  percent?: number,
) => void;

/**
 * Creates the stack's labelled network unless it exists. Concurrent starts share one creation, and
 * copies that an earlier race left behind (the engine allows two networks of one name, and then
 * refuses to attach a container to either: "network … is ambiguous") are removed when unused.
 */
export function ensureNetwork(
  ctx: EngineScope & Pick<StackContext, "networkPending">,
  signal: AbortSignal,
): Promise<void> {
  ctx.networkPending ??= createOrAdoptNetwork(ctx, signal).finally(() => (ctx.networkPending = undefined));
  return ctx.networkPending;
}

async function createOrAdoptNetwork(ctx: EngineScope, signal: AbortSignal): Promise<void> {
  const selector = projectSelector(ctx.registry.project, { kind: "network" });
  const name = networkName(ctx.registry.project);
  const found = (await ctx.engine.listNetworks({ selector, signal })).filter((n) => n.Name === name);
  if (found.length === 1) return;
  if (found.length > 1) {
    // Remove every copy the engine lets go of; one in use stays and serves.
    let inUse = 0;
    for (const copy of found) {
      await ctx.engine.removeNetwork(copy.Id, { signal }).catch(() => inUse++);
    }
    if (inUse > 0) return;
  }
  try {
    await ctx.engine.createNetwork({
      Name: name,
      CheckDuplicate: true,
      Driver: "bridge",
      Labels: ownedLabels({ project: ctx.registry.project, kind: "network", extra: ctx.extraLabels }),
    }, { signal });
  } catch (error) {
    // Another start may have created it meanwhile.
    if (error instanceof DockerError && error.statusCode === 409) return;
    throw error;
  }
}

/** Creates the service's named volumes (labelled) unless they exist. */
export async function ensureVolumes(
  ctx: EngineScope & Pick<StackContext, "engineSlots">,
  def: ServiceDefinition,
  signal: AbortSignal,
): Promise<void> {
  for (const volume of def.volumes.filter((v) => v.kind === "volume")) {
    await ctx.engineSlots.run(() =>
      ctx.engine.createVolume({
        Name: volumeName(ctx.registry.project, volume.source),
        Labels: ownedLabels({
          project: ctx.registry.project,
          kind: "volume",
          service: def.name,
          extra: ctx.extraLabels,
        }),
      }, { signal }), signal);
  }
}

/** Pulls the image if absent, chooses host ports and creates the container (not started). */
export async function prepareContainer(
  ctx: EngineScope & RecordKeeping & Pick<StackContext, "engineSlots" | "ports" | "publish">,
  def: ServiceDefinition,
  hash: string,
  options: { signal: AbortSignal; onPhase: OnPhase; network?: Promise<void> },
): Promise<void> {
  const { signal } = options;
  const record = recordOf(ctx, def.name);
  if (!(await ctx.engine.findImage(def.image, { signal }))) {
    apply(ctx, def.name, { type: "pull" });
    options.onPhase("pulling", `pulling image "${def.image}"`);
    await pullImage(ctx, def, signal, options.onPhase);
  }
  apply(ctx, def.name, { type: "create" });
  const hostPorts: (number | undefined)[] = [];
  const mappings: string[] = [];
  for (const port of def.ports) {
    if (port.hostPort === undefined) {
      hostPorts.push(undefined);
      continue;
    }
    const choice = await ctx.ports.allocate(def.name, { ...port, hostPort: port.hostPort }, signal);
    hostPorts.push(choice.hostPort);
    mappings.push(formatPortMapping(choice.hostPort, port));
    if (choice.remapped) {
      ctx.publish({
        type: "service_port_remapped",
        resourceId: def.name,
        data: {
          container_port: `${port.containerPort}/${port.protocol}`,
          wanted: String(choice.wanted),
          host_port: String(choice.hostPort),
        },
      });
    }
  }
  record.portMappings = mappings;
  record.hostPorts = hostPorts.filter((p): p is number => p !== undefined);
  const remaps = def.ports
    .map((p, i) =>
      p.hostPort !== undefined && hostPorts[i] !== p.hostPort ? `${p.hostPort} busy, using ${hostPorts[i]}` : ""
    )
    .filter(Boolean);
  options.onPhase("creating", `creating container${remaps.length ? ` (${remaps.join("; ")})` : ""}`);
  const spec = containerSpec(def, {
    project: ctx.registry.project,
    definitionHash: hash,
    hostPorts,
    extraLabels: ctx.extraLabels,
  });
  await options.network;
  // Containers that can start at once are created first; the others have until their dependencies are healthy.
  const priority = def.dependsOn.length === 0 ? PRIORITY_CREATE_NOW : PRIORITY_CREATE_LATER;
  const id = await ctx.engineSlots.run(() => ctx.engine.createContainer(spec, { signal }), signal, priority);
  record.containerId = id;
  apply(ctx, def.name, { type: "created", containerId: id });
}

/** Starts the prepared container. */
export async function startPrepared(
  ctx: RecordKeeping & Pick<StackContext, "engine" | "engineSlots">,
  def: ServiceDefinition,
  options: { signal: AbortSignal; onPhase: OnPhase },
): Promise<void> {
  const record = recordOf(ctx, def.name);
  options.onPhase("starting", "starting container");
  await ctx.engineSlots.run(
    () => ctx.engine.startContainer(record.containerId!, { signal: options.signal }),
    options.signal,
    PRIORITY_START,
  );
  apply(ctx, def.name, { type: "probe" });
  options.onPhase("probing", `waiting for the ${def.health.kind} health check`);
}

/** Probes the service's container until healthy, its deadline, or its exit; records its ports. */
export async function probeUntilHealthy(
  ctx: EngineScope & Pick<StackContext, "records">,
  def: ServiceDefinition,
  signal: AbortSignal,
  options: { adopting?: boolean; deadlineMs?: number } = {},
): Promise<WaitHealthyResult> {
  const record = recordOf(ctx, def.name);
  const id = record.containerId!;
  const details = await ctx.engine.inspectContainer(id, { signal });
  if (options.adopting) {
    const ports = publishedPorts(details);
    record.hostPorts = ports.map((p) => p.hostPort);
    record.portMappings = ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`);
  }
  const result = await waitHealthy(def.health, probeContext(ctx, def, details), {
    signal,
    deadlineMs: options.deadlineMs ?? def.health.timeoutSeconds * 1000,
  });
  record.lastHealth = { healthy: result.healthy, detail: result.detail, at: Date.now() };
  return result;
}

/** The probe context of a container: where its port is reached and how to exec in it. */
export function probeContext(ctx: EngineScope, def: ServiceDefinition, details: ContainerDetails): ProbeContext {
  const id = details.Id;
  return {
    address: probeAddress(details, {
      project: ctx.registry.project,
      containerPort: def.health.port,
      dockerHost: ctx.engine.dockerHost,
    }),
    exec: async (command, signal) => {
      const result = await ctx.engine.exec(id, command, { signal });
      return { exitCode: result.exitCode, output: result.stdout + result.stderr };
    },
    dockerHealth: async (signal) => {
      const info = await ctx.engine.inspectContainer(id, { signal });
      return info.State?.Health?.Status;
    },
    alive: async (signal) => {
      const info = await ctx.engine.inspectContainer(id, { signal });
      return {
        running: info.State?.Running === true,
        detail: `exit code ${info.State?.ExitCode ?? "?"}${info.State?.Error ? `: ${info.State.Error}` : ""}`,
      };
    },
  };
}

async function pullImage(
  ctx: Pick<StackContext, "engine" | "engineSlots">,
  def: ServiceDefinition,
  signal: AbortSignal,
  onPhase: OnPhase,
): Promise<void> {
  let failure: string | undefined;
  try {
    await ctx.engineSlots.run(async () => {
      for await (const progress of pullImages(ctx.engine, [def.image], { signal, throttleMs: 250 })) {
        if (progress.status === "error") failure = progress.message;
        else onPhase("pulling", `pulling image "${def.image}": ${progress.status}`, progress.percent);
      }
    }, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    failure = (error as Error).message;
  }
  if (failure !== undefined || !(await ctx.engine.findImage(def.image, { signal }))) {
    throw new ImageNotFoundError({ service: def.name, image: def.image, hint: def.imageHint }, {
      cause: new Error(failure ?? "the pull ended without the image"),
    });
  }
}
