/**
 * The shape every task executor shares: it runs one attempt of a task and
 * either returns what the task produced or throws a TaskExecutionError.
 *
 * @module
 */

import type { Task } from "../task.ts";

/** What one successful attempt produced. */
export interface ExecutionResult {
  /** builtin, execution, runner or slurm. */
  executor: string;
  /** The task's output, stored as JSON in the result's `data`. */
  output: unknown;
  /** The last lines the task printed, if it ran as a process. */
  stdoutTail?: string;
  stderrTail?: string;
  exitCode?: number;
  /** Further facts for the result metadata (container id, Slurm job id...). */
  extra?: Record<string, unknown>;
}

/** What an executor gets besides the task. */
export interface ExecutionContext {
  /** The attempt being run, from 1. */
  attempt: number;
  /** Aborted on cancel, timeout or shutdown. */
  signal: AbortSignal;
  /** Records events the executor causes (Slurm job submitted, completed). */
  publish: (type: string, data: Record<string, unknown>) => void;
}

/** Runs one attempt of a task. */
export type TaskExecutor = (task: Task, context: ExecutionContext) => Promise<ExecutionResult>;

/** What a container or process run returns (matches src/env's Executor). */
export interface ProcessOutcome {
  exitCode: number;
  stdoutTail: string;
  stderrTail: string;
  /** The JSON after the last `__DSPY_RESULT__:` line, if any. */
  output?: unknown;
  containerId?: string;
  latencyMs: number;
  timedOut: boolean;
}

/**
 * The environment manager's executor of `payload.execution` (docs/compatibility.md §4):
 * one-off container when `image` is set, else a local process. Implemented
 * by src/env; structurally typed here so the orchestrator does not depend on
 * its internals.
 */
export interface ExecutionBackend {
  /** Runs a parsed execution spec to its end. */
  execute(
    spec: never,
    options: { taskId: string; signal: AbortSignal },
  ): Promise<ProcessOutcome>;
}
