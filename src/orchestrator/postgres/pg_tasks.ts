/**
 * Tasks on PostgreSQL, shared by every daemon on the database. Each change is a transition of `task.ts` computed
 * here and stored by one guarded statement (the row's revision must still be the one read, and for an attempt's
 * outcome the daemon must still hold the attempt), with its event and a notification in the same transaction.
 * Submits are batched: the submits of one turn of the event loop are one INSERT.
 *
 * Every daemon LISTENs on the `dspy_tasks` channel: a change made anywhere reaches the listeners here (result
 * streams, the scheduler) as the changed task.
 *
 * @module
 */
import { InvalidTaskError, OrchestratorClosedError, StoreUnavailableError, TaskNotFoundError } from "../errors.ts";
import { decodePayload } from "../payload.ts";
import { isTerminal, lifecycleEventType, type Task, TASK_STATES, type TaskEvent, transitionTask } from "../task.ts";
import {
  buildTask,
  checkSubmission,
  type ListTasksInput,
  type SubmitTaskInput,
  type TaskRules,
} from "../task_service.ts";
import { validateLabels } from "../validation.ts";
import type { BatchSubmitResult, TaskApi } from "../orchestrator.ts";
import type { Sql } from "./schema.ts";
import { eventData } from "./pg_events.ts";
import type { Logger } from "../../log/mod.ts";

/** The notification channel of task changes. */
export const TASKS_CHANNEL = "dspy_tasks";
/** NOTIFY payloads must stay under 8000 bytes; a larger task is sent as its id and read back. */
const NOTIFY_LIMIT = 7800;

/** A task as stored: the decoded payload is derived from the raw one on read. */
type TaskDoc = Omit<Task, "payload">;

/** Reads a stored document back into a task. */
export function fromDoc(doc: TaskDoc): Task {
  return { ...doc, payload: decodePayload(doc.rawPayload) };
}

function toDoc(task: Task): string {
  const { payload: _, ...doc } = task;
  return JSON.stringify(doc);
}

/** The columns the scheduler searches, beside the document. */
function columns(task: Task) {
  return {
    id: task.id,
    class: task.class,
    state: task.state,
    priority: task.priority,
    created_at_ms: task.createdAtMs,
    not_before_ms: task.notBeforeMs,
    finished_at_ms: task.finishedAtMs,
    workflow_id: task.workflowId,
    task_type: typeof task.payload.task_type === "string" ? task.payload.task_type : "",
    has_execution: task.payload.execution !== undefined,
    revision: task.revision,
  };
}

/** The data of a task's lifecycle events, as on SQLite. */
function taskEventData(task: Task): Record<string, unknown> {
  return {
    class: task.class,
    state: task.state,
    priority: task.priority,
    attempts: task.attempts,
    ...(task.workflowId ? { workflow_id: task.workflowId } : {}),
    ...(task.result.latency_ms ? { latency_ms: task.result.latency_ms } : {}),
  };
}

/** What a change notification carries: the task, or its id when too large, or a batch of new ids. */
type Notice = { task: TaskDoc } | { id: string } | { submitted: string[] };

function notice(task: Task): string {
  const full = JSON.stringify({ task: JSON.parse(toDoc(task)) });
  return full.length <= NOTIFY_LIMIT ? full : JSON.stringify({ id: task.id });
}

/** Options of {@linkcode PgTasks}. */
export interface PgTasksOptions extends TaskRules {
  sql: Sql;
  logger: Logger;
  /** The URL for messages, password masked. */
  maskedUrl: string;
}

/** The task API on PostgreSQL. */
export class PgTasks implements TaskApi {
  #options: PgTasksOptions;
  #sql: Sql;
  #listeners = new Set<(task: Task) => void>();
  #batch: { task: Task; resolve: (created: boolean) => void; reject: (error: unknown) => void }[] = [];
  #flushing = false;
  #inFlight = new Set<Promise<unknown>>();
  #counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
  #waiting = new Map<string, { depth: number; oldestMs: number }>();
  #closed = false;
  #unlisten?: () => Promise<void>;

  /** Wraps a pool; call {@linkcode PgTasks.start} before use. */
  constructor(options: PgTasksOptions) {
    this.#options = options;
    this.#sql = options.sql;
  }

  /** Starts listening for changes made by any daemon, and reads the counts. */
  async start(): Promise<void> {
    const { unlisten } = await this.#sql.listen(TASKS_CHANNEL, (payload) => void this.#onNotice(payload));
    this.#unlisten = unlisten;
    await this.refreshCounts();
  }

  /** Stops listening; later submits and cancels are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flushed().catch(() => {});
    await this.#unlisten?.().catch(() => {});
  }

  /** Re-reads the counts by state and the waiting tasks by class (the metrics read them now and then). */
  async refreshCounts(): Promise<void> {
    const rows = await this.#sql<{ class: string; state: string; n: number; oldest: number | null }[]>`
      SELECT class, state, count(*)::int AS n, min(created_at_ms)::float8 AS oldest FROM dspy_tasks
      GROUP BY class, state`;
    const counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
    const waiting = new Map<string, { depth: number; oldestMs: number }>();
    for (const row of rows) {
      counts[row.state] += row.n;
      if (row.state === "pending" || row.state === "retrying") {
        const entry = waiting.get(row.class) ?? { depth: 0, oldestMs: Infinity };
        entry.depth += row.n;
        entry.oldestMs = Math.min(entry.oldestMs, row.oldest ?? Infinity);
        waiting.set(row.class, entry);
      }
    }
    this.#counts = counts;
    this.#waiting = waiting;
  }

  /** Tasks of a class waiting to run (as of the last {@linkcode PgTasks.refreshCounts}). */
  waiting(className: string): { depth: number; oldestMs: number } {
    return this.#waiting.get(className) ?? { depth: 0, oldestMs: Infinity };
  }

  counts(): Readonly<Record<string, number>> {
    return this.#counts;
  }

  async submit(input: SubmitTaskInput): Promise<{ task: Task; created: boolean }> {
    const [answer] = await this.submitMany([input]);
    if ("error" in answer) throw answer.error;
    return answer;
  }

  async submitMany(inputs: SubmitTaskInput[]): Promise<BatchSubmitResult[]> {
    if (this.#closed) throw new OrchestratorClosedError();
    const answers: (BatchSubmitResult | Promise<BatchSubmitResult>)[] = inputs.map((input) => {
      try {
        const task = buildTask(checkSubmission(input, this.#options), this.#options);
        return this.#enqueue(task).then(async (created) =>
          created ? { task, created } : { task: await this.get(task.id), created: false }
        );
      } catch (error) {
        if (!(error instanceof InvalidTaskError)) throw error;
        return { id: input.id ?? "", error };
      }
    });
    return await Promise.all(answers);
  }

  async get(id: string): Promise<Task> {
    if (!id) throw new InvalidTaskError("get task", "task_id", "task_id is empty");
    const [row] = await this.#query(() => this.#sql<{ doc: TaskDoc }[]>`SELECT doc FROM dspy_tasks WHERE id = ${id}`);
    if (!row) throw new TaskNotFoundError(id);
    return fromDoc(row.doc);
  }

  /** The tasks with these ids (those that exist). */
  async getMany(ids: string[]): Promise<Task[]> {
    if (ids.length === 0) return [];
    const rows = await this.#query(() =>
      this.#sql<{ doc: TaskDoc }[]>`SELECT doc FROM dspy_tasks WHERE id = ANY(${ids})`
    );
    return rows.map((r) => fromDoc(r.doc));
  }

  async list(input: ListTasksInput = {}): Promise<{ tasks: Task[]; nextPageToken: string }> {
    const states = new Set<string>();
    for (const state of input.states ?? []) {
      if (state === "pending") states.add("pending").add("retrying");
      else if (state === "failed") states.add("failed").add("cancelled").add("timed_out");
      else if ((TASK_STATES as string[]).includes(state)) states.add(state);
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
    validateLabels("", input.labels ?? {}, "list tasks");
    const size = Math.min(1000, input.pageSize && input.pageSize > 0 ? input.pageSize : 100);
    let before = Number.MAX_SAFE_INTEGER;
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
    const sql = this.#sql;
    const rows = await this.#query(() =>
      sql<{ doc: TaskDoc; seq: number }[]>`
        SELECT doc, seq::float8 AS seq FROM dspy_tasks
        WHERE seq < ${before}
          ${states.size ? sql`AND state = ANY(${[...states]})` : sql``}
          ${input.class ? sql`AND class = ${input.class}` : sql``}
          ${input.workflowId ? sql`AND workflow_id = ${input.workflowId}` : sql``}
          ${
        Object.keys(input.labels ?? {}).length
          ? sql`AND doc->'labels' @> ${JSON.stringify(input.labels)}::text::jsonb`
          : sql``
      }
        ORDER BY seq DESC LIMIT ${size + 1}`
    );
    const more = rows.length > size;
    const kept = more ? rows.slice(0, size) : rows;
    return { tasks: kept.map((r) => fromDoc(r.doc)), nextPageToken: more ? String(kept[kept.length - 1].seq) : "" };
  }

  async cancel(id: string, reason = ""): Promise<{ task: Task; cancelled: boolean }> {
    if (this.#closed) throw new OrchestratorClosedError();
    // A change by another daemon between the read and the write moves the revision: read again, a few times.
    for (let tries = 0; tries < 5; tries++) {
      const task = await this.get(id);
      if (isTerminal(task.state)) return { task, cancelled: false };
      const next = await this.apply(task, { type: "cancel", nowMs: this.#options.now(), reason });
      if (next) return { task: next, cancelled: true };
    }
    return { task: await this.get(id), cancelled: false };
  }

  subscribe(listener: (task: Task) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async flushed(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#batch.length > 0) {
      await Promise.allSettled([...this.#inFlight]);
      if (this.#batch.length > 0 && !this.#flushing) await this.#flush();
    }
  }

  /**
   * Stores a transition of `task` as last read, guarded by its revision (and, with `owner`, by the daemon still
   * holding the attempt); returns the changed task, or undefined when the row moved on meanwhile.
   */
  async apply(
    task: Task,
    event: TaskEvent,
    guard: { owner?: string; lease?: { owner: string; untilMs: number } } = {},
  ) {
    const next = transitionTask(task, event);
    const type = lifecycleEventType(next, event) ?? "";
    const data = JSON.stringify(eventData({
      ...taskEventData(next),
      ...(next.error && next.state !== "completed" ? { error: next.error } : {}),
    }));
    const c = columns(next);
    const sql = this.#sql;
    // An ended attempt (or a cancel) leaves no owner: a late outcome from its daemon then finds nothing to change.
    const owner = guard.lease?.owner ?? null;
    const work = this.#query(() =>
      sql<{ updated: number }[]>`
        WITH u AS (
          UPDATE dspy_tasks SET state = ${c.state}, revision = ${c.revision}, not_before_ms = ${c.not_before_ms},
            finished_at_ms = ${c.finished_at_ms}, doc = ${toDoc(next)}::text::jsonb,
            owner = ${owner}, lease_expires_ms = ${guard.lease ? guard.lease.untilMs : null}
          WHERE id = ${task.id} AND revision = ${task.revision}
            ${guard.owner ? sql`AND owner = ${guard.owner}` : sql``}
          RETURNING id),
        e AS (
          INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
          SELECT ${type}, ${task.id}, ${data}::text::jsonb, ${this.#options.now()} FROM u WHERE ${type} <> ''
          RETURNING sequence),
        n AS (SELECT pg_notify(${TASKS_CHANNEL}, ${notice(next)}) FROM u),
        m AS (SELECT pg_notify('dspy_events', '') FROM e)
        SELECT (SELECT count(*)::int FROM u) AS updated, (SELECT count(*) FROM n) AS n, (SELECT count(*) FROM m) AS m`
    );
    const [row] = await this.#track(work);
    return row.updated === 1 ? next : undefined;
  }

  /**
   * Claims up to `limit` ready tasks of `className` for `owner` (FOR UPDATE SKIP LOCKED: daemons claiming at once
   * take different rows), starting an attempt of each under a lease until `leaseUntilMs`.
   */
  async claim(
    className: string,
    limit: number,
    owner: string,
    leaseMs: number,
    runnable: { types: string[]; execution: boolean; any: boolean },
  ): Promise<Task[]> {
    const sql = this.#sql;
    const now = this.#options.now();
    const claimed = await this.#track(this.#query(() =>
      sql.begin(async (tx) => {
        const rows = await tx<{ doc: TaskDoc }[]>`
          SELECT doc FROM dspy_tasks
          WHERE state IN ('pending', 'retrying') AND class = ${className} AND not_before_ms <= ${now}
            ${
          runnable.any
            ? tx``
            : tx`AND (task_type = ANY(${runnable.types})${runnable.execution ? tx` OR has_execution` : tx``})`
        }
          ORDER BY priority DESC, created_at_ms, id
          LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return [];
        const started = rows.map((r) => transitionTask(fromDoc(r.doc), { type: "start", nowMs: now }));
        await tx`
          UPDATE dspy_tasks AS t SET state = 'running', revision = v.revision, doc = v.doc::jsonb, owner = ${owner},
            lease_expires_ms = ${now + leaseMs}
          FROM (SELECT * FROM unnest(${started.map((t) => t.id)}::text[], ${
          texts(started.map((t) => t.revision))
        }::text[]::int[],
            ${started.map(toDoc)}::text[]) AS x(id, revision, doc)) AS v
          WHERE t.id = v.id`;
        const events = started.map((t) => JSON.stringify(eventData(taskEventData(t))));
        await tx`
          INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
          SELECT 'task_started', id, data::jsonb, ${now}
          FROM unnest(${started.map((t) => t.id)}::text[], ${events}::text[]) AS x(id, data)`;
        for (const task of started) await tx`SELECT pg_notify(${TASKS_CHANNEL}, ${notice(task)})`;
        await tx`SELECT pg_notify('dspy_events', '')`;
        return started;
      })
    ));
    return claimed as Task[];
  }

  /** Renews the leases of the attempts `owner` runs; returns how many. */
  async renewLeases(owner: string, leaseMs: number): Promise<number> {
    const rows = await this.#query(() =>
      this.#sql`UPDATE dspy_tasks SET lease_expires_ms = ${this.#options.now() + leaseMs}
        WHERE owner = ${owner} AND state = 'running' RETURNING id`
    );
    return rows.length;
  }

  /**
   * The attempts whose lease expired (their daemon died or lost the database) and, with `includeOwn` (at start,
   * before claiming), those `owner` left running when it was killed: each is an interruption, requeued without spending an attempt (or failed past max_interruptions).
   */
  async reapExpired(owner: string, includeOwn: boolean): Promise<number> {
    const now = this.#options.now();
    const rows = await this.#query(() =>
      this.#sql<{ doc: TaskDoc; owner: string; expired: boolean }[]>`
        SELECT doc, owner, lease_expires_ms < ${now} AS expired FROM dspy_tasks
        WHERE state = 'running' AND (lease_expires_ms < ${now} OR (${includeOwn} AND owner = ${owner}))
        LIMIT 1000`
    );
    let reaped = 0;
    for (const row of rows) {
      const task = fromDoc(row.doc);
      const reason = row.expired
        ? "the daemon running the attempt stopped renewing its lease (it stopped or lost the database)"
        : "the daemon stopped during the attempt";
      const next = await this.apply(task, { type: "interrupt", nowMs: now, reason }, { owner: row.owner });
      if (next) reaped++;
    }
    return reaped;
  }

  /** Deletes up to `limit` finished tasks (outside workflows) that ended before `cutoffMs`; returns how many. */
  async prune(retentionMs: number, limit = 5000): Promise<number> {
    const cutoff = this.#options.now() - retentionMs;
    const rows = await this.#query(() =>
      this.#sql`DELETE FROM dspy_tasks WHERE id IN (
        SELECT id FROM dspy_tasks WHERE finished_at_ms > 0 AND finished_at_ms < ${cutoff} AND workflow_id = ''
        LIMIT ${limit}) RETURNING id`
    );
    return rows.length;
  }

  #enqueue(task: Task): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ task, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => void this.#flush());
    });
  }

  /** Inserts the open batch of submits in one transaction with their events and one notification. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#batch.length === 0) return;
    this.#flushing = true;
    const batch = this.#batch;
    this.#batch = [];
    const sql = this.#sql;
    const now = this.#options.now();
    const work = this.#query(() =>
      sql.begin(async (tx) => {
        const rows = batch.map(({ task }) => ({ ...columns(task), doc: toDoc(task) }));
        const inserted = await tx<{ id: string }[]>`
          INSERT INTO dspy_tasks (id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms,
            workflow_id, task_type, has_execution, revision, doc)
          SELECT id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms, workflow_id, task_type,
            has_execution, revision, doc::jsonb
          FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.class)}::text[],
            ${rows.map((r) => r.state)}::text[], ${texts(rows.map((r) => r.priority))}::text[]::int[],
            ${texts(rows.map((r) => r.created_at_ms))}::text[]::bigint[], ${
          texts(rows.map((r) => r.not_before_ms))
        }::text[]::bigint[],
            ${texts(rows.map((r) => r.finished_at_ms))}::text[]::bigint[], ${rows.map((r) => r.workflow_id)}::text[],
            ${rows.map((r) => r.task_type)}::text[], ${texts(rows.map((r) => r.has_execution))}::text[]::bool[],
            ${texts(rows.map((r) => r.revision))}::text[]::int[], ${rows.map((r) => r.doc)}::text[])
            AS x(id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms, workflow_id, task_type,
              has_execution, revision, doc)
          ON CONFLICT (id) DO NOTHING RETURNING id`;
        const created = new Set(inserted.map((r) => r.id));
        const fresh = batch.filter(({ task }) => created.has(task.id)).map(({ task }) => task);
        if (fresh.length > 0) {
          const types: string[] = [];
          const ids: string[] = [];
          const data: string[] = [];
          for (const task of fresh) {
            const base = taskEventData(task);
            types.push("task_submitted"), ids.push(task.id), data.push(JSON.stringify(eventData(base)));
            if (task.state === "failed") {
              types.push("task_failed"), ids.push(task.id);
              data.push(JSON.stringify(eventData({ ...base, error: task.error })));
            }
          }
          await tx`
            INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
            SELECT type, id, data::jsonb, ${now} FROM unnest(${types}::text[], ${ids}::text[], ${data}::text[])
              AS x(type, id, data)`;
          // One notification per few hundred ids: schedulers wake, result streams read the new tasks.
          for (let i = 0; i < fresh.length; i += 150) {
            const chunk = JSON.stringify({ submitted: fresh.slice(i, i + 150).map((t) => t.id) });
            await tx`SELECT pg_notify(${TASKS_CHANNEL}, ${chunk})`;
          }
          await tx`SELECT pg_notify('dspy_events', '')`;
        }
        return created;
      })
    );
    try {
      const created = await this.#track(work);
      for (const { task, resolve } of batch) resolve(created.has(task.id));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    } finally {
      this.#flushing = false;
      if (this.#batch.length > 0) setImmediate(() => void this.#flush());
    }
  }

  async #onNotice(payload: string): Promise<void> {
    if (this.#listeners.size === 0) return;
    let tasks: Task[];
    try {
      const message = JSON.parse(payload) as Notice;
      if ("task" in message) tasks = [fromDoc(message.task)];
      else if ("id" in message) tasks = await this.getMany([message.id]);
      else tasks = await this.getMany(message.submitted);
    } catch (error) {
      this.#options.logger.warn("Cannot read a task change notification", { error });
      return;
    }
    for (const task of tasks) {
      for (const listener of this.#listeners) {
        try {
          listener(task);
        } catch (error) {
          this.#options.logger.error("A task listener failed", { taskId: task.id, error });
        }
      }
    }
  }

  /** Runs a statement; a lost or refused connection becomes StoreUnavailableError (UNAVAILABLE). */
  async #query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw isConnectionError(error) ? new StoreUnavailableError(this.#options.maskedUrl, error) : error;
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const done = () => this.#inFlight.delete(work);
    work.then(done, done);
    return work;
  }
}

/** Whether the driver failed to reach the server (as opposed to a statement the server refused). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code ?? "";
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED)$/
    .test(code) || code.startsWith("08") || code === "57P01" || code === "57P03";
}

/** Array parameters travel as text and are cast in SQL: the driver's own array typing misreads some element types. */
function texts(values: readonly (string | number | boolean)[]): string[] {
  return values.map(String);
}
