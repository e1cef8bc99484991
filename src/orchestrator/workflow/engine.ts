/**
 * The workflow engine: stores workflows, runs each run's DAG as tasks, and
 * streams progress. State lives in the orchestrator's SQLite
 * database; a run survives a daemon restart because its steps are durable
 * tasks with deterministic ids and the engine resumes unfinished runs on open.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { advanceRun, cancelSteps, publish } from "./advance.ts";
import { WorkflowExistsError, WorkflowNotFoundError, WorkflowRunNotFoundError, WorkflowSpecError } from "./errors.ts";
import { WorkflowInputError } from "./errors.ts";
import { checkRunListing, type ListRunsInput, runPageToken, type RunView, runView } from "./listing.ts";
import type { WorkflowEventLog, WorkflowTask, WorkflowTaskService } from "./ports.ts";
import { parseWorkflowSpec, referencedInputs } from "./spec.ts";
import { isRunFinished, transitionRun } from "./state.ts";
import { WakeSignal } from "./signal.ts";
import { type RunStatus, runStatus } from "./status.ts";
import { WorkflowStore, type WorkflowStorePort } from "./store.ts";

/** Options of {@linkcode createWorkflowEngine}. */
export interface WorkflowEngineOptions {
  /** The orchestrator's SQLite database; the engine adds its tables to it. Or give `store`. */
  db?: DatabaseSync;
  /** Where workflows live, when not in `db` (the PostgreSQL store). */
  store?: WorkflowStorePort;
  /**
   * Runs `fn` while holding the run for this engine alone (daemons sharing a store take turns on a run). @default
   * {no lock: one daemon per store}
   */
  withRunLock?: <T>(runId: string, fn: () => Promise<T>) => Promise<T>;
  /** The task service that runs step tasks. */
  tasks: WorkflowTaskService;
  /** The event log that receives workflow events. */
  events: WorkflowEventLog;
  /** Clock in unix milliseconds. @default Date.now */
  now?: () => number;
  /** Called when advancing a run throws (a bug or a closed database). @default console.error */
  onError?: (error: unknown, runId: string) => void;
}

/** What {@linkcode WorkflowEngine.create} returns. */
export interface CreatedWorkflow {
  /** The workflow id (made by the engine when none was given). */
  workflowId: string;
  /** False when the same id and spec existed already. */
  created: boolean;
}

/** Runs workflows; see {@linkcode createWorkflowEngine}. */
export interface WorkflowEngine {
  /** Validates and stores a workflow; the same id and spec again is a no-op. */
  create(
    input: {
      id?: string;
      name?: string;
      description?: string;
      spec: Uint8Array | string;
    },
  ): Promise<CreatedWorkflow>;
  /** Starts a run (or returns the run started with the same idempotency key) and launches its first steps. */
  startRun(
    input: {
      workflowId: string;
      idempotencyKey?: string;
      input?: Record<string, string>;
    },
  ): Promise<RunStatus>;
  /** The current status of a run. */
  getRun(runId: string): Promise<RunStatus>;
  /** The current status first, then one status per change, ending after a finished state or on abort. */
  watch(runId: string, signal: AbortSignal): AsyncIterable<RunStatus>;
  /** Cancels a run and its unfinished steps; a finished run is returned unchanged. */
  cancelRun(runId: string, reason?: string): Promise<RunStatus>;
  /** Runs newest first, a page at a time, each with its steps and their dependencies; throws InvalidRunListingError. */
  listRuns(input: ListRunsInput): Promise<{ runs: RunView[]; nextPageToken: string }>;
  /** Resolves once every workflow write made so far is committed (await it before answering a client). */
  flushed(): Promise<void>;
  /** Resolves once the runs found unfinished at open have been advanced. */
  readonly recovered: Promise<void>;
  /** Stops listening to task changes; waits for advances in progress. */
  close(): Promise<void>;
}

const WORKFLOW_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Creates the workflow engine on the orchestrator's database, task service
 * and event log, and resumes runs left unfinished by a previous daemon.
 */
export function createWorkflowEngine(
  options: WorkflowEngineOptions,
): WorkflowEngine {
  const store: WorkflowStorePort = options.store ?? new WorkflowStore(options.db!);
  const locked = options.withRunLock ?? (<T>(_runId: string, fn: () => Promise<T>) => fn());
  const now = options.now ?? Date.now;
  const onError = options.onError ??
    ((error, runId) => console.error(`workflow run "${runId}":`, error));
  const context = { store, tasks: options.tasks, events: options.events, now };
  const chains = new Map<string, Promise<void>>();
  const queued = new Set<string>();
  const watchers = new Map<string, Set<WakeSignal>>();
  let closed = false;

  const notify = (runId: string) => {
    for (const watcher of watchers.get(runId) ?? []) watcher.notify();
  };

  /** Serializes work per run: one step at a time, repeated triggers collapse into one. */
  const serialize = <T>(runId: string, work: () => Promise<T>): Promise<T> => {
    const previous = chains.get(runId) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(() => {}, () => {});
    chains.set(runId, tail);
    tail.then(() => chains.get(runId) === tail && chains.delete(runId));
    return result;
  };

  const schedule = (runId: string): Promise<void> => {
    if (closed || queued.has(runId)) {
      return chains.get(runId) ?? Promise.resolve();
    }
    queued.add(runId);
    return serialize(runId, async () => {
      queued.delete(runId);
      if (closed) return;
      try {
        // Watchers reload even when nothing changed here: with a shared store another daemon may have advanced it.
        const changed = await locked(runId, () => advanceRun(context, runId));
        if (changed || options.withRunLock) notify(runId);
      } catch (error) {
        onError(error, runId);
      }
    });
  };

  const onTask = (task: WorkflowTask & { labels?: Record<string, string> }) => {
    const runId = task.labels?.run_id;
    if (runId && task.id.startsWith(`${runId}.`)) schedule(runId);
  };
  const unsubscribe = options.tasks.subscribe(onTask);

  const loadStatus = async (runId: string): Promise<RunStatus> => {
    const run = await store.getRun(runId);
    if (!run) throw new WorkflowRunNotFoundError(runId);
    return runStatus(run, await store.listSteps(runId));
  };

  const flushed = () => options.tasks.flushed?.() ?? Promise.resolve();
  const recovered = Promise.resolve(store.unfinishedRunIds())
    .then((runIds) => Promise.all(runIds.map((runId) => schedule(runId))))
    .then(() => {}, (error) => onError(error, "(recovery)"));

  return {
    recovered,
    flushed,

    async create(input) {
      const workflowId = input.id || `wf-${crypto.randomUUID()}`;
      if (!WORKFLOW_ID.test(workflowId)) {
        throw new WorkflowSpecError(
          workflowId.slice(0, 140),
          "the id must be 1-128 of A-Z a-z 0-9 . _ : -",
        );
      }
      const spec = parseWorkflowSpec(workflowId, input.spec);
      const specJson = JSON.stringify(spec);
      const existing = await store.getWorkflow(workflowId);
      if (existing) {
        if (existing.specJson !== specJson) {
          throw new WorkflowExistsError(workflowId);
        }
        return { workflowId, created: false };
      }
      await store.insertWorkflow({
        id: workflowId,
        name: input.name || workflowId,
        description: input.description ?? "",
        specJson,
        createdAtMs: now(),
      });
      options.events.publish({
        type: "workflow_created",
        resourceId: workflowId,
        data: {
          name: input.name || workflowId,
          steps: String(spec.steps.length),
        },
      });
      return { workflowId, created: true };
    },

    async startRun(input) {
      const workflow = await store.getWorkflow(input.workflowId);
      if (!workflow) throw new WorkflowNotFoundError(input.workflowId);
      const key = input.idempotencyKey ?? "";
      const existing = key === "" ? undefined : await store.findRunByKey(workflow.id, key);
      if (existing) {
        await schedule(existing.id);
        await flushed();
        return await loadStatus(existing.id);
      }
      const spec = JSON.parse(workflow.specJson);
      const runInput = input.input ?? {};
      const missing = [...referencedInputs(spec).keys()].filter((name) => !Object.hasOwn(runInput, name));
      if (missing.length > 0) {
        throw new WorkflowInputError(workflow.id, missing);
      }
      const runId = `run-${crypto.randomUUID()}`;
      await store.insertRun({
        id: runId,
        workflowId: workflow.id,
        idempotencyKey: key,
        input: runInput,
        spec,
        state: "pending",
        createdAtMs: now(),
      });
      await schedule(runId);
      // docs/compatibility.md: once StartWorkflowRun returns, the run survives a kill -9.
      await flushed();
      return await loadStatus(runId);
    },

    getRun: loadStatus,

    async *watch(runId, signal) {
      const wake = new WakeSignal();
      let last = "";
      let status = await loadStatus(runId);
      const set = watchers.get(runId) ?? new Set();
      watchers.set(runId, set.add(wake));
      try {
        while (!signal.aborted) {
          const text = JSON.stringify(status);
          if (text !== last) {
            last = text;
            yield status;
          }
          if (isRunFinished(status.state) || closed) return;
          await wake.wait(signal);
          status = await loadStatus(runId);
        }
      } finally {
        set.delete(wake);
        if (set.size === 0) watchers.delete(runId);
      }
    },

    async cancelRun(runId, reason) {
      await loadStatus(runId);
      return await serialize(runId, () =>
        locked(runId, async () => {
          const run = (await store.getRun(runId))!;
          if (isRunFinished(run.state)) return await loadStatus(runId);
          const why = reason || "cancelled by request";
          const steps = await store.listSteps(runId);
          const unfinished = steps.filter((step) => step.state === "waiting" || step.state === "running");
          await cancelSteps(
            context,
            run,
            steps,
            unfinished.map((step) => step.stepId),
            why,
          );
          await store.updateRun(runId, {
            state: transitionRun(run.state, "cancelled"),
            error: why,
            finishedAtMs: now(),
          });
          await publish(context, "workflow_run_cancelled", run, { reason: why });
          notify(runId);
          await flushed();
          return await loadStatus(runId);
        }));
    },

    async listRuns(input) {
      const { runs, more } = await store.listRuns(checkRunListing(input));
      return { runs: runs.map(runView), nextPageToken: more ? runPageToken(runs[runs.length - 1].run) : "" };
    },

    async close() {
      closed = true;
      unsubscribe();
      await Promise.all([...chains.values()]);
      for (const set of watchers.values()) {
        for (const wake of set) wake.notify();
      }
    },
  };
}
