/**
 * Moves one run forward: reconcile its running steps with their tasks, ask
 * the planner what comes next, and carry that out durably. Idempotent, so the
 * engine calls it after any task change, after a start and on recovery.
 *
 * @module
 */

import { planRun, type StepSnapshot } from "./plan.ts";
import {
  taskOutcome,
  taskOutput,
  type WorkflowEventLog,
  type WorkflowTask,
  type WorkflowTaskService,
} from "./ports.ts";
import { resolvePayload, stepTask, stepTaskId } from "./step_task.ts";
import type { WorkflowStep } from "./spec.ts";
import { isRunFinished, transitionRun, transitionStep } from "./state.ts";
import type { RunRecord, StepRecord, WorkflowStorePort } from "./store.ts";

/** What {@linkcode advanceRun} works with. */
export interface AdvanceContext {
  store: WorkflowStorePort;
  tasks: WorkflowTaskService;
  events: WorkflowEventLog;
  now: () => number;
}

/**
 * Advances a run as far as it can go now. Returns true when anything
 * changed (watchers are then told).
 */
export async function advanceRun(
  context: AdvanceContext,
  runId: string,
): Promise<boolean> {
  const { store } = context;
  let run = await store.getRun(runId);
  if (!run || isRunFinished(run.state)) return false;
  let changed = false;
  if (run.state === "pending") {
    await store.updateRun(runId, { state: transitionRun("pending", "running") });
    await publish(context, "workflow_run_started", run, {});
    run = { ...run, state: "running" };
    changed = true;
  }
  // Each pass either launches steps or finishes the run; a step that fails at
  // launch (a reference without a value) needs one more pass to fail the run.
  for (let pass = 0; pass <= run.spec.steps.length + 1; pass++) {
    const steps = await store.listSteps(runId);
    changed = (await reconcile(context, run, steps)) || changed;
    const fresh = await store.listSteps(runId);
    const plan = planRun(run.spec, snapshots(fresh));
    if (plan.kind === "succeeded") {
      await store.updateRun(runId, {
        state: transitionRun(run.state, "succeeded"),
        output: plan.output,
        finishedAtMs: context.now(),
      });
      await publish(context, "workflow_run_succeeded", run, {
        output: JSON.stringify(plan.output),
      });
      return true;
    }
    if (plan.kind === "failed") {
      const failed = fresh.find((step) => step.stepId === plan.failedStep)!;
      const error = `step "${failed.stepId}" failed: ${failed.error || "unknown error"}`;
      await cancelSteps(
        context,
        run,
        fresh,
        plan.cancel,
        `workflow run failed: ${error}`,
      );
      await store.updateRun(runId, {
        state: transitionRun(run.state, "failed"),
        error,
        finishedAtMs: context.now(),
      });
      await publish(context, "workflow_run_failed", run, {
        step_id: failed.stepId,
        error,
      });
      return true;
    }
    if (plan.ready.length === 0) return changed;
    const outputs = Object.fromEntries(
      fresh.filter((step) => step.state === "succeeded").map((
        step,
      ) => [step.stepId, step.output]),
    );
    for (const stepId of plan.ready) {
      await launch(
        context,
        run,
        run.spec.steps.find((step) => step.id === stepId)!,
        outputs,
      );
    }
    changed = true;
  }
  return changed;
}

/** Cancels the given unfinished steps (and their tasks) of a run. */
export async function cancelSteps(
  context: AdvanceContext,
  run: RunRecord,
  steps: StepRecord[],
  stepIds: string[],
  reason: string,
): Promise<void> {
  for (const step of steps) {
    if (!stepIds.includes(step.stepId)) continue;
    if (step.state === "running" && step.taskId !== "") {
      try {
        await context.tasks.cancel(step.taskId, reason);
      } catch {
        // The task finished meanwhile; the step is cancelled all the same.
      }
    }
    await context.store.updateStep(run.id, step.stepId, {
      state: transitionStep(step.state, "cancelled"),
      error: reason,
      finishedAtMs: context.now(),
    });
  }
}

/** Applies finished tasks to their running steps; true when a step finished. */
async function reconcile(
  context: AdvanceContext,
  run: RunRecord,
  steps: StepRecord[],
): Promise<boolean> {
  let changed = false;
  for (const step of steps) {
    if (step.state !== "running") continue;
    let task = await findTask(context.tasks, step.taskId);
    if (!task) {
      // The daemon stopped between recording the launch and submitting the
      // task: submit it now (same id, so never twice).
      const outputs = Object.fromEntries(
        steps.filter((other) => other.state === "succeeded").map((
          other,
        ) => [other.stepId, other.output]),
      );
      const spec = run.spec.steps.find((candidate) => candidate.id === step.stepId)!;
      task = (await context.tasks.submit(
        stepTask(run, spec, resolvePayload(run, spec, outputs)),
      )).task;
    }
    const outcome = taskOutcome(task);
    if (outcome === "running") continue;
    const stepPatch = outcome === "succeeded"
      ? {
        state: transitionStep("running", "succeeded"),
        output: taskOutput(task),
        finishedAtMs: context.now(),
      }
      : {
        state: transitionStep("running", "failed"),
        error: task.error || `task ended ${task.state}`,
        finishedAtMs: context.now(),
      };
    await context.store.updateStep(run.id, step.stepId, stepPatch);
    await publish(context, `workflow_step_${outcome}`, run, {
      step_id: step.stepId,
      task_id: task.id,
      ...(outcome === "failed" ? { error: stepPatch.error ?? "" } : {}),
    });
    changed = true;
  }
  return changed;
}

async function launch(
  context: AdvanceContext,
  run: RunRecord,
  step: WorkflowStep,
  outputs: Record<string, unknown>,
): Promise<void> {
  const taskId = stepTaskId(run.id, step.id);
  let payload: Record<string, string>;
  try {
    payload = resolvePayload(run, step, outputs);
  } catch (error) {
    await context.store.updateStep(run.id, step.id, {
      state: transitionStep("waiting", "failed"),
      error: (error as Error).message,
      finishedAtMs: context.now(),
    });
    await publish(context, "workflow_step_failed", run, {
      step_id: step.id,
      error: (error as Error).message,
    });
    return;
  }
  // Record the launch before submitting: on a crash in between, recovery
  // finds the step running without its task and submits it (same id).
  await context.store.updateStep(run.id, step.id, {
    state: transitionStep("waiting", "running"),
    taskId,
    startedAtMs: context.now(),
  });
  await publish(context, "workflow_step_started", run, {
    step_id: step.id,
    task_id: taskId,
  });
  try {
    await context.tasks.submit(stepTask(run, step, payload));
  } catch (error) {
    await context.store.updateStep(run.id, step.id, {
      state: transitionStep("running", "failed"),
      error: (error as Error).message,
      finishedAtMs: context.now(),
    });
    await publish(context, "workflow_step_failed", run, {
      step_id: step.id,
      task_id: taskId,
      error: (error as Error).message,
    });
  }
}

async function findTask(
  tasks: WorkflowTaskService,
  id: string,
): Promise<WorkflowTask | undefined> {
  try {
    return (await tasks.get(id)) ?? undefined;
  } catch (error) {
    if ((error as Error).name === "TaskNotFoundError") return undefined;
    throw error;
  }
}

function snapshots(steps: StepRecord[]): Record<string, StepSnapshot> {
  return Object.fromEntries(
    steps.map((
      step,
    ) => [step.stepId, { state: step.state, output: step.output }]),
  );
}

/** Publishes a run-scoped event (resource id = run id). */
export async function publish(
  context: AdvanceContext,
  type: string,
  run: RunRecord,
  data: Record<string, string>,
): Promise<void> {
  await context.events.publish({
    type,
    resourceId: run.id,
    data: { workflow_id: run.workflowId, ...data },
  });
}
