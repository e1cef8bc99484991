/**
 * The environment manager: service containers on a Docker engine. This folder owns every Docker call.
 *
 * @module
 */
export {
  type CallOptions,
  type ContainerDetails,
  type ContainerSummary,
  createEngine,
  type Engine,
  type EngineCallObserver,
  type EngineEvent,
  type EngineOptions,
  type ExecResult,
  type ProgressMessage,
} from "./engine/engine.ts";
export { DockerError, DockerUnavailableError, InvalidExecutionSpecError, ServiceNotFoundError } from "./errors.ts";
export {
  createExecutor,
  DEFAULT_TIMEOUT_SECONDS,
  type ExecuteOptions,
  type ExecutionMount,
  type ExecutionOutcome,
  type ExecutionResources,
  type ExecutionSpec,
  type Executor,
  type ExecutorOptions,
  parseExecutionSpec,
  removeTaskContainers,
  type RemoveTaskContainersOptions,
  RESULT_MARKER,
} from "./execution/execution.ts";
export { type LogLine, serviceLogs, type ServiceLogsOptions } from "./stack/logs.ts";
export { pullImages, type PullImagesOptions, type PullProgress, type PullStatus } from "./stack/pull.ts";
export {
  type ClassUsage,
  detectGpus,
  detectHardware,
  type GpuInfo,
  type HardwareInfo,
  type ResourceAvailability,
  resourceAvailability,
  type UsageProbe,
} from "./resources.ts";
export { containerStats, type ContainerStatsOptions, type ContainerUsage } from "./engine/stats.ts";
export {
  LABEL_DEFINITION_HASH,
  LABEL_KIND,
  LABEL_PROJECT,
  LABEL_SERVICE,
  LABEL_TASK,
  LABEL_TEST,
  ownedLabels,
  projectSelector,
} from "./labels.ts";
export { createEnvMetrics, type EnvMetrics } from "./metrics.ts";
export { createEnvManager, type EnvManager, type EnvManagerOptions } from "./stack/stack.ts";
export {
  assertProjectOwned,
  LABEL_HOME,
  LABEL_OWNER,
  loadStackOwner,
  ownerLabels,
  ProjectOwnedElsewhereError,
  type StackOwner,
} from "./stack/ownership.ts";
export type { EnvEvent } from "./stack/stack_context.ts";
export type { StartPhase, StartUpdate } from "./stack/stack_start.ts";
export type { StopStackOptions, StopStackResult } from "./stack/stack_stop.ts";
export type { ResourceUsageInfo, ServiceStatusInfo, StatusOptions } from "./stack/stack_status.ts";
export type { HealthInfo, WatchHealthOptions } from "./stack/stack_health_watch.ts";
export { definitionHash, resolveRegistry, type ServiceRegistry } from "./registry/registry.ts";
export type { HealthCheck, PortSpec, ServiceDefinition, VolumeSpec } from "./registry/service_definition.ts";
export { ImageNotFoundError, ServiceStartError, UnknownServiceError } from "./stack/stack_errors.ts";
export { NoFreePortError } from "./probes/ports.ts";
export { IllegalServiceTransitionError, type ServiceStatusValue } from "./stack/service_state.ts";
