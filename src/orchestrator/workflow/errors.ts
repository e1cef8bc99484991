/**
 * Domain errors of the workflow engine. The API edge (src/api/errors.ts)
 * maps each class to one gRPC code; the facts stay in fields.
 *
 * @module
 */

/** A workflow spec is not valid JSON, or breaks a rule (cycle, unknown step or reference). */
export class WorkflowSpecError extends Error {
  /** The workflow whose spec was rejected. */
  readonly workflowId: string;
  /** What is wrong, without the "Cannot create workflow" prefix. */
  readonly reason: string;

  constructor(workflowId: string, reason: string, options?: ErrorOptions) {
    super(`Cannot create workflow "${workflowId}": ${reason}`, options);
    this.name = "WorkflowSpecError";
    this.workflowId = workflowId;
    this.reason = reason;
  }
}

/** A workflow id exists already with a different spec. */
export class WorkflowExistsError extends Error {
  /** The workflow id that is taken. */
  readonly workflowId: string;

  constructor(workflowId: string) {
    super(
      `Cannot create workflow "${workflowId}": a workflow with this id exists with a different spec`,
    );
    this.name = "WorkflowExistsError";
    this.workflowId = workflowId;
  }
}

/** No workflow has the given id. */
export class WorkflowNotFoundError extends Error {
  /** The id that was looked up. */
  readonly workflowId: string;

  constructor(workflowId: string) {
    super(`Cannot find workflow "${workflowId}": no workflow has this id`);
    this.name = "WorkflowNotFoundError";
    this.workflowId = workflowId;
  }
}

/** No workflow run has the given id. */
export class WorkflowRunNotFoundError extends Error {
  /** The id that was looked up. */
  readonly runId: string;

  constructor(runId: string) {
    super(`Cannot find workflow run "${runId}": no run has this id`);
    this.name = "WorkflowRunNotFoundError";
    this.runId = runId;
  }
}

/** A run cannot start because its input lacks a key the spec references. */
export class WorkflowInputError extends Error {
  /** The workflow whose run was refused. */
  readonly workflowId: string;
  /** The missing input keys. */
  readonly missing: string[];

  constructor(workflowId: string, missing: string[]) {
    super(
      `Cannot start a run of workflow "${workflowId}": input ${missing.map((key) => `"${key}"`).join(", ")} is missing`,
    );
    this.name = "WorkflowInputError";
    this.workflowId = workflowId;
    this.missing = missing;
  }
}

/** A run or step was asked to move between states that have no edge. */
export class IllegalWorkflowTransitionError extends Error {
  /** "run" or "step". */
  readonly subject: "run" | "step";
  /** The state it was in. */
  readonly from: string;
  /** The state it was asked to enter. */
  readonly to: string;

  constructor(subject: "run" | "step", from: string, to: string) {
    super(
      `Cannot move workflow ${subject} from "${from}" to "${to}": no such transition`,
    );
    this.name = "IllegalWorkflowTransitionError";
    this.subject = subject;
    this.from = from;
    this.to = to;
  }
}

/** A ListWorkflowRuns request breaks a bound (page size, page token, states, ids). */
export class InvalidRunListingError extends Error {
  /** The request field at fault. */
  readonly field: string;
  /** What is wrong and what to send instead, without the "Cannot list workflow runs" prefix. */
  readonly reason: string;

  constructor(field: string, reason: string) {
    super(`Cannot list workflow runs: ${reason}`);
    this.name = "InvalidRunListingError";
    this.field = field;
    this.reason = reason;
  }
}
