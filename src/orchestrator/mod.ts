/**
 * The orchestrator: durable tasks, scheduling, executors, events, workflows
 * and metrics. Open it with {@linkcode openOrchestrator}.
 *
 * @module
 */

export { openOrchestrator } from "./orchestrator.ts";
export { openPgOrchestrator, type PgOrchestratorOptions } from "./postgres/pg_orchestrator.ts";
export type {
  BatchSubmitResult,
  EventApi,
  MaybePromise,
  Orchestrator,
  OrchestratorOptions,
  SqliteOrchestrator,
  TaskApi,
  WorkerReport,
} from "./orchestrator.ts";
export type { ListTasksInput, SubmitTaskInput, TaskService } from "./task_service.ts";
export type { EventLog, EventQuery, OrchestratorEvent, PublishInput, SubscribeOptions } from "./store/event_log.ts";
export type { Task, TaskEvent, TaskState, TaskStatusV1 } from "./task.ts";
export { isTerminal, TASK_STATES, TERMINAL_STATES, transitionTask, v1Status } from "./task.ts";
export { decodePayload, decodePayloadValue, encodePayloadValue } from "./payload.ts";
export type { PayloadValue } from "./payload.ts";
export { BUILTIN_CLASSES, DEFAULT_CLASS } from "./scheduling/classes.ts";
export type { ClassOverrides, Hardware } from "./scheduling/classes.ts";
export { BoundedQueue } from "../async/mod.ts";
export {
  AttemptInterruptedError,
  IllegalTaskTransitionError,
  InvalidStoreBackupError,
  InvalidTaskError,
  OrchestratorClosedError,
  SlurmUnavailableError,
  StoreFeatureUnavailableError,
  StoreFullError,
  StoreMigrationError,
  StoreUnavailableError,
  StoreUnusableError,
  SubscriberTooSlowError,
  TaskExecutionError,
  TaskNotFoundError,
} from "./errors.ts";
export type { ListRunsInput, RunView, StepView, WorkflowEngine } from "./workflow/mod.ts";
export {
  InvalidRunListingError,
  WorkflowExistsError,
  WorkflowInputError,
  WorkflowNotFoundError,
  WorkflowRunNotFoundError,
  WorkflowSpecError,
} from "./workflow/mod.ts";
export { backupDatabase, checkDatabase, openStoppedStore, withStoppedStore } from "./store/db.ts";
export { type ImportCounts, importSqliteStore } from "./postgres/import_sqlite.ts";
export { connectStore } from "./postgres/schema.ts";
export { type WorkerInfo, type WorkerPush, WorkerRegistry } from "./workers/registry.ts";
