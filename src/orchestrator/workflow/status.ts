/**
 * A run's status as clients see it (WorkflowStatusUpdate), built from the
 * stored run and steps.
 *
 * @module
 */

import type { RunState, StepState } from "./state.ts";
import type { RunRecord, StepRecord } from "./store.ts";

/** One step inside a {@linkcode RunStatus}. */
export interface StepStatus {
  /** Step id from the spec. */
  id: string;
  state: StepState;
  /** The step's task id; empty while waiting. */
  taskId: string;
  /** Why the step failed or was cancelled. */
  error: string;
}

/** Where a run stands. */
export interface RunStatus {
  runId: string;
  workflowId: string;
  state: RunState;
  /** The running steps, comma-separated (empty when none runs). */
  currentStep: string;
  /** Steps that succeeded. */
  stepsCompleted: number;
  totalSteps: number;
  /** The run's output once it succeeded (see `runOutput`). */
  output: Record<string, string>;
  /** Why the run failed or was cancelled. */
  error: string;
  /** Every step, in spec order. */
  steps: StepStatus[];
}

/** Builds a run's status from its stored records. */
export function runStatus(run: RunRecord, steps: StepRecord[]): RunStatus {
  const byId = new Map(steps.map((step) => [step.stepId, step]));
  const ordered: StepStatus[] = run.spec.steps.map((spec) => {
    const step = byId.get(spec.id);
    return {
      id: spec.id,
      state: step?.state ?? "waiting",
      taskId: step?.taskId ?? "",
      error: step?.error ?? "",
    };
  });
  return {
    runId: run.id,
    workflowId: run.workflowId,
    state: run.state,
    currentStep: ordered.filter((step) => step.state === "running").map((
      step,
    ) => step.id).join(","),
    stepsCompleted: ordered.filter((step) => step.state === "succeeded").length,
    totalSteps: ordered.length,
    output: run.output,
    error: run.error,
    steps: ordered,
  };
}
