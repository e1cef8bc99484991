/**
 * Running `payload.execution` (docs/compatibility.md §4) through the environment
 * manager's executor: a one-off container when `image` is set, else a local
 * process. The orchestrator only maps the outcome onto the task.
 *
 * @module
 */

import { TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import type { ExecutionSpec, Executor } from "../../env/mod.ts";
import type { AttemptContext, AttemptResult, AttemptRunner } from "./types.ts";

/** Options of {@linkcode specAttempts}. */
export interface SpecAttemptsOptions {
  /** Runs a parsed spec: a one-off container or a local process. */
  executor: Executor;
  /** Validates `payload.execution` into a spec; throws on a bad one. */
  parse: (value: unknown) => ExecutionSpec;
}

/** Returns an executor for tasks that carry `payload.execution`. */
export function specAttempts(options: SpecAttemptsOptions): AttemptRunner {
  return async (task: Task, context: AttemptContext): Promise<AttemptResult> => {
    let spec: ExecutionSpec;
    try {
      spec = options.parse(task.payload.execution);
    } catch (error) {
      throw new TaskExecutionError(task.id, "execution", (error as Error).message, {
        cause: error,
      });
    }
    const outcome = await options.executor.execute(spec, {
      taskId: task.id,
      signal: context.signal,
    });
    if (context.signal.aborted) throw context.signal.reason;
    const metadata = {
      exit_code: outcome.exitCode,
      logs: { stdout_tail: outcome.stdoutTail, stderr_tail: outcome.stderrTail },
      container_id: outcome.containerId,
      timed_out: outcome.timedOut,
    };
    if (outcome.timedOut) {
      throw new TaskExecutionError(task.id, "execution", "the execution timed out", {
        metadata,
      });
    }
    if (outcome.exitCode !== 0) {
      const lastLine = outcome.stderrTail.trim().split("\n").pop() ?? "";
      throw new TaskExecutionError(
        task.id,
        "execution",
        `the command exited with code ${outcome.exitCode}${lastLine ? `: ${lastLine}` : ""}`,
        { metadata },
      );
    }
    return {
      executor: "execution",
      output: outcome.output ?? null,
      stdoutTail: outcome.stdoutTail,
      stderrTail: outcome.stderrTail,
      exitCode: outcome.exitCode,
      extra: outcome.containerId ? { container_id: outcome.containerId } : {},
    };
  };
}
