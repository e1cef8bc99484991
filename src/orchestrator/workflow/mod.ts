/**
 * Workflows: JSON specs of steps run as a DAG of durable tasks. The orchestrator builds the engine with
 * {@linkcode createWorkflowEngine} on its database, task service and event log.
 *
 * @module
 */

export { createWorkflowEngine } from "./engine.ts";
export type { CreatedWorkflow, WorkflowEngine, WorkflowEngineOptions } from "./engine.ts";
export {
  IllegalWorkflowTransitionError,
  InvalidRunListingError,
  WorkflowExistsError,
  WorkflowInputError,
  WorkflowNotFoundError,
  WorkflowRunNotFoundError,
  WorkflowSpecError,
} from "./errors.ts";
export type { StepTaskInput, WorkflowEventLog, WorkflowTask, WorkflowTaskService } from "./ports.ts";
export { DEFAULT_RUN_PAGE, MAX_RUN_PAGE } from "./listing.ts";
export type { ListRunsInput, RunView, StepView } from "./listing.ts";
export { parseWorkflowSpec } from "./spec.ts";
export type { WorkflowSpec, WorkflowStep } from "./spec.ts";
export type { RunState, StepState } from "./state.ts";
export type { RunStatus, StepStatus } from "./status.ts";
