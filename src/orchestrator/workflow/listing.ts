/**
 * Listing workflow runs (ListWorkflowRuns): the checked query every store answers, the page token, and the view of a
 * listed run with its steps and their dependencies (what a client needs to draw the run's DAG).
 *
 * @module
 */

import { InvalidRunListingError } from "./errors.ts";
import type { RunState, StepState } from "./state.ts";
import type { RunRecord, StepRecord } from "./store.ts";

/** What ListWorkflowRuns asks for, as it arrives. */
export interface ListRunsInput {
  /** Only runs of this workflow; empty: every workflow. */
  workflowId?: string;
  /** Only this run; empty: every run. */
  runId?: string;
  /** Run states; empty: every state. */
  states?: string[];
  /** 0: {@linkcode DEFAULT_RUN_PAGE}; at most {@linkcode MAX_RUN_PAGE}. */
  pageSize?: number;
  /** From a previous page's `nextPageToken`. */
  pageToken?: string;
}

/** A checked listing: what a store queries (newest first: created time, then run id, both descending). */
export interface RunQuery {
  workflowId: string;
  runId: string;
  states: RunState[];
  /** Runs on the page. */
  size: number;
  /** Start strictly after this run (the last of the previous page). */
  after?: { createdAtMs: number; id: string };
}

/** A run as a store lists it: the stored run, its workflow's name and its steps. */
export interface ListedRun {
  run: RunRecord;
  /** Empty when the workflow record is gone. */
  workflowName: string;
  steps: StepRecord[];
}

/** One step of a {@linkcode RunView}. */
export interface StepView {
  id: string;
  state: StepState;
  /** Empty while waiting. */
  taskId: string;
  /** Steps that must succeed first (the DAG's edges). */
  dependsOn: string[];
  error: string;
  class: string;
  startedAtMs: number;
  finishedAtMs: number;
}

/** A listed run as clients see it. */
export interface RunView {
  runId: string;
  workflowId: string;
  workflowName: string;
  state: RunState;
  error: string;
  createdAtMs: number;
  finishedAtMs: number;
  idempotencyKey: string;
  input: Record<string, string>;
  output: Record<string, string>;
  /** In spec order. */
  steps: StepView[];
}

/** Runs on a page when the request names no size. */
export const DEFAULT_RUN_PAGE = 20;
/** The most runs on one page: a run carries up to 500 steps, so a page stays within a few megabytes. */
export const MAX_RUN_PAGE = 100;

const RUN_STATES: readonly RunState[] = ["pending", "running", "succeeded", "failed", "cancelled"];
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TOKEN = /^(\d{1,16}):([A-Za-z0-9._:-]{1,128})$/;

/** Checks a listing request before any store is asked; throws {@linkcode InvalidRunListingError} naming the fix. */
export function checkRunListing(input: ListRunsInput): RunQuery {
  const workflowId = input.workflowId ?? "";
  const runId = input.runId ?? "";
  for (const [field, value] of [["workflow_id", workflowId], ["run_id", runId]] as const) {
    if (value !== "" && !ID.test(value)) {
      throw new InvalidRunListingError(
        field,
        `${field} "${value.slice(0, 140)}" is not an id: give 1-128 of A-Z a-z 0-9 . _ : -, or "" for any`,
      );
    }
  }
  const given = input.states ?? [];
  if (given.length > RUN_STATES.length) {
    throw new InvalidRunListingError(
      "states",
      `${given.length} states given; there are ${RUN_STATES.length}: give each at most once`,
    );
  }
  const states = new Set<RunState>();
  for (const state of given) {
    if (!(RUN_STATES as string[]).includes(state)) {
      throw new InvalidRunListingError(
        "states",
        `state "${state.slice(0, 40)}" is unknown; known run states: ${RUN_STATES.join(", ")}`,
      );
    }
    states.add(state as RunState);
  }
  const pageSize = input.pageSize ?? 0;
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_RUN_PAGE) {
    throw new InvalidRunListingError(
      "page_size",
      `page_size ${pageSize} is out of range: give 0 (= ${DEFAULT_RUN_PAGE}) to ${MAX_RUN_PAGE} and follow next_page_token`,
    );
  }
  let after: RunQuery["after"];
  const token = input.pageToken ?? "";
  if (token !== "") {
    const match = token.length <= 160 ? TOKEN.exec(token) : null;
    const createdAtMs = Number(match?.[1]);
    if (!match || !Number.isSafeInteger(createdAtMs)) {
      throw new InvalidRunListingError(
        "page_token",
        `page_token "${token.slice(0, 40)}" is not one this server gave: pass next_page_token unchanged, or "" for ` +
          "the first page",
      );
    }
    after = { createdAtMs, id: match[2] };
  }
  return { workflowId, runId, states: [...states], size: pageSize || DEFAULT_RUN_PAGE, after };
}

/** The token of the page that follows `run` (the last run of a page). */
export function runPageToken(run: RunRecord): string {
  return `${Math.trunc(run.createdAtMs)}:${run.id}`;
}

/** A listed run as clients see it: steps in spec order, each with its dependencies from the run's own spec. */
export function runView({ run, workflowName, steps }: ListedRun): RunView {
  const byId = new Map(steps.map((step) => [step.stepId, step]));
  return {
    runId: run.id,
    workflowId: run.workflowId,
    workflowName: workflowName || run.workflowId,
    state: run.state,
    error: run.error,
    createdAtMs: run.createdAtMs,
    finishedAtMs: run.finishedAtMs,
    idempotencyKey: run.idempotencyKey,
    input: run.input,
    output: run.output,
    steps: run.spec.steps.map((spec) => {
      const step = byId.get(spec.id);
      return {
        id: spec.id,
        state: step?.state ?? "waiting",
        taskId: step?.taskId ?? "",
        dependsOn: spec.dependsOn,
        error: step?.error ?? "",
        class: spec.class,
        startedAtMs: step?.startedAtMs ?? 0,
        finishedAtMs: step?.finishedAtMs ?? 0,
      };
    }),
  };
}
