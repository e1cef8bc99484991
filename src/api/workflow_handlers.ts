/**
 * The workflow RPCs of OrchestratorService: CreateWorkflow, StartWorkflowRun,
 * StreamWorkflowStatus, CancelWorkflowRun and ListWorkflowRuns, delegating to the workflow
 * engine. Domain errors propagate; the error interceptor maps them once.
 *
 * @module
 */

import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  OrchestratorService,
  WorkflowRunSchema,
  WorkflowStatusUpdateSchema,
} from "../gen/orchestrator/v1/orchestrator_pb.ts";
import type { RunView, WorkflowEngine } from "../orchestrator/mod.ts";
import { requireArgument } from "./errors.ts";

type RunStatus = Awaited<ReturnType<WorkflowEngine["startRun"]>>;
type WorkflowRpcs =
  | "createWorkflow"
  | "startWorkflowRun"
  | "streamWorkflowStatus"
  | "cancelWorkflowRun"
  | "listWorkflowRuns";

/** The five workflow handlers, to spread into the OrchestratorService implementation. */
export function workflowHandlers(
  engine: WorkflowEngine,
): Pick<ServiceImpl<typeof OrchestratorService>, WorkflowRpcs> {
  return {
    async createWorkflow(request) {
      requireArgument(
        request.spec.length > 0,
        "Cannot create workflow: spec is empty",
      );
      const { workflowId } = await engine.create({
        id: request.id,
        name: request.name,
        description: request.description,
        spec: request.spec,
      });
      // Once CreateWorkflow returns, the workflow survives a kill -9.
      await engine.flushed();
      return { success: true, workflowId };
    },

    async startWorkflowRun(request) {
      requireArgument(
        request.workflowId !== "",
        "Cannot start a workflow run: workflow_id is empty",
      );
      const status = await engine.startRun({
        workflowId: request.workflowId,
        idempotencyKey: request.idempotencyKey,
        input: request.input,
      });
      return { success: true, runId: status.runId };
    },

    async *streamWorkflowStatus(request, context) {
      requireArgument(
        request.runId !== "",
        "Cannot stream workflow status: run_id is empty",
      );
      for await (const status of engine.watch(request.runId, context.signal)) {
        yield toUpdate(status);
      }
    },

    async cancelWorkflowRun(request) {
      requireArgument(
        request.runId !== "",
        "Cannot cancel a workflow run: run_id is empty",
      );
      const status = await engine.cancelRun(request.runId, request.reason);
      return {
        success: status.state === "cancelled",
        status: status.state,
        error: status.state === "cancelled" ? "" : `Cannot cancel run "${status.runId}": it is already ${status.state}`,
      };
    },

    async listWorkflowRuns(request) {
      // The engine checks the bounds (page size, token, states, ids) and names the fix (docs/validation.md).
      const page = await engine.listRuns({
        workflowId: request.workflowId,
        runId: request.runId,
        states: request.states,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { runs: page.runs.map(toWorkflowRun), nextPageToken: page.nextPageToken };
    },
  };
}

/** Unix milliseconds from the daemon's own clock (never a client's value) as a wire int64. */
function ms(value: number): bigint {
  return BigInt(Math.trunc(value));
}

/** A listed run as the wire message (an extension message). */
export function toWorkflowRun(run: RunView): MessageInitShape<typeof WorkflowRunSchema> {
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    workflowName: run.workflowName,
    state: run.state,
    error: run.error,
    createdAtMs: ms(run.createdAtMs),
    finishedAtMs: ms(run.finishedAtMs),
    idempotencyKey: run.idempotencyKey,
    input: run.input,
    output: run.output,
    steps: run.steps.map((step) => ({
      id: step.id,
      state: step.state,
      taskId: step.taskId,
      dependsOn: step.dependsOn,
      error: step.error,
      class: step.class,
      startedAtMs: ms(step.startedAtMs),
      finishedAtMs: ms(step.finishedAtMs),
    })),
  };
}

/** A run status as the wire message (docs/compatibility.md §1 WorkflowStatusUpdate). */
export function toUpdate(
  status: RunStatus,
): MessageInitShape<typeof WorkflowStatusUpdateSchema> {
  return {
    runId: status.runId,
    status: status.state,
    currentStep: status.currentStep,
    stepsCompleted: status.stepsCompleted,
    totalSteps: status.totalSteps,
    output: status.output,
    error: status.error,
  };
}
