/**
 * Workflows on PostgreSQL: the workflow engine's store (the same reads and writes as the SQLite one), and the lock
 * that lets daemons sharing the database take turns on a run, so a run advances once however many daemons see its
 * steps finish. Step tasks have deterministic ids and every write is a state the engine re-reads, so a daemon that
 * takes the lock after another finds nothing left to do.
 *
 * @module
 */
import type {
  RunPatch,
  RunRecord,
  StepPatch,
  StepRecord,
  WorkflowRecord,
  WorkflowStorePort,
} from "../workflow/store.ts";
import type { ListedRun, RunQuery } from "../workflow/listing.ts";
import type { RunState, StepState } from "../workflow/state.ts";
import { createSemaphore } from "../../async/mod.ts";
import type { Sql } from "./schema.ts";

/** The workflow store on PostgreSQL. */
export class PgWorkflowStore implements WorkflowStorePort {
  #sql: Sql;

  /** Wraps a pool whose schema is migrated. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async insertWorkflow(record: Omit<WorkflowRecord, "spec">): Promise<void> {
    await this.#sql`
      INSERT INTO dspy_workflows (id, name, description, spec, created_at_ms)
      VALUES (${record.id}, ${record.name}, ${record.description}, ${record.specJson}, ${record.createdAtMs})
      ON CONFLICT (id) DO NOTHING`;
  }

  async getWorkflow(id: string): Promise<Omit<WorkflowRecord, "spec"> | undefined> {
    const [row] = await this.#sql<{ id: string; name: string; description: string; spec: string; at: number }[]>`
      SELECT id, name, description, spec, created_at_ms::float8 AS at FROM dspy_workflows WHERE id = ${id}`;
    return row && { id: row.id, name: row.name, description: row.description, specJson: row.spec, createdAtMs: row.at };
  }

  async insertRun(run: Omit<RunRecord, "error" | "output" | "finishedAtMs">): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`
        INSERT INTO dspy_workflow_runs (id, workflow_id, idempotency_key, input, spec, state, created_at_ms)
        VALUES (${run.id}, ${run.workflowId}, ${run.idempotencyKey}, ${JSON.stringify(run.input)}::text::jsonb,
          ${JSON.stringify(run.spec)}::text::jsonb, ${run.state}, ${run.createdAtMs})`;
      await tx`
        INSERT INTO dspy_workflow_steps (run_id, step_id, state)
        SELECT ${run.id}, step_id, 'waiting' FROM unnest(${run.spec.steps.map((s) => s.id)}::text[]) AS step_id`;
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const [row] = await this.#sql<RunRow[]>`SELECT ${this.#sql.unsafe(RUN_COLUMNS)} FROM dspy_workflow_runs
      WHERE id = ${id}`;
    return row && toRun(row);
  }

  async findRunByKey(workflowId: string, idempotencyKey: string): Promise<RunRecord | undefined> {
    const [row] = await this.#sql<RunRow[]>`SELECT ${this.#sql.unsafe(RUN_COLUMNS)} FROM dspy_workflow_runs
      WHERE workflow_id = ${workflowId} AND idempotency_key = ${idempotencyKey}`;
    return row && toRun(row);
  }

  async unfinishedRunIds(): Promise<string[]> {
    const rows = await this.#sql<{ id: string }[]>`
      SELECT id FROM dspy_workflow_runs WHERE state IN ('pending', 'running') ORDER BY created_at_ms`;
    return rows.map((r) => r.id);
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    await this.#sql`
      UPDATE dspy_workflow_runs SET state = ${patch.state}, error = COALESCE(${patch.error ?? null}, error),
        output = COALESCE(${patch.output ? JSON.stringify(patch.output) : null}::text::jsonb, output),
        finished_at_ms = COALESCE(${patch.finishedAtMs ?? null}::bigint, finished_at_ms)
      WHERE id = ${id}`;
  }

  async listSteps(runId: string): Promise<StepRecord[]> {
    const rows = await this.#sql<StepRow[]>`SELECT ${this.#sql.unsafe(STEP_COLUMNS)} FROM dspy_workflow_steps
      WHERE run_id = ${runId}`;
    return rows.map(toStep);
  }

  async listRuns(query: RunQuery): Promise<{ runs: ListedRun[]; more: boolean }> {
    const sql = this.#sql;
    const rows = await sql<RunRow[]>`
      SELECT ${sql.unsafe(RUN_COLUMNS)} FROM dspy_workflow_runs
      WHERE true
        ${query.workflowId ? sql`AND workflow_id = ${query.workflowId}` : sql``}
        ${query.runId ? sql`AND id = ${query.runId}` : sql``}
        ${query.states.length > 0 ? sql`AND state = ANY(${query.states}::text[])` : sql``}
        ${query.after ? sql`AND (created_at_ms, id) < (${query.after.createdAtMs}::bigint, ${query.after.id})` : sql``}
      ORDER BY created_at_ms DESC, id DESC LIMIT ${query.size + 1}`;
    const more = rows.length > query.size;
    const runs = (more ? rows.slice(0, query.size) : rows).map(toRun);
    if (runs.length === 0) return { runs: [], more };
    const ids = runs.map((run) => run.id);
    const workflowIds = [...new Set(runs.map((run) => run.workflowId))];
    const [names, steps] = await Promise.all([
      sql<{ id: string; name: string }[]>`SELECT id, name FROM dspy_workflows WHERE id = ANY(${workflowIds}::text[])`,
      sql<StepRow[]>`SELECT ${sql.unsafe(STEP_COLUMNS)} FROM dspy_workflow_steps WHERE run_id = ANY(${ids}::text[])`,
    ]);
    const nameOf = new Map(names.map((row) => [row.id, row.name]));
    const stepsOf = Map.groupBy(steps.map(toStep), (step) => step.runId);
    return {
      runs: runs.map((run) => ({
        run,
        workflowName: nameOf.get(run.workflowId) ?? "",
        steps: stepsOf.get(run.id) ?? [],
      })),
      more,
    };
  }

  async updateStep(runId: string, stepId: string, patch: StepPatch): Promise<void> {
    await this.#sql`
      UPDATE dspy_workflow_steps SET state = ${patch.state}, task_id = COALESCE(${patch.taskId ?? null}, task_id),
        output = COALESCE(${patch.output === undefined ? null : JSON.stringify(patch.output)}::text::jsonb, output),
        error = COALESCE(${patch.error ?? null}, error),
        started_at_ms = COALESCE(${patch.startedAtMs ?? null}::bigint, started_at_ms),
        finished_at_ms = COALESCE(${patch.finishedAtMs ?? null}::bigint, finished_at_ms)
      WHERE run_id = ${runId} AND step_id = ${stepId}`;
  }
}

/**
 * Runs `fn` holding the run's advisory lock on a connection of its own: another daemon's engine waits for its turn
 * on the same run. The lock is the session's, released when `fn` ends (or the connection drops with a dead daemon).
 */
export function runLock(sql: Sql): <T>(runId: string, fn: () => Promise<T>) => Promise<T> {
  // Each held lock keeps a pooled connection; advancing needs others, so only a few runs hold one at once.
  const slots = createSemaphore(LOCKED_RUNS);
  return (runId, fn) => slots.run(() => withLock(sql, runId, fn));
}

/** Runs advanced at once by one daemon, each holding a connection of the pool (10) for its lock. */
const LOCKED_RUNS = 3;

async function withLock<T>(sql: Sql, runId: string, fn: () => Promise<T>): Promise<T> {
  const connection = await sql.reserve();
  try {
    await connection`SELECT pg_advisory_lock(${RUN_LOCK_SPACE}, hashtext(${runId}))`;
    try {
      return await fn();
    } finally {
      await connection`SELECT pg_advisory_unlock(${RUN_LOCK_SPACE}, hashtext(${runId}))`.catch(() => {});
    }
  } finally {
    connection.release();
  }
}

/** The first key of the two-key advisory locks on runs (the second is the run id's hash). */
const RUN_LOCK_SPACE = 0x77666c77;

const RUN_COLUMNS = "id, workflow_id, idempotency_key, input::text AS input, spec::text AS spec, state, error, " +
  "output::text AS output, created_at_ms::float8 AS created, finished_at_ms::float8 AS finished";

const STEP_COLUMNS = "run_id, step_id, state, task_id, output::text AS output, error, " +
  "started_at_ms::float8 AS started, finished_at_ms::float8 AS finished";

interface StepRow {
  run_id: string;
  step_id: string;
  state: string;
  task_id: string;
  output: string | null;
  error: string;
  started: number;
  finished: number;
}

function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    stepId: row.step_id,
    state: row.state as StepState,
    taskId: row.task_id,
    output: row.output === null ? undefined : JSON.parse(row.output),
    error: row.error,
    startedAtMs: row.started,
    finishedAtMs: row.finished,
  };
}

interface RunRow {
  id: string;
  workflow_id: string;
  idempotency_key: string;
  input: string;
  spec: string;
  state: string;
  error: string;
  output: string;
  created: number;
  finished: number;
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    idempotencyKey: row.idempotency_key,
    input: JSON.parse(row.input),
    spec: JSON.parse(row.spec),
    state: row.state as RunState,
    error: row.error,
    output: JSON.parse(row.output),
    createdAtMs: row.created,
    finishedAtMs: row.finished,
  };
}
