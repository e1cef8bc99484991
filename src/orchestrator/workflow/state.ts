/**
 * The lifecycles of a workflow run and of its steps, as data: a table of
 * allowed edges and pure transition functions that throw on any other move.
 *
 * @module
 */

import { IllegalWorkflowTransitionError } from "./errors.ts";

/** A run's state (docs/compatibility.md §2.11). */
export type RunState =
  | "pending"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled";

/** A step's state: waiting for its dependencies, running as a task, or finished. */
export type StepState =
  | "waiting"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled";

const RUN_EDGES: Record<RunState, readonly RunState[]> = {
  pending: ["running", "failed", "cancelled"],
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
};

const STEP_EDGES: Record<StepState, readonly StepState[]> = {
  waiting: ["running", "failed", "cancelled"],
  running: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** Returns `to` when a run may move from `from` to it; throws otherwise. */
export function transitionRun(from: RunState, to: RunState): RunState {
  if (!RUN_EDGES[from].includes(to)) {
    throw new IllegalWorkflowTransitionError("run", from, to);
  }
  return to;
}

/** Returns `to` when a step may move from `from` to it; throws otherwise. */
export function transitionStep(from: StepState, to: StepState): StepState {
  if (!STEP_EDGES[from].includes(to)) {
    throw new IllegalWorkflowTransitionError("step", from, to);
  }
  return to;
}

/** True for the states a run never leaves. */
export function isRunFinished(state: RunState): boolean {
  return RUN_EDGES[state].length === 0;
}

/** True for the states a step never leaves. */
export function isStepFinished(state: StepState): boolean {
  return STEP_EDGES[state].length === 0;
}
