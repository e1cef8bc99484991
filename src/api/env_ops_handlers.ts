/**
 * The EnvManagerService operations handlers: PullImages, StreamLogs,
 * GetResourceAvailability and ExecuteTask. `envManagerHandlers()` spreads them in.
 * Domain errors pass through unchanged; the error interceptor maps them to gRPC codes.
 * @module
 */
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DockerError,
  type Engine,
  type EnvManager,
  type ExecutionOutcome,
  type Executor,
  InvalidExecutionSpecError,
  parseExecutionSpec,
  pullImages,
  resourceAvailability,
  serviceLogs,
  type UsageProbe,
} from "../env/mod.ts";
import type { EnvManagerService } from "../gen/env_manager/v1/env_manager_pb.ts";
import { requireArgument } from "./errors.ts";

/** The four operations handlers. */
export type EnvOpsHandlers = Pick<
  ServiceImpl<typeof EnvManagerService>,
  "pullImages" | "streamLogs" | "getResourceAvailability" | "executeTask"
>;

/** What the operations handlers need. */
export interface EnvOpsDeps {
  /** The Docker engine. */
  engine: Engine;
  /** Runs ExecuteTask's `payload.execution`. */
  executor: Executor;
  /** The project (namespace) of the service containers. */
  project: string;
  /** Whether a service name is defined (registry or config): StreamLogs answers NOT_FOUND otherwise. */
  isKnownService: (name: string) => boolean;
  /** The images of every enabled service, pulled when PullImages names none. @default none */
  serviceImages?: () => string[];
  /** Slots per workload class, from the scheduler. @default host cores / GPUs, none in use */
  usage?: UsageProbe;
  /** The nvidia-smi program. @default "nvidia-smi" */
  nvidiaSmi?: string;
}

/** Returns the PullImages, StreamLogs, GetResourceAvailability and ExecuteTask handlers. */
export function envOpsHandlers(deps: EnvOpsDeps): EnvOpsHandlers {
  return {
    async *pullImages(req, ctx) {
      const images = req.imageNames.length > 0 ? req.imageNames : deps.serviceImages?.() ?? [];
      for await (const p of pullImages(deps.engine, images, { signal: ctx.signal })) {
        yield {
          imageName: p.image,
          status: p.status,
          current: BigInt(p.current),
          total: BigInt(p.total),
          progressPercent: p.percent,
          message: p.message,
        };
      }
    },

    async *streamLogs(req, ctx) {
      requireArgument(req.serviceName.trim() !== "", "service_name is required");
      requireArgument(req.tail >= 0 && req.tail <= 100_000, `tail ${req.tail} is out of range: give 0 (all) to 100000`);
      const lines = serviceLogs(deps.engine, {
        project: deps.project,
        service: req.serviceName,
        follow: req.follow,
        tail: req.tail > 0 ? req.tail : undefined,
        since: req.sinceTimestamp > 0n ? Number(req.sinceTimestamp) : undefined,
        isKnown: deps.isKnownService,
        signal: ctx.signal,
      });
      for await (const line of lines) {
        yield {
          serviceName: line.service,
          containerId: line.containerId,
          stream: line.stream,
          message: line.message,
          timestamp: BigInt(line.timestamp),
          timestampNanos: line.timestampNanos,
        };
      }
    },

    async getResourceAvailability(req, ctx) {
      const answer = await resourceAvailability({
        workloadClass: req.workloadClass,
        usage: deps.usage,
        nvidiaSmi: deps.nvidiaSmi,
        signal: ctx.signal,
      });
      return {
        available: answer.available,
        capacity: answer.capacity,
        inUse: answer.inUse,
        hardware: {
          cpuCores: answer.hardware.cpuCores,
          memoryBytes: BigInt(answer.hardware.memoryBytes),
          gpus: answer.hardware.gpus.map((gpu) => ({
            index: gpu.index,
            name: gpu.name,
            memoryBytes: BigInt(gpu.memoryBytes),
            utilizationPercent: gpu.utilizationPercent,
          })),
        },
      };
    },

    async executeTask(req, ctx) {
      const taskId = req.taskId || crypto.randomUUID();
      const text = req.payload.execution;
      if (text === undefined || text.trim() === "") {
        throw new InvalidExecutionSpecError("execution", "payload.execution is required (docs/compatibility.md §4)");
      }
      const spec = parseExecutionSpec(text);
      requireArgument(
        req.timeoutSeconds >= 0 && req.timeoutSeconds <= 2_592_000,
        `timeout_seconds ${req.timeoutSeconds} is out of range: give 0 (the default) to 2592000`,
      );
      if (req.timeoutSeconds > 0) spec.timeoutSeconds = req.timeoutSeconds;
      const started = performance.now();
      let result: ExecutionOutcome;
      try {
        result = await deps.executor.execute(spec, { taskId, signal: ctx.signal });
      } catch (err) {
        // The engine answered but the run failed (no such image, bad mount): a failed task, not a failed RPC.
        if (!(err instanceof DockerError)) throw err;
        return { success: false, error: err.message, result: {}, latencyMs: performance.now() - started };
      }
      return {
        success: result.exitCode === 0 && !result.timedOut,
        error: failureOf(taskId, spec.timeoutSeconds, result),
        result: resultMap(req.workloadClass, result),
        latencyMs: result.latencyMs,
      };
    },
  };
}

/** The ExecuteTask result map: exit_code, stdout_tail, stderr_tail, data, container_id, ... */
function resultMap(workloadClass: string, result: ExecutionOutcome): Record<string, string> {
  const map: Record<string, string> = {
    exit_code: String(result.exitCode),
    stdout_tail: result.stdoutTail,
    stderr_tail: result.stderrTail,
    timed_out: String(result.timedOut),
    latency_ms: String(Math.round(result.latencyMs)),
  };
  if (workloadClass) map.class = workloadClass;
  if (result.output !== undefined) map.data = JSON.stringify(result.output);
  if (result.outputError) map.output_error = result.outputError;
  if (result.containerId) map.container_id = result.containerId;
  return map;
}

function failureOf(taskId: string, timeoutSeconds: number, result: ExecutionOutcome): string {
  if (result.timedOut) return `Task "${taskId}" timed out after ${timeoutSeconds} s and was killed`;
  if (result.exitCode !== 0) return `Task "${taskId}" exited with code ${result.exitCode}`;
  return "";
}

/** Options for {@linkcode envOpsDepsFor}. */
export interface EnvOpsDepsForOptions {
  /** The environment manager, whose registry says which services exist and which images they use. */
  env: EnvManager;
  /** The Docker engine. */
  engine: Engine;
  /** The executor of `payload.execution`. */
  executor: Executor;
  /** Slots per workload class (the orchestrator's `usage`). */
  usage?: UsageProbe;
}

/** Builds {@linkcode EnvOpsDeps} from the environment manager's registry (what the daemon wires). */
export function envOpsDepsFor(options: EnvOpsDepsForOptions): EnvOpsDeps {
  const registry = options.env.services;
  return {
    engine: options.engine,
    executor: options.executor,
    project: registry.project,
    isKnownService: (name) => registry.services.has(name),
    serviceImages: () => [...new Set(registry.select([]).map((service) => service.image))],
    usage: options.usage,
  };
}
