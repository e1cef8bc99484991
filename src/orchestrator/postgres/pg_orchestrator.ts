/**
 * Opening the orchestrator on a shared PostgreSQL store: several daemons (each with its own state folder) on one
 * database behave as one queue. Any daemon answers any call; each claims and runs what it can (built-in types, its
 * own workers' types, `payload.execution`); a daemon that dies loses its leases and its attempts run elsewhere.
 *
 * Not on this store: `store backup` (FAILED_PRECONDITION, saying to use pg_dump).
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { Executor } from "../../env/mod.ts";
import { parseExecutionSpec } from "../../env/mod.ts";
import { type Logger, silentLogger } from "../../log/mod.ts";
import { StoreFeatureUnavailableError } from "../errors.ts";
import { createExecutorSelector } from "../executors/select.ts";
import { missingSlurmCommands } from "../executors/slurm.ts";
import { createOrchestratorMetrics } from "../metrics.ts";
import type { Orchestrator } from "../orchestrator.ts";
import { type ClassOverrides, classSettings, type Hardware } from "../scheduling/classes.ts";
import type { Task } from "../task.ts";
import { createWorkflowEngine } from "../workflow/mod.ts";
import { PgWorkflowStore, runLock } from "./pg_workflows.ts";
import { WorkerRegistry } from "../workers/registry.ts";
import { PgEvents } from "./pg_events.ts";
import { PgScheduler } from "./pg_scheduler.ts";
import { isConnectionError, PgTasks } from "./pg_tasks.ts";
import { connectStore, maskStoreUrl, migrate } from "./schema.ts";
import { adoptWorkerReport } from "./worker_reports.ts";

/** Options of {@linkcode openPgOrchestrator}. */
export interface PgOrchestratorOptions {
  /** `postgres://user[:password]@host[:port]/database`. */
  url: string;
  /** This daemon's id (its state folder's instance id): the owner of the attempts it runs. */
  owner: string;
  /** The state folder (Slurm job files). */
  stateDir: string;
  registry: Registry;
  executor?: Executor;
  runnerUrl?: string;
  hardware: Hardware;
  classes?: ClassOverrides;
  slurm?: boolean;
  /** Finished tasks outside workflows are deleted this long after they ended; 0 keeps them. @default {7 days} */
  taskRetentionMs?: number;
  retryBaseMs?: number;
  /** How long an attempt's lease (and a worker's) lives without renewal. @default {10000} */
  leaseMs?: number;
  payloadLimits?: { bytes: number; keys: number };
  logger?: Logger;
  now?: () => number;
}

/** Connects, migrates and starts scheduling. */
export async function openPgOrchestrator(options: PgOrchestratorOptions): Promise<Orchestrator> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const maskedUrl = maskStoreUrl(options.url);
  const slurm = options.slurm ?? (await missingSlurmCommands()).length === 0;
  const sql = await connectStore(options.url);
  try {
    await migrate(sql);
    const leaseMs = options.leaseMs ?? 10_000;
    const classes = classSettings(options.hardware, options.classes, slurm);
    const workers = new WorkerRegistry({ leaseMs });
    const select = createExecutorSelector({
      workers,
      executor: options.executor,
      parseExecution: parseExecutionSpec,
      runnerUrl: options.runnerUrl,
      slurm,
      slurmWorkDir: `${options.stateDir}/slurm`,
    });
    const lost = { events: undefined as PgEvents | undefined };
    const tasks = new PgTasks({
      sql,
      logger,
      maskedUrl,
      onConnectionLost: () => lost.events?.connectionLost(),
      url: options.url,
      classes,
      slurm,
      now,
      payloadLimits: options.payloadLimits,
      validate: (task) => {
        if (options.executor && task.payload.execution !== undefined) parseExecutionSpec(task.payload.execution);
      },
      // A type no built-in handles waits for a worker on any daemon, so only a task nothing could ever run fails.
      unrunnableReason: (task) => {
        const choice = select(task);
        return "reason" in choice ? choice.reason : undefined;
      },
    });
    await tasks.start();
    const events = new PgEvents(sql, { now, logger, url: options.url });
    await events.start();
    lost.events = events;
    const hooks: { attemptEnded?: (task: Task, outcome: string, latencyMs: number) => void } = {};
    const scheduler = new PgScheduler({
      tasks,
      events,
      classes,
      select,
      workers,
      owner: options.owner,
      leaseMs,
      execution: options.executor !== undefined,
      runner: options.runnerUrl !== undefined,
      slurm,
      logger,
      now,
      retryBaseMs: options.retryBaseMs,
      onAttemptEnd: (task, outcome, latencyMs) => hooks.attemptEnded?.(task, outcome, latencyMs),
    });
    const metrics = createOrchestratorMetrics(options.registry, { tasks, scheduler, workers });
    // Workflows: each daemon's engine hears of step tasks changing anywhere and takes its turn on the run.
    const workflows = createWorkflowEngine({
      store: new PgWorkflowStore(sql),
      withRunLock: runLock(sql),
      tasks: {
        submit: (input) => tasks.submit(input),
        get: (id) => tasks.get(id).catch(() => undefined),
        cancel: (id, reason) => tasks.cancel(id, reason),
        subscribe: (listener) => tasks.onChanged(listener),
      },
      events,
      now,
      onError: (error, runId) => logger.error("Cannot advance workflow run", { runId, error }),
    });
    hooks.attemptEnded = metrics.attemptEnded;
    events.listen((event) => metrics.eventPublished(event.type));
    // A worker that connects here brings task types this daemon can now claim.
    // Every 2 s: the counts the metrics read, and LISTEN again if the database went away and came back.
    const countsTimer = setInterval(() => {
      void tasks.refreshCounts().then(() => Promise.all([tasks.ensureListening(), events.ensureListening()]))
        .catch(() => {});
    }, 2000);
    // The driver rejects a promise of its own now and then when the server ends a connection (a restart, an
    // administrator's command); no caller waits for it, and it must not stop the daemon.
    const onUnhandled = (event: PromiseRejectionEvent) => {
      const reason = event.reason as { name?: string; code?: string } | undefined;
      if (reason?.name === "PostgresError" || isConnectionError(reason)) {
        event.preventDefault();
        logger.warn("The database ended a connection", { error: reason });
      }
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    const retentionMs = options.taskRetentionMs ?? 7 * 24 * 3600 * 1000;
    const pruneTimer = retentionMs > 0
      ? setInterval(() => void tasks.prune(retentionMs).catch(() => {}), 3600_000)
      : undefined;
    let closed = false;
    return {
      storeKind: "postgres",
      tasks,
      events,
      workflows,
      workers,
      adoptWorkerReport: (report) =>
        adoptWorkerReport({ tasks, owner: options.owner, now, retryBaseMs: options.retryBaseMs }, report),
      metrics: () => metrics.snapshot(),
      usage: (className) => scheduler.usage(className),
      flushed: () => tasks.flushed(),
      backup: () => {
        throw new StoreFeatureUnavailableError(
          "store backup",
          "back up the database with pg_dump (or your PostgreSQL service's backups)",
        );
      },
      async check() {
        const [row] = await sql<{ version: number }[]>`SELECT max(version)::int AS version FROM dspy_schema`;
        return { ok: true, detail: `PostgreSQL answers; schema version ${row.version}`, path: maskedUrl };
      },
      async [Symbol.asyncDispose]() {
        if (closed) return;
        closed = true;
        clearInterval(countsTimer);
        globalThis.removeEventListener("unhandledrejection", onUnhandled);
        clearInterval(pruneTimer);
        await workflows.close();
        await scheduler.stop();
        workers.close();
        await tasks.close();
        await events.close();
        await sql.end({ timeout: 5 });
      },
    };
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
}
