/**
 * The task API of the orchestrator: submit, get, list, cancel and watch
 * tasks. Every state change goes through {@linkcode TaskService.apply}: it
 * runs the pure transition, stores the result guarded by revision, records
 * the event, and only then tells listeners.
 *
 * @module
 */

import { InvalidTaskError, OrchestratorClosedError, SlurmUnavailableError, TaskNotFoundError } from "./errors.ts";
import type { Logger } from "../log/mod.ts";
import type { EventLog } from "./store/event_log.ts";
import type { GroupCommit } from "./store/group_commit.ts";
import type { ClassSettings } from "./scheduling/classes.ts";
import { DEFAULT_CLASS } from "./scheduling/classes.ts";
import { decodePayload } from "./payload.ts";
import { buildResult } from "./result.ts";
import {
  isTerminal,
  lifecycleEventType,
  type Task,
  TASK_STATES,
  type TaskEvent,
  type TaskState,
  transitionTask,
} from "./task.ts";
import type { TaskFilter, TaskStore } from "./store/task_store.ts";
import {
  type PayloadLimits,
  validateLabels,
  validatePayload,
  validateSubmitNumbers,
  validateTaskId,
} from "./validation.ts";

/** What a client submits. Every field but the payload is optional. */
export interface SubmitTaskInput {
  /** Empty: the server makes one. */
  id?: string;
  /** Empty: cpu_short. */
  class?: string;
  /** Payload strings, decoded per docs/compatibility.md §2.4. */
  payload?: Record<string, string>;
  priority?: number;
  /** Also read from `payload.workflow_id`. */
  workflowId?: string;
  /** 0: the class default. */
  timeoutSeconds?: number;
  /** 0: 1 (no retry). */
  maxAttempts?: number;
  /** An interrupted attempt is not run again (max_interruptions 0), whatever the class allows. */
  atMostOnce?: boolean;
  notBeforeMs?: number;
  labels?: Record<string, string>;
}

/** What {@linkcode TaskService.list} filters on; `states` may hold v1 statuses. */
export interface ListTasksInput extends Omit<TaskFilter, "states"> {
  states?: string[];
  /** 0: 100; at most 1000. */
  pageSize?: number;
  /** From a previous page's `nextPageToken`. */
  pageToken?: string;
}

/** Options of {@linkcode TaskService}. */
export interface TaskServiceOptions extends TaskRules {
  /** Batches writes; listeners hear of a change after its batch commits. */
  batch: GroupCommit;
  /** Hears of listeners that threw. */
  logger: Logger;
  store: TaskStore;
  events: EventLog;
}

/** What building a task needs besides the submission. */
export interface TaskRules {
  classes: Map<string, ClassSettings>;
  /** Whether Slurm commands are on PATH. */
  slurm: boolean;
  /** Throws if the task's payload cannot be run as given (a malformed execution spec). */
  validate?: (task: Task) => void;
  /** Why a task can run nowhere, or undefined if some executor takes it. */
  unrunnableReason: (task: Task) => string | undefined;
  now: () => number;
  /** Payload limits. @default {MAX_PAYLOAD_BYTES and MAX_PAYLOAD_KEYS} */
  payloadLimits?: PayloadLimits;
}

/** A submission that passed the checks that need no store: its id, class and raw payload. */
export interface CheckedSubmission {
  input: SubmitTaskInput;
  id: string;
  settings: ClassSettings;
  rawPayload: Record<string, string>;
}

/** Checks a submission (id, class, numbers, payload, labels); throws InvalidTaskError naming the field. */
export function checkSubmission(input: SubmitTaskInput, rules: TaskRules): CheckedSubmission {
  const id = input.id || `task-${crypto.randomUUID()}`;
  validateTaskId(id);
  const className = input.class || DEFAULT_CLASS;
  const settings = rules.classes.get(className);
  if (!settings) {
    throw new InvalidTaskError(
      `submit task "${id}"`,
      "class",
      `class "${className}" is unknown; known classes: ${[...rules.classes.keys()].join(", ")}`,
    );
  }
  if (className === "gpu_slurm" && !rules.slurm) {
    throw new SlurmUnavailableError(id, ["sbatch", "squeue", "sacct"]);
  }
  const rawPayload = input.payload ?? {};
  validateSubmitNumbers(id, {
    priority: input.priority,
    timeout_seconds: input.timeoutSeconds,
    max_attempts: input.maxAttempts,
    not_before_ms: input.notBeforeMs,
  });
  validatePayload(id, rawPayload, rules.payloadLimits);
  validateLabels(id, input.labels ?? {});
  return { input, id, settings, rawPayload };
}

/**
 * The new task of a checked submission, pending; or already failed, with the ways to run it, when no executor can
 * take it. Throws when its payload cannot be run as given.
 */
export function buildTask(checked: CheckedSubmission, rules: TaskRules): Task {
  const { input, id, settings, rawPayload } = checked;
  const nowMs = rules.now();
  const payload = decodePayload(rawPayload);
  let task: Task = {
    id,
    class: settings.name,
    state: "pending",
    priority: input.priority ?? 0,
    rawPayload,
    payload,
    result: {},
    error: "",
    attempts: 0,
    maxAttempts: Math.max(1, input.maxAttempts ?? 1),
    interruptions: 0,
    maxInterruptions: input.atMostOnce ? 0 : settings.maxInterruptions,
    timeoutSeconds: input.timeoutSeconds && input.timeoutSeconds > 0 ? input.timeoutSeconds : settings.timeoutSeconds,
    workflowId: input.workflowId || (typeof payload.workflow_id === "string" ? payload.workflow_id : ""),
    labels: input.labels ?? {},
    createdAtMs: nowMs,
    startedAtMs: 0,
    finishedAtMs: 0,
    notBeforeMs: input.notBeforeMs ?? 0,
    waitingReason: settings.limit === 0 ? settings.blockedReason : "",
    revision: 1,
  };
  rules.validate?.(task);
  const unrunnable = rules.unrunnableReason(task);
  if (unrunnable) {
    task = { ...task, state: "failed", error: unrunnable, finishedAtMs: nowMs, waitingReason: "" };
    task.result = buildResult(task, { latencyMs: 0, error: unrunnable });
  }
  return task;
}

/**
 * Checks a listing request, the same for every store: its states (a v1 status stands for the detailed states it
 * covers), page size (1 to 1000, default 100), labels and page token (a position this server gave). Throws
 * InvalidTaskError naming the field.
 */
export function checkListing(input: ListTasksInput): { states: TaskState[]; size: number; before?: number } {
  const states = new Set<TaskState>();
  for (const state of input.states ?? []) {
    if (state === "pending") states.add("pending").add("retrying");
    else if (state === "failed") states.add("failed").add("cancelled").add("timed_out");
    else if ((TASK_STATES as string[]).includes(state)) states.add(state as TaskState);
    else {
      throw new InvalidTaskError(
        "list tasks",
        "states",
        `state "${state}" is unknown; known states: ${TASK_STATES.join(", ")}`,
      );
    }
  }
  if (input.pageSize !== undefined && (input.pageSize < 0 || input.pageSize > 1000)) {
    throw new InvalidTaskError("list tasks", "page_size", `page_size ${input.pageSize} is out of range: 0 to 1000`);
  }
  // The label filter follows the rules of labels themselves (each becomes one condition).
  validateLabels("", input.labels ?? {}, "list tasks");
  const size = Math.min(1000, input.pageSize && input.pageSize > 0 ? input.pageSize : 100);
  let before: number | undefined;
  if (input.pageToken) {
    before = Number(input.pageToken);
    if (!Number.isSafeInteger(before)) {
      throw new InvalidTaskError(
        "list tasks",
        "page_token",
        `page token "${input.pageToken}" is not one this server gave`,
      );
    }
  }
  return { states: [...states], size, before };
}

/** Submits, reads, lists, cancels and watches tasks. */
export class TaskService {
  #options: TaskServiceOptions;
  #listeners = new Set<(task: Task) => void>();
  #accepted = new Set<(task: Task) => void>();
  // New tasks of the open write batch, stored as their last version when it commits: a noop
  // task submitted, started and completed in one batch is one INSERT, not an INSERT and two
  // UPDATEs with their index changes (bench/tasks).
  // (Never used inside a caller's savepoint: a rolled-back savepoint would not undo the map.
  // Nothing submits tasks inside one; the workflow store's transactions only write runs.)
  #unwritten = new Map<string, Task>();
  /** The batch generation whose commit stores {@linkcode #unwritten} (-1: none registered). */
  #unwrittenBatch = -1;
  #counts: Record<string, number>;
  #closed = false;

  /** Wraps a store; counts tasks by state once. */
  constructor(options: TaskServiceOptions) {
    this.#options = options;
    this.#counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
    Object.assign(this.#counts, options.store.countByState());
  }

  /** How many tasks are in each detailed state. */
  counts(): Readonly<Record<string, number>> {
    return this.#counts;
  }

  /**
   * Stores a new task in the current write batch; it survives a kill -9 once
   * {@linkcode TaskService.flushed} resolves (SubmitTask waits for that).
   * An id that exists returns the existing task with `created: false`.
   */
  submit(input: SubmitTaskInput): { task: Task; created: boolean } {
    if (this.#closed) throw new OrchestratorClosedError();
    const { store, events } = this.#options;
    const checked = checkSubmission(input, this.#options);
    const id = checked.id;
    const existing = this.#unwritten.get(id) ?? store.get(id);
    if (existing) return { task: existing, created: false };
    const task = buildTask(checked, this.#options);
    const unrunnable = task.state === "failed" ? task.error : "";
    const { batch } = this.#options;
    const created = batch.write(() => {
      if (this.#deferInsert()) {
        this.#unwritten.set(id, task);
      } else if (!store.insert(task)) return false;
      events.publish({ type: "task_submitted", resourceId: id, data: this.#eventData(task) });
      if (unrunnable) {
        events.publish({
          type: "task_failed",
          resourceId: id,
          data: { ...this.#eventData(task), error: unrunnable },
        });
      }
      this.#counts[task.state]++;
      return true;
    }, () => this.#notify(task));
    if (!created) return { task: store.get(id)!, created: false };
    for (const listener of this.#accepted) listener(task);
    return { task, created: true };
  }

  /**
   * Submits many tasks; each is answered on its own (a refused one carries its InvalidTaskError). Called in one turn
   * of the event loop, every insert falls into one group-commit batch: the whole call costs one commit.
   */
  submitMany(inputs: SubmitTaskInput[]): ({ task: Task; created: boolean } | { id: string; error: Error })[] {
    return inputs.map((input) => {
      try {
        return this.submit(input);
      } catch (error) {
        if (!(error instanceof InvalidTaskError)) throw error;
        return { id: input.id ?? "", error };
      }
    });
  }

  /** The task with this id; throws {@linkcode TaskNotFoundError}. */
  get(id: string): Task {
    if (!id) throw new InvalidTaskError("get task", "task_id", "task_id is empty");
    const task = this.#unwritten.get(id) ?? this.#options.store.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /** Tasks matching the filter, newest first, a page at a time. */
  list(input: ListTasksInput = {}): { tasks: Task[]; nextPageToken: string } {
    const { states, size, before } = checkListing(input);
    // A listing sees the open batch too (as a read in its transaction would): its new tasks are
    // written now, and changes after this go to their rows.
    if (this.#unwritten.size > 0) this.#writeUnwritten();
    const page = this.#options.store.list({ ...input, states }, { size, before });
    return { tasks: page.tasks, nextPageToken: page.next === undefined ? "" : String(page.next) };
  }

  /** Cancels a task that is not finished; returns it and whether this call cancelled it. */
  cancel(id: string, reason = ""): { task: Task; cancelled: boolean } {
    if (this.#closed) throw new OrchestratorClosedError();
    const task = this.get(id);
    if (isTerminal(task.state)) return { task, cancelled: false };
    const next = this.apply(task, { type: "cancel", nowMs: this.#options.now(), reason });
    return next ? { task: next, cancelled: true } : { task: this.get(id), cancelled: false };
  }

  /**
   * Deletes up to `limit` finished tasks (outside workflows) that ended more
   * than `retentionMs` ago; returns how many. Their ids become unknown
   * (NOT_FOUND) and may be submitted again.
   */
  prune(retentionMs: number, limit = 5000): number {
    const deleted = this.#options.batch.write(() =>
      this.#options.store.prune(this.#options.now() - retentionMs, limit)
    );
    let total = 0;
    for (const [state, count] of Object.entries(deleted)) {
      this.#counts[state] -= count;
      total += count;
    }
    return total;
  }

  /** Refuses further submissions and cancels (the orchestrator is stopping). */
  close(): void {
    this.#closed = true;
  }

  /** Resolves once every change made so far is committed (durable across a kill -9). */
  flushed(): Promise<void> {
    return this.#options.batch.flushed();
  }

  /** Calls `listener` after every committed change of any task; returns the function that stops it. */
  subscribe(listener: (task: Task) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` with each new task as soon as it joins the write batch,
   * before the commit, so the scheduler can start it in the same batch.
   * Committed listeners hear of the new task afterwards as usual. Returns
   * the function that stops it.
   */
  subscribeAccepted(listener: (task: Task) => void): () => void {
    this.#accepted.add(listener);
    return () => this.#accepted.delete(listener);
  }

  /** Whether a new task's row can wait for the commit of the open batch (not inside a caller's transaction). */
  #deferInsert(): boolean {
    const { batch } = this.#options;
    if (this.#unwrittenBatch === batch.generation) return true;
    // A batch that ended without running our callback (rolled back) leaves nothing to keep.
    this.#unwritten.clear();
    if (!batch.beforeCommit(() => this.#writeUnwritten())) return false;
    this.#unwrittenBatch = batch.generation;
    return true;
  }

  #writeUnwritten(): void {
    const tasks = [...this.#unwritten.values()];
    this.#unwritten.clear();
    for (const task of tasks) this.#options.store.insert(task);
  }

  /**
   * Applies a lifecycle event to `task` as last read: stores it if nobody
   * changed the task since (else returns undefined) with its event, in the
   * current write batch; listeners hear of it after the commit.
   */
  apply(task: Task, event: TaskEvent): Task | undefined {
    const next = transitionTask(task, event);
    const { store, events } = this.#options;
    const stored = this.#options.batch.write(() => {
      const unwritten = this.#unwritten.get(task.id);
      if (unwritten) {
        // Guarded as the UPDATE would be: only a change of the version last stored wins.
        if (unwritten.revision !== task.revision) return false;
        this.#unwritten.set(task.id, next);
      } else if (!store.update(next, task.revision)) return false;
      const type = lifecycleEventType(next, event);
      if (type) {
        events.publish({
          type,
          resourceId: task.id,
          data: {
            ...this.#eventData(next),
            ...(next.error && next.state !== "completed" ? { error: next.error } : {}),
          },
        });
      }
      this.#counts[task.state]--;
      this.#counts[next.state]++;
      return true;
    }, () => this.#notify(next));
    if (!stored) return undefined;
    return next;
  }

  #eventData(task: Task): Record<string, unknown> {
    return {
      class: task.class,
      state: task.state,
      priority: task.priority,
      attempts: task.attempts,
      ...(task.workflowId ? { workflow_id: task.workflowId } : {}),
      ...(task.result.latency_ms ? { latency_ms: task.result.latency_ms } : {}),
    };
  }

  #notify(task: Task): void {
    for (const listener of this.#listeners) {
      try {
        listener(task);
      } catch (error) {
        // A broken listener must not break the scheduler or other listeners.
        this.#options.logger.error("A task listener failed", { taskId: task.id, error });
      }
    }
  }
}
