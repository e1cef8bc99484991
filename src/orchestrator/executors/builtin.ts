/**
 * Built-in task types chosen by `payload.task_type`, for tests and
 * benchmarks: `noop`, `echo` (returns its payload), `sleep` (`sleep_ms`) and
 * `fail` (fails with `message`, only while the attempt is at most
 * `fail_attempts` when that is set — to exercise retries).
 *
 * @module
 */

import { delay } from "../../async/mod.ts";
import { TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import type { AttemptContext, AttemptResult } from "./types.ts";

/** The names of the built-in task types. */
export const BUILTIN_TASK_TYPES = ["noop", "echo", "sleep", "fail"] as const;

/** Whether a payload asks for a built-in task type. */
export function isBuiltinTask(task: Task): boolean {
  return (BUILTIN_TASK_TYPES as readonly unknown[]).includes(task.payload.task_type);
}

/** Runs a built-in task type. */
export async function runBuiltin(task: Task, context: AttemptContext): Promise<AttemptResult> {
  const result = (output: unknown): AttemptResult => ({ executor: "builtin", output });
  switch (task.payload.task_type) {
    case "noop":
      return result({});
    case "echo":
      return result(task.payload);
    case "sleep": {
      const ms = Number(task.payload.sleep_ms ?? 0);
      if (!Number.isFinite(ms) || ms < 0) {
        throw new TaskExecutionError(
          task.id,
          "builtin",
          `sleep_ms "${task.payload.sleep_ms}" is not a number of milliseconds`,
        );
      }
      await delay(ms, context.signal);
      return result({ slept_ms: ms });
    }
    case "fail": {
      const failAttempts = Number(task.payload.fail_attempts ?? Infinity);
      if (context.attempt <= failAttempts) {
        throw new TaskExecutionError(
          task.id,
          "builtin",
          String(task.payload.message ?? "asked to fail"),
        );
      }
      return result({ recovered_on_attempt: context.attempt });
    }
    default:
      throw new TaskExecutionError(task.id, "builtin", `unknown task_type "${task.payload.task_type}"`);
  }
}
