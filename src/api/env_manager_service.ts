/**
 * The EnvManagerService handlers: thin adapters from the wire messages (docs/compatibility.md §1) to the environment manager.
 * Domain errors pass through unchanged; the error interceptor maps them to gRPC codes.
 *
 * StartServices, StopServices, RestartService, GetServicesStatus and StreamHealth are here; PullImages,
 * StreamLogs, GetResourceAvailability and ExecuteTask come from `env_ops_handlers.ts` and are spread in.
 *
 * @module
 */
import { requireArgument } from "./errors.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EnvManager, ServiceStatusInfo, StartUpdate } from "../env/mod.ts";
import type {
  EnvManagerService,
  ServiceStatusSchema,
  ServiceStatusUpdateSchema,
} from "../gen/env_manager/v1/env_manager_pb.ts";

type Handlers = ServiceImpl<typeof EnvManagerService>;
type StackHandlers = Pick<
  Handlers,
  "startServices" | "stopServices" | "restartService" | "getServicesStatus" | "streamHealth"
>;
type OpsHandlers = Omit<Handlers, keyof StackHandlers>;

/**
 * Returns every EnvManagerService handler: the stack's own, plus the operations handlers given in `ops`
 * (`pullImages`, `streamLogs`, `getResourceAvailability`, `executeTask`).
 */
export function envManagerHandlers(env: EnvManager, ops: Partial<OpsHandlers> = {}): Partial<Handlers> {
  return { ...ops, ...stackHandlers(env) };
}

/** The handlers of the service stack: start, stop, restart, status and health. */
export function stackHandlers(env: EnvManager): StackHandlers {
  return {
    async *startServices(req, ctx) {
      // `parallel` is always on: each service starts when its own dependencies are healthy.
      checkNames(req.serviceNames);
      const updates = env.start({ names: req.serviceNames, gpu: req.gpu || undefined, signal: ctx.signal });
      for await (const update of updates) yield toStatusUpdate(update);
    },
    async stopServices(req, ctx) {
      checkNames(req.serviceNames);
      checkRange("timeout_seconds", req.timeoutSeconds, 0, 3600);
      const result = await env.stop({
        names: req.serviceNames,
        timeoutSeconds: req.timeoutSeconds > 0 ? req.timeoutSeconds : 10,
        remove: req.remove,
        removeVolumes: req.removeVolumes,
        signal: ctx.signal,
      });
      return { success: result.success, serviceResults: result.results };
    },
    async restartService(req, ctx) {
      checkRange("timeout_seconds", req.timeoutSeconds, 0, 3600);
      const result = await env.restart(req.serviceName, {
        timeoutSeconds: req.timeoutSeconds > 0 ? req.timeoutSeconds : 10,
        signal: ctx.signal,
      });
      return result;
    },
    async getServicesStatus(req, ctx) {
      checkNames(req.serviceNames);
      const statuses = await env.status({ names: req.serviceNames, signal: ctx.signal });
      return { services: Object.fromEntries(statuses.map((s) => [s.name, toServiceStatus(s)])) };
    },
    async *streamHealth(req, ctx) {
      checkNames(req.serviceNames);
      checkRange("interval_seconds", req.intervalSeconds, 0, 3600);
      const updates = env.watchHealth({
        names: req.serviceNames,
        intervalSeconds: req.intervalSeconds > 0 ? req.intervalSeconds : 5,
        signal: ctx.signal,
      });
      for await (const h of updates) {
        yield {
          serviceName: h.service,
          healthy: h.healthy,
          message: h.message,
          timestamp: BigInt(Math.floor(h.timestamp / 1000)),
          details: h.details,
        };
      }
    },
  };
}

/** Maps a start update to the wire message. */
export function toStatusUpdate(update: StartUpdate): MessageInitShape<typeof ServiceStatusUpdateSchema> {
  return {
    serviceName: update.service,
    status: update.status,
    message: update.message,
    progress: update.progress,
    phase: update.phase,
    portMappings: update.portMappings,
    logTail: update.logTail,
    required: update.required,
    elapsedMs: BigInt(update.elapsedMs),
  };
}

/** Maps a service status to the wire message. */
export function toServiceStatus(s: ServiceStatusInfo): MessageInitShape<typeof ServiceStatusSchema> {
  return {
    name: s.name,
    status: s.status,
    containerId: s.containerId,
    ports: s.ports,
    healthChecks: s.healthChecks,
    startedAt: BigInt(s.startedAt),
    resourceUsage: s.usage
      ? {
        cpuPercent: s.usage.cpuPercent,
        memoryBytes: BigInt(Math.round(s.usage.memoryBytes)),
        networkRxBytes: BigInt(Math.round(s.usage.networkRxBytes)),
        networkTxBytes: BigInt(Math.round(s.usage.networkTxBytes)),
      }
      : undefined,
    portMappings: s.portMappings,
    message: s.message,
    required: s.required,
    image: s.image,
    restartCount: s.restartCount,
    enabled: s.enabled,
    exited: s.exitCode !== undefined,
    exitCode: s.exitCode ?? 0,
    lastProbe: s.lastProbe ? `${s.lastProbe.healthy ? "healthy" : "unhealthy"}: ${s.lastProbe.detail}` : "",
    lastProbeAtMs: BigInt(s.lastProbe?.at ?? 0),
  };
}

/** Service names per request: a stack has dozens at most (docs/validation.md). */
const MAX_NAMES = 1000;

function checkNames(names: string[]): void {
  requireArgument(names.length <= MAX_NAMES, `service_names: ${names.length} names; at most ${MAX_NAMES}`);
}

/** INVALID_ARGUMENT naming the field and its range when `value` is outside it (docs/validation.md). */
export function checkRange(field: string, value: number, min: number, max: number): void {
  requireArgument(value >= min && value <= max, `${field} ${value} is out of range: give ${min} to ${max}`);
}
