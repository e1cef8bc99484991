/**
 * The task model (docs/compatibility.md §2.4–2.7) and its lifecycle as data: a task's
 * state changes only through {@linkcode transitionTask}, a pure function that
 * refuses every move the lifecycle has no edge for.
 *
 * @module
 */

import { IllegalTaskTransitionError } from "./errors.ts";
import type { PayloadValue } from "./payload.ts";

/** The detailed states of a task. `retrying` waits for its backoff to pass. */
export type TaskState =
  | "pending"
  | "running"
  | "retrying"
  | "completed"
  | "failed"
  | "cancelled"
  | "timed_out";

/** The four states existing clients understand (docs/compatibility.md §2.5). */
export type TaskStatusV1 = "pending" | "running" | "completed" | "failed";

/** Every detailed state, for validation. */
export const TASK_STATES: readonly TaskState[] = [
  "pending",
  "running",
  "retrying",
  "completed",
  "failed",
  "cancelled",
  "timed_out",
];

/** The states a task never leaves. */
export const TERMINAL_STATES: readonly TaskState[] = [
  "completed",
  "failed",
  "cancelled",
  "timed_out",
];

/** One task as stored. A plain object: copies are handed out, never shared state. */
export interface Task {
  /** At most 128 characters of [A-Za-z0-9._:-]. */
  id: string;
  /** cpu_short, cpu_long, gpu, gpu_slurm or a configured class. */
  class: string;
  state: TaskState;
  /** Higher runs first. */
  priority: number;
  /** The payload strings as submitted. */
  rawPayload: Record<string, string>;
  /** The payload decoded per docs/compatibility.md §2.4. */
  payload: Record<string, PayloadValue>;
  /** The v1 result map (docs/compatibility.md §2.7), set when the task finishes. */
  result: Record<string, string>;
  /** Why the task failed, was cancelled or timed out; "" otherwise. */
  error: string;
  /** Attempts started so far. */
  attempts: number;
  /** Attempts allowed in all (1 = no retry). */
  maxAttempts: number;
  /** Attempts given back because the daemon stopped during them (they do not count as attempts). */
  interruptions: number;
  /** Interruptions survived before the task fails; 0 = at-most-once (an interrupted attempt is not run again). */
  maxInterruptions: number;
  /** The limit on one attempt, in seconds; 0 = none. */
  timeoutSeconds: number;
  /** The workflow it belongs to; "" for none. */
  workflowId: string;
  labels: Record<string, string>;
  createdAtMs: number;
  /** When the current or last attempt started; 0 = never. */
  startedAtMs: number;
  /** When it reached a terminal state; 0 = not yet. */
  finishedAtMs: number;
  /** Not started before this unix time in ms (also the retry backoff); 0 = any time. */
  notBeforeMs: number;
  /** Why a waiting task is not running yet; "" if it is not waiting on anything known. */
  waitingReason: string;
  /** Increases by one with every stored change; streams use it to skip repeats. */
  revision: number;
}

/** A change in a task's life. */
export type TaskEvent =
  | { type: "start"; nowMs: number }
  | { type: "succeed"; nowMs: number; result: Record<string, string> }
  | {
    type: "fail";
    nowMs: number;
    error: string;
    result: Record<string, string>;
    /** A timed-out attempt: final state timed_out rather than failed. */
    timedOut: boolean;
    /** When the next attempt may start, if attempts remain. */
    retryAtMs: number;
  }
  | { type: "cancel"; nowMs: number; reason: string }
  /**
   * The attempt was cut off by something other than the task: the daemon crashed, was killed or stopped, or its host
   * rebooted (found running on start, or given back at shutdown). One rule for every way: the attempt is given back
   * uncounted, up to `maxInterruptions` times, then the task fails saying so.
   */
  | { type: "interrupt"; nowMs: number; reason: string };

/** Whether a state is final. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** Maps a detailed state to the v1 status: every other terminal state reads as failed (docs/compatibility.md §2.5). */
export function v1Status(state: TaskState): TaskStatusV1 {
  switch (state) {
    case "pending":
    case "retrying":
      return "pending";
    case "running":
      return "running";
    case "completed":
      return "completed";
    default:
      return "failed";
  }
}

/**
 * Applies one lifecycle event to a task and returns the changed copy.
 * Pure: throws {@linkcode IllegalTaskTransitionError} for a move with no edge.
 */
export function transitionTask(task: Task, event: TaskEvent): Task {
  const next: Task = { ...task, revision: task.revision + 1 };
  const illegal = () => new IllegalTaskTransitionError(task.id, task.state, event.type);
  switch (event.type) {
    case "start":
      if (task.state !== "pending" && task.state !== "retrying") throw illegal();
      return {
        ...next,
        state: "running",
        attempts: task.attempts + 1,
        startedAtMs: event.nowMs,
        waitingReason: "",
      };
    case "succeed":
      if (task.state !== "running") throw illegal();
      return {
        ...next,
        state: "completed",
        result: event.result,
        error: "",
        finishedAtMs: event.nowMs,
      };
    case "fail": {
      if (task.state !== "running") throw illegal();
      if (task.attempts < task.maxAttempts) {
        return {
          ...next,
          state: "retrying",
          result: event.result,
          error: event.error,
          notBeforeMs: event.retryAtMs,
          waitingReason: `retrying after attempt ${task.attempts} of ${task.maxAttempts} failed`,
        };
      }
      return {
        ...next,
        state: event.timedOut ? "timed_out" : "failed",
        result: event.result,
        error: event.error,
        finishedAtMs: event.nowMs,
      };
    }
    case "cancel":
      if (isTerminal(task.state)) throw illegal();
      return {
        ...next,
        state: "cancelled",
        error: `cancelled: ${event.reason || "no reason given"}`,
        finishedAtMs: event.nowMs,
        waitingReason: "",
      };
    case "interrupt": {
      if (task.state !== "running") throw illegal();
      const interruptions = task.interruptions + 1;
      if (interruptions <= task.maxInterruptions) {
        return {
          ...next,
          state: "pending",
          attempts: task.attempts - 1,
          interruptions,
          waitingReason:
            `requeued: ${event.reason} (interruption ${interruptions} of at most ${task.maxInterruptions})`,
        };
      }
      return {
        ...next,
        state: "failed",
        interruptions,
        error: task.maxInterruptions === 0
          ? `interrupted: ${event.reason}; the task asked for at-most-once, so it is not run again`
          : `interrupted: ${event.reason}, for the ${ordinal(interruptions)} time; at most ${task.maxInterruptions} ` +
            `interruptions are retried (max_interruptions of class "${task.class}")`,
        finishedAtMs: event.nowMs,
      };
    }
  }
}

/** The event type published when a task enters `next.state` through `event` (undefined: none). */
export function lifecycleEventType(next: Task, event: TaskEvent): string | undefined {
  switch (next.state) {
    case "running":
      return "task_started";
    case "completed":
      return "task_completed";
    case "retrying":
      return "task_retrying";
    case "cancelled":
      return "task_cancelled";
    case "failed":
    case "timed_out":
      return "task_failed";
    case "pending":
      return event.type === "interrupt" ? "task_interrupted" : undefined;
  }
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}
