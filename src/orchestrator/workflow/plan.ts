/**
 * The DAG planner: given a spec and where each step stands, decide what the
 * run does next. Pure, so the engine's only job is to carry out the plan.
 *
 * @module
 */

import { finalSteps, type WorkflowSpec } from "./spec.ts";
import type { StepState } from "./state.ts";

/** Where one step stands, as the planner needs it. */
export interface StepSnapshot {
  /** The step's state. */
  state: StepState;
  /** The step task's output (its `data` JSON), once it succeeded. */
  output?: unknown;
}

/** What the run does next. */
export type Plan =
  /** Start `ready` (possibly none, while others run). */
  | { kind: "continue"; ready: string[] }
  /** Every step succeeded; `output` is the run's output map. */
  | { kind: "succeeded"; output: Record<string, string> }
  /** `failedStep` failed for good; `cancel` lists the unfinished steps to cancel. */
  | { kind: "failed"; failedStep: string; cancel: string[] };

/** Decides the next move of a run from its step snapshots. */
export function planRun(
  spec: WorkflowSpec,
  steps: Record<string, StepSnapshot>,
): Plan {
  const failed = spec.steps.find((step) => steps[step.id]?.state === "failed");
  if (failed) {
    const cancel = spec.steps
      .filter((step) => ["waiting", "running"].includes(steps[step.id]?.state ?? "waiting"))
      .map((step) => step.id);
    return { kind: "failed", failedStep: failed.id, cancel };
  }
  if (spec.steps.every((step) => steps[step.id]?.state === "succeeded")) {
    return { kind: "succeeded", output: runOutput(spec, steps) };
  }
  const ready = spec.steps
    .filter((step) => (steps[step.id]?.state ?? "waiting") === "waiting")
    .filter((step) => step.dependsOn.every((dep) => steps[dep]?.state === "succeeded"))
    .map((step) => step.id);
  return { kind: "continue", ready };
}

/**
 * The run's output: for each final step (one no other step depends on),
 * `STEP.KEY` for each key of an object output, or `STEP` for any other
 * output. Values are strings; non-strings as JSON text.
 */
export function runOutput(
  spec: WorkflowSpec,
  steps: Record<string, StepSnapshot>,
): Record<string, string> {
  const output: Record<string, string> = {};
  for (const stepId of finalSteps(spec)) {
    const value = steps[stepId]?.output;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        output[`${stepId}.${key}`] = asText(inner);
      }
    } else if (value !== undefined) {
      output[stepId] = asText(value);
    }
  }
  return output;
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
