/**
 * The task a workflow step becomes: its id, resolved payload and labels.
 *
 * @module
 */

import type { StepTaskInput } from "./ports.ts";
import { resolveReferences } from "./reference.ts";
import type { WorkflowStep } from "./spec.ts";
import type { RunRecord } from "./store.ts";

/** The task id of a step: deterministic, so a retried launch finds the same task. */
export function stepTaskId(runId: string, stepId: string): string {
  return `${runId}.${stepId}`;
}

/** The step's payload with every reference replaced; throws naming the one without a value. */
export function resolvePayload(
  run: RunRecord,
  step: WorkflowStep,
  outputs: Record<string, unknown>,
): Record<string, string> {
  const scope = { input: run.input, outputs };
  return Object.fromEntries(
    Object.entries(step.payload).map(([key, value]) => {
      try {
        return [key, resolveReferences(value, scope)];
      } catch (error) {
        throw new Error(
          `Cannot start step "${step.id}": payload "${key}" ${(error as Error).message}`,
          { cause: error },
        );
      }
    }),
  );
}

/** The task a step submits: deterministic id, the workflow id, and labels run_id and step_id. */
export function stepTask(
  run: RunRecord,
  step: WorkflowStep,
  payload: Record<string, string>,
): StepTaskInput {
  return {
    id: stepTaskId(run.id, step.id),
    class: step.class,
    payload,
    priority: step.priority,
    workflowId: run.workflowId,
    timeoutSeconds: step.timeoutSeconds,
    maxAttempts: step.maxAttempts,
    labels: { run_id: run.id, step_id: step.id },
  };
}
