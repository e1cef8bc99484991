/**
 * `dspy-agent store migrate --to postgres://...`: moves a stopped daemon's SQLite store (tasks, events, workflows,
 * runs and steps) into an empty PostgreSQL store, keeping ids, revisions and event sequence numbers, so clients that
 * resume streams after a sequence number go on as before. An attempt the SQLite daemon left running is imported
 * under an expired lease: the first daemon on PostgreSQL requeues it as an interruption, as a restart would.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreMigrationError } from "../errors.ts";
import { decodePayload } from "../payload.ts";
import type { Task, TaskState } from "../task.ts";
import { connectStore, maskStoreUrl, migrate } from "./schema.ts";

/** What was moved. */
export interface ImportCounts {
  tasks: number;
  events: number;
  workflows: number;
  runs: number;
}

const PAGE = 2000;

/** Copies every row of `db` (an open SQLite store) into the empty PostgreSQL store at `url`. */
export async function importSqliteStore(db: DatabaseSync, url: string): Promise<ImportCounts> {
  const sql = await connectStore(url, { max: 2 });
  try {
    await migrate(sql);
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT (SELECT count(*) FROM dspy_tasks) + (SELECT count(*) FROM dspy_events)
        + (SELECT count(*) FROM dspy_workflows) AS n`;
    if (Number(n) > 0) {
      throw new StoreMigrationError(
        `Cannot migrate the task store: the PostgreSQL store at ${maskStoreUrl(url)} already holds tasks, events or ` +
          "workflows. Migrate into a new, empty database (CREATE DATABASE ...), then point `store` at it.",
      );
    }
    const counts: ImportCounts = { tasks: 0, events: 0, workflows: 0, runs: 0 };
    await sql.begin(async (tx) => {
      // Tasks, a page at a time, as the documents the PostgreSQL store keeps.
      for (let after = 0;;) {
        const rows = db.prepare("SELECT * FROM tasks WHERE seq > ? ORDER BY seq LIMIT ?").all(after, PAGE) as Record<
          string,
          unknown
        >[];
        if (rows.length === 0) break;
        after = Number(rows.at(-1)!.seq);
        const tasks = rows.map(taskOf);
        const text = (pick: (t: Task) => string | number | boolean) => tasks.map((t) => String(pick(t)));
        await tx`
          INSERT INTO dspy_tasks (id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms,
            workflow_id, task_type, has_execution, revision, owner, lease_expires_ms, doc)
          SELECT id, class, state, priority::int, created::bigint, not_before::bigint, finished::bigint, workflow_id,
            task_type, has_execution::bool, revision::int,
            CASE WHEN state = 'running' THEN 'migrated' END, CASE WHEN state = 'running' THEN 0 END, doc::jsonb
          FROM unnest(${text((t) => t.id)}::text[], ${text((t) => t.class)}::text[], ${text((t) => t.state)}::text[],
            ${text((t) => t.priority)}::text[], ${text((t) => t.createdAtMs)}::text[],
            ${text((t) => t.notBeforeMs)}::text[], ${text((t) => t.finishedAtMs)}::text[],
            ${text((t) => t.workflowId)}::text[],
            ${text((t) => typeof t.payload.task_type === "string" ? t.payload.task_type : "")}::text[],
            ${text((t) => t.payload.execution !== undefined)}::text[], ${text((t) => t.revision)}::text[],
            ${tasks.map(({ payload: _, ...doc }) => JSON.stringify(doc))}::text[])
            AS x(id, class, state, priority, created, not_before, finished, workflow_id, task_type, has_execution,
              revision, doc)`;
        counts.tasks += tasks.length;
      }
      // Events, with their sequence numbers.
      for (let after = 0;;) {
        const rows = db.prepare("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?").all(after, PAGE) as Record<
          string,
          unknown
        >[];
        if (rows.length === 0) break;
        after = Number(rows.at(-1)!.seq);
        await tx`
          INSERT INTO dspy_events (sequence, type, resource_id, data, timestamp_ms)
          SELECT seq::bigint, type, resource_id, data::jsonb, ts::bigint
          FROM unnest(${rows.map((r) => String(r.seq))}::text[], ${rows.map((r) => String(r.type))}::text[],
            ${rows.map((r) => String(r.resource_id))}::text[], ${rows.map((r) => String(r.data))}::text[],
            ${rows.map((r) => String(r.timestamp_ms))}::text[]) AS x(seq, type, resource_id, data, ts)`;
        counts.events += rows.length;
      }
      await tx`SELECT setval(pg_get_serial_sequence('dspy_events', 'sequence'),
        GREATEST((SELECT max(sequence) FROM dspy_events), 1))`;
      // Workflows, runs and steps (present once a workflow was ever used).
      if (tableExists(db, "workflows")) {
        for (const w of db.prepare("SELECT * FROM workflows").all() as Record<string, unknown>[]) {
          await tx`INSERT INTO dspy_workflows (id, name, description, spec, created_at_ms)
            VALUES (${String(w.id)}, ${String(w.name)}, ${String(w.description)}, ${String(w.spec)},
              ${Number(w.created_at_ms)})`;
          counts.workflows++;
        }
        for (const r of db.prepare("SELECT * FROM workflow_runs").all() as Record<string, unknown>[]) {
          await tx`INSERT INTO dspy_workflow_runs (id, workflow_id, idempotency_key, input, spec, state, error, output,
              created_at_ms, finished_at_ms)
            VALUES (${String(r.id)}, ${String(r.workflow_id)}, ${String(r.idempotency_key)}, ${
            String(r.input)
          }::text::jsonb,
              ${String(r.spec)}::text::jsonb, ${String(r.state)}, ${String(r.error)}, ${String(r.output)}::text::jsonb,
              ${Number(r.created_at_ms)}, ${Number(r.finished_at_ms)})`;
          counts.runs++;
        }
        for (const s of db.prepare("SELECT * FROM workflow_steps").all() as Record<string, unknown>[]) {
          await tx`INSERT INTO dspy_workflow_steps (run_id, step_id, state, task_id, output, error, started_at_ms,
              finished_at_ms)
            VALUES (${String(s.run_id)}, ${String(s.step_id)}, ${String(s.state)}, ${String(s.task_id)},
              ${s.output === null ? null : String(s.output)}::text::jsonb, ${String(s.error)}, ${
            Number(s.started_at_ms)
          },
              ${Number(s.finished_at_ms)})`;
        }
      }
    });
    return counts;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function tableExists(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** A SQLite row as a task. */
function taskOf(row: Record<string, unknown>): Task {
  const rawPayload = JSON.parse(String(row.payload)) as Record<string, string>;
  return {
    id: String(row.id),
    class: String(row.class),
    state: String(row.state) as TaskState,
    priority: Number(row.priority),
    rawPayload,
    payload: decodePayload(rawPayload),
    result: JSON.parse(String(row.result)),
    error: String(row.error),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    interruptions: Number(row.interruptions ?? 0),
    maxInterruptions: Number(row.max_interruptions ?? 3),
    timeoutSeconds: Number(row.timeout_seconds),
    workflowId: String(row.workflow_id),
    labels: JSON.parse(String(row.labels)),
    createdAtMs: Number(row.created_at_ms),
    startedAtMs: Number(row.started_at_ms),
    finishedAtMs: Number(row.finished_at_ms),
    notBeforeMs: Number(row.not_before_ms),
    waitingReason: String(row.waiting_reason),
    revision: Number(row.revision),
  };
}
