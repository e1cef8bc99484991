/**
 * The workflow tables in the orchestrator's SQLite database: workflows,
 * runs (each with a copy of the spec it started with) and steps.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { inTransaction, migrate } from "../store/db.ts";
import type { ListedRun, RunQuery } from "./listing.ts";
import type { WorkflowSpec } from "./spec.ts";
import type { RunState, StepState } from "./state.ts";

/** A stored workflow. */
export interface WorkflowRecord {
  id: string;
  name: string;
  description: string;
  /** The spec as the client sent it (JSON text). */
  specJson: string;
  spec: WorkflowSpec;
  createdAtMs: number;
}

/** A stored run. */
export interface RunRecord {
  id: string;
  workflowId: string;
  idempotencyKey: string;
  input: Record<string, string>;
  spec: WorkflowSpec;
  state: RunState;
  error: string;
  output: Record<string, string>;
  createdAtMs: number;
  finishedAtMs: number;
}

/** A stored step of a run. */
export interface StepRecord {
  runId: string;
  stepId: string;
  state: StepState;
  taskId: string;
  /** The step task's output; undefined until it succeeded. */
  output: unknown;
  error: string;
  startedAtMs: number;
  finishedAtMs: number;
}

const MIGRATIONS = [
  `CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
  );
  CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    input TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL DEFAULT '{}',
    created_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX workflow_runs_idempotency
    ON workflow_runs (workflow_id, idempotency_key) WHERE idempotency_key != '';
  CREATE INDEX workflow_runs_state ON workflow_runs (state);
  CREATE TABLE workflow_steps (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT NOT NULL DEFAULT '',
    output TEXT,
    error TEXT NOT NULL DEFAULT '',
    started_at_ms INTEGER NOT NULL DEFAULT 0,
    finished_at_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_id)
  );`,
  // 2: ListWorkflowRuns reads newest first, of every workflow or of one.
  `CREATE INDEX workflow_runs_newest ON workflow_runs (created_at_ms, id);
  CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow_id, created_at_ms, id);`,
];

/**
 * Creates or upgrades the workflow tables (numbered migrations of the
 * component "workflows"). Idempotent: safe on every open.
 */
export function migrateWorkflowTables(db: DatabaseSync): void {
  migrate(db, "workflows", MIGRATIONS);
}

/** A value, or a promise of it (SQLite answers at once, PostgreSQL after a round trip). */
type MaybePromise<T> = T | Promise<T>;

/** What the workflow engine reads and writes, whichever store holds it (SQLite here, PostgreSQL in postgres/). */
export interface WorkflowStorePort {
  insertWorkflow(record: Omit<WorkflowRecord, "spec">): MaybePromise<void>;
  getWorkflow(id: string): MaybePromise<Omit<WorkflowRecord, "spec"> | undefined>;
  /** Inserts a run and its steps, all waiting, in one transaction. */
  insertRun(run: Omit<RunRecord, "error" | "output" | "finishedAtMs">): MaybePromise<void>;
  getRun(id: string): MaybePromise<RunRecord | undefined>;
  findRunByKey(workflowId: string, idempotencyKey: string): MaybePromise<RunRecord | undefined>;
  unfinishedRunIds(): MaybePromise<string[]>;
  updateRun(id: string, patch: RunPatch): MaybePromise<void>;
  listSteps(runId: string): MaybePromise<StepRecord[]>;
  updateStep(runId: string, stepId: string, patch: StepPatch): MaybePromise<void>;
  /** One page of runs, newest first (created time, then id), with their steps; `more` when another page follows. */
  listRuns(query: RunQuery): MaybePromise<{ runs: ListedRun[]; more: boolean }>;
}

/** A run's new state, with its error, output and finish time when given. */
export interface RunPatch {
  state: RunState;
  error?: string;
  output?: Record<string, string>;
  finishedAtMs?: number;
}

/** A step's new state and whichever other fields are given. */
export interface StepPatch {
  state: StepState;
  taskId?: string;
  output?: unknown;
  error?: string;
  startedAtMs?: number;
  finishedAtMs?: number;
}

/** Typed reads and writes of the workflow tables; prepared once per engine. */
export class WorkflowStore implements WorkflowStorePort {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    migrateWorkflowTables(db);
  }

  /** Runs `fn` in one transaction (commits, or rolls back if it throws). */
  transaction<T>(fn: () => T): T {
    return inTransaction(this.#db, fn);
  }

  /** Inserts a workflow. */
  insertWorkflow(record: Omit<WorkflowRecord, "spec">): void {
    this.#run(
      "INSERT INTO workflows (id, name, description, spec, created_at_ms) VALUES (?, ?, ?, ?, ?)",
      record.id,
      record.name,
      record.description,
      record.specJson,
      record.createdAtMs,
    );
  }

  /** The workflow with this id, if any. */
  getWorkflow(id: string): Omit<WorkflowRecord, "spec"> | undefined {
    const row = this.#get("SELECT * FROM workflows WHERE id = ?", id);
    if (!row) return undefined;
    return {
      id: String(row.id),
      name: String(row.name),
      description: String(row.description),
      specJson: String(row.spec),
      createdAtMs: Number(row.created_at_ms),
    };
  }

  /** Inserts a run and its steps, all waiting, in one transaction. */
  insertRun(run: Omit<RunRecord, "error" | "output" | "finishedAtMs">): void {
    this.transaction(() => this.#insertRun(run));
  }

  #insertRun(run: Omit<RunRecord, "error" | "output" | "finishedAtMs">): void {
    this.#run(
      `INSERT INTO workflow_runs (id, workflow_id, idempotency_key, input, spec, state, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      run.id,
      run.workflowId,
      run.idempotencyKey,
      JSON.stringify(run.input),
      JSON.stringify(run.spec),
      run.state,
      run.createdAtMs,
    );
    for (const step of run.spec.steps) {
      this.#run(
        "INSERT INTO workflow_steps (run_id, step_id, state) VALUES (?, ?, 'waiting')",
        run.id,
        step.id,
      );
    }
  }

  /** The run with this id, if any. */
  getRun(id: string): RunRecord | undefined {
    const row = this.#get("SELECT * FROM workflow_runs WHERE id = ?", id);
    return row ? toRun(row) : undefined;
  }

  /** The run started with this idempotency key, if any. */
  findRunByKey(
    workflowId: string,
    idempotencyKey: string,
  ): RunRecord | undefined {
    const row = this.#get(
      "SELECT * FROM workflow_runs WHERE workflow_id = ? AND idempotency_key = ?",
      workflowId,
      idempotencyKey,
    );
    return row ? toRun(row) : undefined;
  }

  /** Ids of runs not yet finished (recovered on open). */
  unfinishedRunIds(): string[] {
    return this.#all(
      "SELECT id FROM workflow_runs WHERE state IN ('pending', 'running') ORDER BY created_at_ms",
    )
      .map((row) => String(row.id));
  }

  /** Writes a run's state, and its error, output and finish time when given. */
  updateRun(id: string, patch: RunPatch): void {
    this.#run(
      `UPDATE workflow_runs SET state = ?, error = COALESCE(?, error), output = COALESCE(?, output),
       finished_at_ms = COALESCE(?, finished_at_ms) WHERE id = ?`,
      patch.state,
      patch.error ?? null,
      patch.output ? JSON.stringify(patch.output) : null,
      patch.finishedAtMs ?? null,
      id,
    );
  }

  /** The steps of a run. */
  listSteps(runId: string): StepRecord[] {
    return this.#all("SELECT * FROM workflow_steps WHERE run_id = ?", runId).map(toStep);
  }

  /** One page of runs, newest first, with their workflows' names and their steps. */
  listRuns(query: RunQuery): { runs: ListedRun[]; more: boolean } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.workflowId) (where.push("workflow_id = ?"), args.push(query.workflowId));
    if (query.runId) (where.push("id = ?"), args.push(query.runId));
    if (query.states.length > 0) {
      where.push("state IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(query.states));
    }
    if (query.after) {
      where.push("(created_at_ms, id) < (?, ?)");
      args.push(query.after.createdAtMs, query.after.id);
    }
    const rows = this.#all(
      `SELECT * FROM workflow_runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at_ms DESC, id DESC LIMIT ?`,
      ...args,
      query.size + 1,
    );
    const more = rows.length > query.size;
    const runs = (more ? rows.slice(0, query.size) : rows).map(toRun);
    const steps = Map.groupBy(
      this.#all(
        "SELECT * FROM workflow_steps WHERE run_id IN (SELECT value FROM json_each(?))",
        JSON.stringify(runs.map((run) => run.id)),
      ).map(toStep),
      (step) => step.runId,
    );
    return {
      runs: runs.map((run) => ({
        run,
        workflowName: this.getWorkflow(run.workflowId)?.name ?? "",
        steps: steps.get(run.id) ?? [],
      })),
      more,
    };
  }

  /** Writes a step's state and whichever other fields are given. */
  updateStep(runId: string, stepId: string, patch: StepPatch): void {
    this.#run(
      `UPDATE workflow_steps SET state = ?, task_id = COALESCE(?, task_id), output = COALESCE(?, output),
       error = COALESCE(?, error), started_at_ms = COALESCE(?, started_at_ms),
       finished_at_ms = COALESCE(?, finished_at_ms) WHERE run_id = ? AND step_id = ?`,
      patch.state,
      patch.taskId ?? null,
      patch.output === undefined ? null : JSON.stringify(patch.output),
      patch.error ?? null,
      patch.startedAtMs ?? null,
      patch.finishedAtMs ?? null,
      runId,
      stepId,
    );
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: (string | number | null)[]): void {
    this.#prepare(sql).run(...params);
  }

  #get(
    sql: string,
    ...params: (string | number)[]
  ): Record<string, unknown> | undefined {
    return this.#prepare(sql).get(...params) as
      | Record<string, unknown>
      | undefined;
  }

  #all(sql: string, ...params: (string | number)[]): Record<string, unknown>[] {
    return this.#prepare(sql).all(...params) as Record<string, unknown>[];
  }
}

function toStep(row: Record<string, unknown>): StepRecord {
  return {
    runId: String(row.run_id),
    stepId: String(row.step_id),
    state: String(row.state) as StepState,
    taskId: String(row.task_id),
    output: row.output === null ? undefined : JSON.parse(String(row.output)),
    error: String(row.error),
    startedAtMs: Number(row.started_at_ms),
    finishedAtMs: Number(row.finished_at_ms),
  };
}

function toRun(row: Record<string, unknown>): RunRecord {
  return {
    id: String(row.id),
    workflowId: String(row.workflow_id),
    idempotencyKey: String(row.idempotency_key),
    input: JSON.parse(String(row.input)),
    spec: JSON.parse(String(row.spec)),
    state: String(row.state) as RunState,
    error: String(row.error),
    output: JSON.parse(String(row.output)),
    createdAtMs: Number(row.created_at_ms),
    finishedAtMs: Number(row.finished_at_ms),
  };
}
