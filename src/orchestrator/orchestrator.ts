/**
 * Opening the orchestrator: the durable store, the task service, the event
 * log, the scheduler with its executors, the workflow engine and the
 * metrics, wired together on one SQLite file in the state folder.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import type { Registry } from "prom-client";
import { type ClassOverrides, classSettings, type Hardware } from "./scheduling/classes.ts";
import { WorkerRegistry } from "./workers/registry.ts";
import { backupDatabase, checkDatabase, DATABASE_FILE, openDatabase, startCheckpoints } from "./store/db.ts";
import { EventLog, type OrchestratorEvent, type PublishInput, type SubscribeOptions } from "./store/event_log.ts";
import { GroupCommit } from "./store/group_commit.ts";
import { createExecutorSelector } from "./executors/select.ts";
import { missingSlurmCommands } from "./executors/slurm.ts";
import { type Executor, parseExecutionSpec } from "../env/mod.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import { createOrchestratorMetrics } from "./metrics.ts";
import { Scheduler } from "./scheduling/scheduler.ts";
import { type ListTasksInput, type SubmitTaskInput, TaskService } from "./task_service.ts";
import { TaskStore } from "./store/task_store.ts";
import type { Task } from "./task.ts";
import { createWorkflowEngine, type WorkflowEngine } from "./workflow/mod.ts";

/** Options of {@linkcode openOrchestrator}. */
export interface OrchestratorOptions {
  /** The state folder; the store is `<stateDir>/orchestrator.db`. */
  stateDir: string;
  /** The daemon's metrics registry. */
  registry: Registry;
  /** Runs `payload.execution` (src/env's Executor); without it such tasks need a runner. */
  executor?: Executor;
  /** ENV_RUNNER_URL: tasks no other executor takes are forwarded there. */
  runnerUrl?: string;
  /** What the host offers; sets the default class limits. */
  hardware: Hardware;
  /** `[tasks.classes.NAME]` from config. */
  classes?: ClassOverrides;
  /** Whether Slurm is usable. @default {sbatch, squeue and sacct are on PATH (slurmEnv's PATH if set)} */
  slurm?: boolean;
  /** How often a Slurm job's state is read, in milliseconds. @default {2000} */
  slurmPollMs?: number;
  /** Added to the environment of every Slurm command, e.g. a test cluster's SLURM_CONF. @default {{}} */
  slurmEnv?: Record<string, string>;
  /** Finished tasks outside workflows are deleted this long after they ended; 0 keeps them. @default {7 days} */
  taskRetentionMs?: number;
  /** The first retry backoff. @default {1000} */
  retryBaseMs?: number;
  /** How long a worker's lease lives without a heartbeat. @default {10000} */
  workerLeaseMs?: number;
  /** Payload limits of a submitted task. @default {1 MiB and 1,000 keys} */
  payloadLimits?: { bytes: number; keys: number };
  /** Waiting this long is worth one priority step. @default {10000} */
  agingMs?: number;
  /** Where failures nobody waits for go (a listener that threw, a failed commit). @default {silentLogger} */
  logger?: Logger;
  /** Aborts opening. */
  signal?: AbortSignal;
  /** The clock, in unix ms (tests only). @default {Date.now} */
  now?: () => number;
}

/** A value, or a promise of it: the SQLite store answers at once, the PostgreSQL store after a round trip. */
export type MaybePromise<T> = T | Promise<T>;

/** One task's answer in a batch submit: its task, or why it was refused (InvalidTaskError). */
export type BatchSubmitResult = { task: Task; created: boolean } | { id: string; error: Error };

/** The task API the handlers use, whichever store holds the tasks. */
export interface TaskApi {
  /** Stores a new task (durable once {@linkcode TaskApi.flushed} resolves); an existing id returns that task. */
  submit(input: SubmitTaskInput): MaybePromise<{ task: Task; created: boolean }>;
  /** Many tasks in one write; each answered on its own. */
  submitMany(inputs: SubmitTaskInput[]): MaybePromise<BatchSubmitResult[]>;
  /** The task with this id; throws TaskNotFoundError. */
  get(id: string): MaybePromise<Task>;
  /** Tasks matching the filter, newest first, a page at a time. */
  list(input?: ListTasksInput): MaybePromise<{ tasks: Task[]; nextPageToken: string }>;
  /** Cancels a task that is not finished; returns it and whether this call cancelled it. */
  cancel(id: string, reason?: string): MaybePromise<{ task: Task; cancelled: boolean }>;
  /** How many tasks are in each detailed state (recent, not transactional). */
  counts(): Readonly<Record<string, number>>;
  /** Calls `listener` after every committed change of any task; returns the function that stops it. */
  subscribe(listener: (task: Task) => void): () => void;
  /** Resolves once every change made so far is committed. */
  flushed(): Promise<void>;
}

/** The event API the handlers and the environment manager use. */
export interface EventApi {
  /** Records an event (committed with the next write batch). */
  publish(input: PublishInput): unknown;
  /** Calls `listener` with each event this daemon publishes; returns the function that stops it. */
  listen(listener: (event: OrchestratorEvent) => void): () => void;
  /** Replays the matching events, then follows new ones until the signal aborts. */
  subscribe(options?: SubscribeOptions): AsyncGenerator<OrchestratorEvent>;
}

/** The running orchestrator. Dispose it to stop (`await using`). */
export interface Orchestrator extends AsyncDisposable {
  /** Which store holds the tasks. */
  storeKind: "sqlite" | "postgres";
  /** Submit, read, list, cancel and watch tasks. */
  tasks: TaskApi;
  /** The durable event log (env manager events are published here too). */
  events: EventApi;
  /** Workflows and their runs. */
  workflows: WorkflowEngine;
  /** The GetMetrics map (docs/compatibility.md §2.9). */
  metrics(): Record<string, number>;
  /** The limit and running tasks of a class. */
  usage(className: string): { capacity: number; inUse: number };
  /** Resolves once every change made so far is committed (durable across a kill -9). */
  flushed(): Promise<void>;
  /** Connected workers and their leases (the worker protocol). */
  workers: WorkerRegistry;
  /**
   * On a shared store: records a worker's report on an attempt another daemon leased to it (the worker failed over
   * after that daemon died), fenced by the attempt the lease id names; false when that attempt is no longer current.
   */
  adoptWorkerReport?(report: WorkerReport): Promise<boolean>;
  /** Copies the store into a new file at `dest` (absolute, not existing) once pending writes are committed. */
  backup(dest: string): Promise<{ path: string; bytes: number }>;
  /** Checks the store's integrity. */
  check(): MaybePromise<{ ok: boolean; detail: string; path: string }>;
}

/** A worker's outcome of one attempt: its result (JSON text) or its error. */
export interface WorkerReport {
  workerId: string;
  taskId: string;
  leaseId: string;
  outcome: { resultJson: string } | { error: string; errorType: string };
}

/** The orchestrator on the SQLite store, with its concrete parts (tests reach into them). */
export interface SqliteOrchestrator extends Orchestrator {
  tasks: TaskService;
  events: EventLog;
  /** The open store, for components that add tables to it. */
  db: DatabaseSync;
  check(): { ok: boolean; detail: string; path: string };
}

/**
 * Opens the store, requeues tasks a killed daemon left running (or fails
 * them when out of attempts), and starts scheduling.
 */
export async function openOrchestrator(options: OrchestratorOptions): Promise<SqliteOrchestrator> {
  const now = options.now ?? Date.now;
  const slurm = options.slurm ?? (await missingSlurmCommands(options.slurmEnv?.PATH)).length === 0;
  const db = await openDatabase({ stateDir: options.stateDir, signal: options.signal });
  try {
    const store = new TaskStore(db);
    const logger = options.logger ?? silentLogger;
    const batch = new GroupCommit(db, (error) => logger.error("Cannot commit orchestrator writes", { error }));
    const events = new EventLog(db, { now, batch });
    const classes = classSettings(options.hardware, options.classes, slurm);
    const workers = new WorkerRegistry({ leaseMs: options.workerLeaseMs });
    const select = createExecutorSelector({
      workers,
      executor: options.executor,
      parseExecution: parseExecutionSpec,
      runnerUrl: options.runnerUrl,
      slurm,
      slurmWorkDir: `${options.stateDir}/slurm`,
      slurmPollMs: options.slurmPollMs,
      slurmEnv: options.slurmEnv,
    });
    const tasks = new TaskService({
      payloadLimits: options.payloadLimits,
      batch,
      logger,
      store,
      events,
      classes,
      slurm,
      now,
      // A malformed payload.execution is refused at submission (INVALID_ARGUMENT).
      validate: (task) => {
        if (options.executor && task.payload.execution !== undefined) {
          parseExecutionSpec(task.payload.execution);
        }
      },
      // At submit, a task that only a worker could run, while no worker handles its type, is refused at once.
      unrunnableReason: (task) => {
        const choice = select(task);
        return "reason" in choice ? choice.reason : choice.noneNow;
      },
    });
    // An attempt a crashed or killed daemon left running is an interruption, as one given back at shutdown is.
    for (const task of store.active()) {
      if (task.state === "running") {
        tasks.apply(task, { type: "interrupt", nowMs: now(), reason: "the daemon stopped during the attempt" });
      }
    }
    batch.flush();
    // The scheduler reports finished attempts to the metrics, which read the scheduler.
    const hooks: { attemptEnded?: (task: Task, outcome: string, latencyMs: number) => void } = {};
    const scheduler = new Scheduler({
      tasks,
      events,
      classes,
      select,
      now,
      retryBaseMs: options.retryBaseMs,
      agingMs: options.agingMs,
      onAttemptEnd: (task, outcome, latencyMs) => hooks.attemptEnded?.(task, outcome, latencyMs),
    }, store.active());
    const orchestratorMetrics = createOrchestratorMetrics(options.registry, { tasks, scheduler, workers });
    hooks.attemptEnded = orchestratorMetrics.attemptEnded;
    events.listen((event) => orchestratorMetrics.eventPublished(event.type));
    tasks.subscribe((task) => {
      if (task.revision === 1) orchestratorMetrics.taskSubmitted(task);
    });
    const workflows = createWorkflowEngine({
      db,
      tasks,
      events,
      now,
      onError: (error, runId) => logger.error("Cannot advance workflow run", { runId, error }),
    });
    const stopCheckpoints = startCheckpoints(db);
    const stopPruning = startPruning(
      tasks,
      options.taskRetentionMs ?? 7 * DAY_MS,
      (error) => logger.error("Cannot delete old tasks", { error }),
    );
    let closed = false;
    return {
      storeKind: "sqlite",
      tasks,
      events,
      workflows,
      db,
      workers,
      metrics: () => orchestratorMetrics.snapshot(),
      flushed: () => batch.flushed(),
      usage: (className) => scheduler.usage(className),
      backup(dest) {
        // Commit the open batch now, in this same turn: the copy then holds every acknowledged write.
        batch.flush();
        return Promise.resolve(backupDatabase(db, dest));
      },
      check: () => ({ ...checkDatabase(db), path: `${options.stateDir}/${DATABASE_FILE}` }),
      async [Symbol.asyncDispose]() {
        if (closed) return;
        closed = true;
        // Runs stop advancing first (they submit step tasks), then tasks stop.
        await workflows.close();
        tasks.close();
        await scheduler.stop();
        workers.close();
        stopPruning();
        batch.flush();
        stopCheckpoints();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Deletes tasks past retention now and then every hour, a few thousand per
 * step so the event loop never waits long. Returns the function that stops it.
 */
function startPruning(tasks: TaskService, retentionMs: number, onError: (error: unknown) => void): () => void {
  if (retentionMs <= 0) return () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const step = () => {
    timer = undefined;
    if (stopped) return;
    let deleted = 0;
    try {
      deleted = tasks.prune(retentionMs);
    } catch (error) {
      onError(error);
    }
    // A full step means more may be left: continue soon; else wait an hour.
    timer = setTimeout(step, deleted >= 5000 ? 10 : 3600_000);
  };
  timer = setTimeout(step, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
