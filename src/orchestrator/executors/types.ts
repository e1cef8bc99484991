/**
 * The shape every task executor shares: it runs one attempt of a task and
 * either returns what the task produced or throws a TaskExecutionError.
 *
 * @module
 */

import type { Task } from "../task.ts";

/** What one successful attempt produced. */
export interface AttemptResult {
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
export interface AttemptContext {
  /** The attempt being run, from 1. */
  attempt: number;
  /** Aborted on cancel, timeout or shutdown. */
  signal: AbortSignal;
  /** Records events the executor causes (Slurm job submitted, completed). */
  publish: (type: string, data: Record<string, unknown>) => void;
}

/** Runs one attempt of a task. */
export type AttemptRunner = (task: Task, context: AttemptContext) => Promise<AttemptResult>;
