/**
 * What the workflow engine needs from the rest of the orchestrator, as
 * narrow structural interfaces: the task service and the event log satisfy
 * them without the engine importing their modules (no import cycle).
 *
 * @module
 */

/** The fields of a task the engine reads. */
export interface WorkflowTask {
  /** Task id. */
  id: string;
  /** Detailed state: pending, retrying, running, completed, failed, cancelled, timed_out... */
  state: string;
  /** The docs/compatibility.md §2.7 result map (`data` holds the output JSON). */
  result: Record<string, string>;
  /** Why the task failed, if it did. */
  error: string;
}

/** What a step submits. */
export interface StepTaskInput {
  id: string;
  class: string;
  payload: Record<string, string>;
  priority: number;
  workflowId: string;
  timeoutSeconds: number;
  maxAttempts: number;
  labels: Record<string, string>;
}

/** The part of the orchestrator's TaskService the engine uses. */
export interface WorkflowTaskService {
  /** Submits a task; the same id again returns the existing task. */
  submit(
    input: StepTaskInput,
  ): Promise<{ task: WorkflowTask; created: boolean }> | {
    task: WorkflowTask;
    created: boolean;
  };
  /** The task with this id (undefined or a TaskNotFoundError when there is none). */
  get(id: string): Promise<WorkflowTask | undefined> | WorkflowTask | undefined;
  /** Cancels a pending or running task. */
  cancel(id: string, reason: string): unknown;
  /**
   * Resolves once every write made so far is committed (the orchestrator
   * batches the writes of one event-loop turn). Absent: writes commit at once.
   */
  flushed?(): Promise<void>;
  /** Calls `listener` after every committed task change; returns the unsubscribe function. */
  subscribe(listener: (task: WorkflowTask) => void): () => void;
}

/** The part of the orchestrator's EventLog the engine uses. */
export interface WorkflowEventLog {
  /** Persists and broadcasts one event. */
  publish(
    event: { type: string; resourceId: string; data: Record<string, string> },
  ): unknown;
}

/** Task states that are not final: the step is still running. */
const UNFINISHED_TASK_STATES = new Set(["pending", "retrying", "running"]);

/** How a step task stands, from the engine's point of view. */
export function taskOutcome(
  task: WorkflowTask,
): "running" | "succeeded" | "failed" {
  if (task.state === "completed") return "succeeded";
  return UNFINISHED_TASK_STATES.has(task.state) ? "running" : "failed";
}

/** The step task's output: the JSON in `data` (or `data_json`); null when absent. */
export function taskOutput(task: WorkflowTask): unknown {
  const text = task.result.data ?? task.result.data_json;
  if (text === undefined || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
