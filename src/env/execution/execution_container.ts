/**
 * Runs an execution spec in a one-off, labelled container that is always removed afterwards.
 * @module
 */
import type { ContainerCreateOptions, Engine } from "../engine/engine.ts";
import { DockerError } from "../errors.ts";
import type { ExecutionOutcome } from "./execution.ts";
import { OutputCollector } from "./execution_output.ts";
import { ensureHostPaths } from "./execution_paths.ts";
import type { ExecutionSpec } from "./execution_spec.ts";
import { ownedLabels } from "../labels.ts";

/** Facts about the run that are not part of the spec. */
export interface ContainerRunOptions {
  /** The image to run. */
  image: string;
  /** The task (labels the container). */
  taskId: string;
  /** The project (namespace) label. */
  project: string;
  /** Extra labels. */
  labels: Record<string, string>;
  /** Pull the image when the engine does not have it. */
  pull: boolean;
  /** The network to join; the engine's default bridge when absent. */
  network?: string;
  /** Kills the container and rejects. */
  signal?: AbortSignal;
}

/** How long the log stream may lag behind the container's exit before it is cut. */
const LOG_DRAIN_MS = 2_000;

/** Creates, starts and waits for the task container; kills it at the time limit or on abort. */
export async function runInContainer(
  engine: Engine,
  spec: ExecutionSpec,
  options: ContainerRunOptions,
): Promise<ExecutionOutcome> {
  const { signal } = options;
  const started = performance.now();
  if (options.pull) await ensureImage(engine, options.image, signal);
  await ensureHostPaths(spec, "container");
  const containerId = await engine.createContainer(containerSpec(spec, options), { signal });
  const collector = new OutputCollector();
  const logsStop = new AbortController();
  let timedOut = false;
  const kill = () => engine.killContainer(containerId).catch(() => {});
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, spec.timeoutSeconds * 1000);
  signal?.addEventListener("abort", kill);
  try {
    await engine.startContainer(containerId, { signal });
    const draining = (async () => {
      const frames = engine.logs(containerId, { follow: true, signal: logsStop.signal });
      for await (const frame of frames) collector.write(frame.stream, frame.data);
    })();
    const exitCode = await engine.waitContainer(containerId);
    const drainTimer = setTimeout(() => logsStop.abort(), LOG_DRAIN_MS);
    await draining.finally(() => clearTimeout(drainTimer));
    collector.end();
    signal?.throwIfAborted();
    return { ...collector.summary(), exitCode, containerId, timedOut, latencyMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", kill);
    logsStop.abort();
    // Cleanup must happen even when the caller's signal aborted: no signal here.
    await engine.removeContainer(containerId, { force: true, removeVolumes: true });
  }
}

function containerSpec(spec: ExecutionSpec, options: ContainerRunOptions): ContainerCreateOptions {
  const { cpuMillicores, memBytes, gpuCount } = spec.resources;
  return {
    Image: options.image,
    Cmd: spec.command,
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    WorkingDir: spec.workingDir,
    Labels: ownedLabels({
      project: options.project,
      kind: "task",
      taskId: options.taskId,
      extra: options.labels,
    }),
    HostConfig: {
      NetworkMode: options.network,
      // Mounts (not Binds): ensureHostPaths created missing host folders first, as the earlier runner did.
      Mounts: spec.mounts.map((m) => ({
        Type: "bind" as const,
        Source: m.hostPath,
        Target: m.mountPath,
        ReadOnly: m.readOnly,
      })),
      NanoCpus: cpuMillicores ? Math.round(cpuMillicores * 1e6) : undefined,
      Memory: memBytes ? Math.round(memBytes) : undefined,
      DeviceRequests: gpuCount ? [{ Driver: "nvidia", Count: gpuCount, Capabilities: [["gpu"]] }] : undefined,
    },
  };
}

/** Pulls the image when the engine does not have it; a failed pull names the image and the fix. */
async function ensureImage(engine: Engine, image: string, signal?: AbortSignal): Promise<void> {
  if (await engine.findImage(image, { signal })) return;
  const action = `pull image "${image}"`;
  const hint = `Load it with "docker load" or build it with "docker build -t ${image}"`;
  try {
    for await (const message of engine.pull(image, { signal })) {
      if (message.error) throw new DockerError(action, message.errorDetail?.message ?? message.error);
    }
  } catch (err) {
    if (!(err instanceof DockerError)) throw err;
    throw new DockerError(action, `${err.engineMessage}. ${hint}`, err.statusCode, { cause: err });
  }
}
