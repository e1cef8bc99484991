/**
 * Tasks in SQLite. Every write is guarded by the task's revision, so a late
 * result of an attempt that was cancelled, timed out or recovered can never
 * complete a task twice. The history of attempts is in the event log
 * (task_started, task_retrying, task_completed … carry `attempts`).
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { migrate } from "./db.ts";
import { decodePayload } from "../payload.ts";
import type { Task, TaskState } from "../task.ts";

const MIGRATIONS = [
  `CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    class TEXT NOT NULL,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    payload TEXT NOT NULL,
    result TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    workflow_id TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL,
    not_before_ms INTEGER NOT NULL,
    waiting_reason TEXT NOT NULL,
    revision INTEGER NOT NULL
  );
  CREATE INDEX tasks_state ON tasks (state);
  CREATE INDEX tasks_workflow ON tasks (workflow_id) WHERE workflow_id != '';
  CREATE TABLE task_attempts (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'running',
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, attempt)
  );`,
  // Nothing read task_attempts; its two writes per attempt cost a sixth of a
  // noop task's store time (bench/tasks). The event log has the same facts.
  `DROP TABLE task_attempts;`,
  // Interruptions (the daemon stopped during an attempt) are counted apart from attempts; tasks stored before this
  // version get the default budget.
  `ALTER TABLE tasks ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tasks ADD COLUMN max_interruptions INTEGER NOT NULL DEFAULT 3;`,
];

/** Filters of {@linkcode TaskStore.list}; every field given must match. */
export interface TaskFilter {
  /** Detailed states; empty = all. */
  states?: TaskState[];
  class?: string;
  workflowId?: string;
  labels?: Record<string, string>;
}

/** A page of a listing. */
export interface TaskPage {
  /** At most this many tasks. */
  size: number;
  /** Only tasks older than this position (from a previous page's `next`). */
  before?: number;
}

/** Tasks as stored in SQLite. */
export class TaskStore {
  #db: DatabaseSync;
  #insert: StatementSync;
  #get: StatementSync;
  #update: StatementSync;

  /** Creates or upgrades the task tables in `db`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    migrate(db, "tasks", MIGRATIONS);
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO tasks (id, class, state, priority, payload, result, error, attempts,
        max_attempts, timeout_seconds, workflow_id, labels, created_at_ms, started_at_ms,
        finished_at_ms, not_before_ms, waiting_reason, revision, interruptions, max_interruptions)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = db.prepare("SELECT * FROM tasks WHERE id = ?");
    this.#update = db.prepare(
      `UPDATE tasks SET state = ?, result = ?, error = ?, attempts = ?, started_at_ms = ?,
        finished_at_ms = ?, not_before_ms = ?, waiting_reason = ?, revision = ?, interruptions = ?
       WHERE id = ? AND revision = ?`,
    );
  }

  /** Stores a new task; false if a task with its id exists (nothing is changed then). */
  insert(task: Task): boolean {
    const changes = this.#insert.run(
      task.id,
      task.class,
      task.state,
      task.priority,
      JSON.stringify(task.rawPayload),
      JSON.stringify(task.result),
      task.error,
      task.attempts,
      task.maxAttempts,
      task.timeoutSeconds,
      task.workflowId,
      JSON.stringify(task.labels),
      task.createdAtMs,
      task.startedAtMs,
      task.finishedAtMs,
      task.notBeforeMs,
      task.waitingReason,
      task.revision,
      task.interruptions,
      task.maxInterruptions,
    ).changes;
    return Number(changes) === 1;
  }

  /** The task with this id, if any. */
  get(id: string): Task | undefined {
    const row = this.#get.get(id) as TaskRow | undefined;
    return row && fromRow(row);
  }

  /**
   * Stores `next` over the stored copy whose revision is `expectedRevision`.
   * Returns false (and changes nothing) if the task changed in between.
   */
  update(next: Task, expectedRevision: number): boolean {
    const changes = this.#update.run(
      next.state,
      JSON.stringify(next.result),
      next.error,
      next.attempts,
      next.startedAtMs,
      next.finishedAtMs,
      next.notBeforeMs,
      next.waitingReason,
      next.revision,
      next.interruptions,
      next.id,
      expectedRevision,
    ).changes;
    return Number(changes) === 1;
  }

  /**
   * Deletes up to `limit` finished tasks that ended before `cutoffMs`,
   * oldest first. Workflow steps stay: a run reads its steps' outputs.
   * Returns how many were deleted per state.
   */
  prune(cutoffMs: number, limit: number): Record<string, number> {
    const rows = this.#db.prepare(
      `DELETE FROM tasks WHERE seq IN (
        SELECT seq FROM tasks
        WHERE state IN ('completed', 'failed', 'cancelled', 'timed_out') AND workflow_id = ''
          AND finished_at_ms > 0 AND finished_at_ms < ?
        ORDER BY seq LIMIT ?
      ) RETURNING state`,
    ).all(cutoffMs, limit) as unknown as { state: string }[];
    const deleted: Record<string, number> = {};
    for (const { state } of rows) deleted[state] = (deleted[state] ?? 0) + 1;
    return deleted;
  }

  /** Every task that is not terminal, oldest first (the scheduler's start-up state). */
  active(): Task[] {
    const rows = this.#db.prepare(
      `SELECT * FROM tasks WHERE state IN ('pending', 'running', 'retrying') ORDER BY seq`,
    ).all() as unknown as TaskRow[];
    return rows.map(fromRow);
  }

  /** How many tasks are in each state. */
  countByState(): Record<string, number> {
    const rows = this.#db.prepare(
      "SELECT state, COUNT(*) AS n FROM tasks GROUP BY state",
    ).all() as unknown as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Tasks matching `filter`, newest first, and the position to continue from. */
  list(filter: TaskFilter, page: TaskPage): { tasks: Task[]; next?: number } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => "?").join(", ")})`);
      args.push(...filter.states);
    }
    if (filter.class) (where.push("class = ?"), args.push(filter.class));
    if (filter.workflowId) (where.push("workflow_id = ?"), args.push(filter.workflowId));
    for (const [key, value] of Object.entries(filter.labels ?? {})) {
      where.push("json_extract(labels, ?) = ?");
      args.push(`$."${key.replaceAll('"', "")}"`, value);
    }
    if (page.before !== undefined) (where.push("seq < ?"), args.push(page.before));
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY seq DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, page.size + 1) as unknown as TaskRow[];
    const more = rows.length > page.size;
    const kept = more ? rows.slice(0, page.size) : rows;
    return {
      tasks: kept.map(fromRow),
      next: more ? Number(kept[kept.length - 1].seq) : undefined,
    };
  }
}

interface TaskRow {
  seq: number;
  id: string;
  class: string;
  state: string;
  priority: number;
  payload: string;
  result: string;
  error: string;
  attempts: number;
  max_attempts: number;
  timeout_seconds: number;
  workflow_id: string;
  labels: string;
  created_at_ms: number;
  started_at_ms: number;
  finished_at_ms: number;
  not_before_ms: number;
  waiting_reason: string;
  revision: number;
  interruptions: number;
  max_interruptions: number;
}

function fromRow(row: TaskRow): Task {
  const rawPayload = JSON.parse(row.payload) as Record<string, string>;
  return {
    id: row.id,
    class: row.class,
    state: row.state as TaskState,
    priority: Number(row.priority),
    rawPayload,
    payload: decodePayload(rawPayload),
    result: JSON.parse(row.result),
    error: row.error,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    interruptions: Number(row.interruptions),
    maxInterruptions: Number(row.max_interruptions),
    timeoutSeconds: Number(row.timeout_seconds),
    workflowId: row.workflow_id,
    labels: JSON.parse(row.labels),
    createdAtMs: Number(row.created_at_ms),
    startedAtMs: Number(row.started_at_ms),
    finishedAtMs: Number(row.finished_at_ms),
    notBeforeMs: Number(row.not_before_ms),
    waitingReason: row.waiting_reason,
    revision: Number(row.revision),
  };
}
