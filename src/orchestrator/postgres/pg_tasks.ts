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
  checkListing,
  checkSubmission,
  type ListTasksInput,
  type SubmitTaskInput,
  type TaskRules,
} from "../task_service.ts";
import type { BatchSubmitResult, TaskApi } from "../orchestrator.ts";
import { ChannelListener, type Sql, texts } from "./schema.ts";
import { eventData, EVENTS_CHANNEL } from "./pg_events.ts";
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
type Notice = { task: TaskDoc } | { id: string } | { submitted: string[]; classes: string[]; from: string };

/**
 * Submit batches in flight at once, each on a pooled connection. More than one: a batch whose statement never settles
 * (a connection lost in an unlucky moment of a database restart) must not hold back every later submit.
 */
const MAX_FLUSHES = 4;

/** How long closing waits for the statements in flight. */
const CLOSE_WAIT_MS = 5000;

/** New tasks are announced to the other daemons this long after their commit, many commits in one notification. */
const ANNOUNCE_MS = 5;

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
  /** Told when a statement could not reach the database. */
  onConnectionLost?: () => void;
  /** The store's URL (with its password): change notifications are read on a connection of their own. */
  url?: string;
}

/** The task API on PostgreSQL. */
export class PgTasks implements TaskApi {
  #options: PgTasksOptions;
  #sql: Sql;
  #listeners = new Set<(task: Task) => void>();
  #submittedHooks = new Set<(classes: string[]) => void>();
  #changeHooks = new Set<(task: Task) => void>();
  /** Stored tasks the other daemons have not been told of yet. */
  #unannounced: Task[] = [];
  /** Tells this daemon's own notifications from the others'. */
  #origin = crypto.randomUUID();
  #batch: { task: Task; resolve: (created: boolean) => void; reject: (error: unknown) => void }[] = [];
  /** Batch inserts in flight: a new batch does not wait for the previous one's round trip, up to this many. */
  #flushing = 0;
  #inFlight = new Set<Promise<unknown>>();
  #counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
  #waiting = new Map<string, { depth: number; oldestMs: number }>();
  #closed = false;
  #listener: ChannelListener;

  /** Wraps a pool; call {@linkcode PgTasks.start} before use. */
  constructor(options: PgTasksOptions) {
    this.#options = options;
    this.#sql = options.sql;
    this.#listener = new ChannelListener(
      options.sql,
      TASKS_CHANNEL,
      (payload) => void this.#onNotice(payload),
      options.url,
    );
  }

  /** Starts listening for changes made by any daemon, and reads the counts. */
  async start(): Promise<void> {
    await this.#listener.start();
    await this.refreshCounts();
  }

  /** Listens again after the database came back (the orchestrator calls this now and then). */
  ensureListening(): Promise<void> {
    return this.#listener.ensure();
  }

  /** Stops listening; later submits and cancels are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    // Bounded: a statement that never settles (a connection lost at an unlucky moment) must not keep the daemon from
    // stopping. What it wrote is either committed or not; the submitter was not told it was.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    await Promise.race([this.#settled().catch(() => {}), limit]);
    clearTimeout(timer);
    await this.#listener.stop();
  }

  /** Re-reads the counts by state and the waiting tasks by class (the metrics read them now and then). */
  async refreshCounts(): Promise<void> {
    const rows = await this.#query(() =>
      this.#sql<{ class: string; state: string; n: number; oldest: number | null }[]>`
        SELECT class, state, count(*)::int AS n, min(created_at_ms)::float8 AS oldest FROM dspy_tasks
        GROUP BY class, state`
    );
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

  /** A running task with the daemon that holds its attempt, or undefined when it is not running. */
  async runningAttempt(id: string): Promise<{ task: Task; owner: string | null } | undefined> {
    const [row] = await this.#query(() =>
      this.#sql<{ doc: TaskDoc; owner: string | null }[]>`
        SELECT doc, owner FROM dspy_tasks WHERE id = ${id} AND state = 'running'`
    );
    return row ? { task: fromDoc(row.doc), owner: row.owner } : undefined;
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
    const { states, size, before = Number.MAX_SAFE_INTEGER } = checkListing(input);
    const sql = this.#sql;
    const rows = await this.#query(() =>
      sql<{ doc: TaskDoc; seq: number }[]>`
        SELECT doc, seq::float8 AS seq FROM dspy_tasks
        WHERE seq < ${before}
          ${states.length ? sql`AND state = ANY(${states})` : sql``}
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

  /** Calls `hook` with each task changed by any daemon, new tasks excepted (see onSubmitted). */
  onChanged(hook: (task: Task) => void): () => void {
    this.#changeHooks.add(hook);
    return () => this.#changeHooks.delete(hook);
  }

  /** Calls `hook` whenever any daemon stores new tasks (without reading them); returns the function that stops it. */
  onSubmitted(hook: (classes: string[]) => void): () => void {
    this.#submittedHooks.add(hook);
    return () => this.#submittedHooks.delete(hook);
  }

  /**
   * Resolves at once: on this store every submit, cancel and transition resolves only after its own commit, so what
   * a caller awaited is already stored. (On SQLite, submits return before their group commit and this waits for it.)
   */
  flushed(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves once every statement this service started has ended (used when closing). */
  async #settled(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#batch.length > 0) {
      await Promise.allSettled([...this.#inFlight]);
      if (this.#batch.length > 0) await this.#flush();
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
    // One statement, one round trip: pick (skipping rows other daemons hold), start, record task_started, notify.
    // The start is transitionTask's "start" written in SQL (pg_tasks_test.ts checks the two agree).
    const rows = await this.#track(this.#query(() =>
      sql<{ doc: TaskDoc }[]>`
        WITH picked AS (
          SELECT id FROM dspy_tasks
          WHERE state IN ('pending', 'retrying') AND class = ${className} AND not_before_ms <= ${now}
            ${
        runnable.any
          ? sql``
          : sql`AND (task_type = ANY(${runnable.types})${runnable.execution ? sql` OR has_execution` : sql``})`
      }
          ORDER BY priority DESC, created_at_ms, id
          LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        u AS (
          UPDATE dspy_tasks AS t SET state = 'running', revision = t.revision + 1, owner = ${owner},
            lease_expires_ms = ${now + leaseMs},
            doc = t.doc || jsonb_build_object('state', 'running', 'attempts', (t.doc->>'attempts')::int + 1,
              'startedAtMs', ${now}::bigint, 'waitingReason', '', 'revision', t.revision + 1)
          FROM picked WHERE t.id = picked.id
          RETURNING t.doc),
        e AS (
          INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
          SELECT 'task_started', doc->>'id', jsonb_build_object('class', doc->>'class', 'state', 'running',
            'priority', doc->>'priority', 'attempts', doc->>'attempts')
            || CASE WHEN doc->>'workflowId' <> '' THEN jsonb_build_object('workflow_id', doc->>'workflowId')
               ELSE '{}'::jsonb END,
            ${now} FROM u
          RETURNING 1),
        n AS (
          SELECT pg_notify(${TASKS_CHANNEL}, CASE WHEN length(doc::text) <= ${NOTIFY_LIMIT - 20}
            THEN jsonb_build_object('task', doc)::text ELSE jsonb_build_object('id', doc->>'id')::text END)
          FROM u),
        m AS (SELECT pg_notify(${EVENTS_CHANNEL}, '') WHERE EXISTS (SELECT 1 FROM e))
        SELECT doc FROM u WHERE (SELECT count(*) FROM n) >= 0 AND (SELECT count(*) FROM m) >= 0`
    ));
    const claimed = rows.map((r) => fromDoc(r.doc));
    return claimed;
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
    if (this.#flushing >= MAX_FLUSHES || this.#batch.length === 0) return;
    this.#flushing++;
    const batch = this.#batch;
    this.#batch = [];
    const sql = this.#sql;
    const now = this.#options.now();
    const rows = batch.map(({ task }) => ({ ...columns(task), doc: toDoc(task) }));
    // One statement, one commit for the batch: the rows and their task_submitted (and, for a task nothing can run,
    // task_failed) events. The other daemons hear of them afterwards ({@linkcode PgTasks.#announce}).
    const work = this.#query(async () => {
      const [row] = await sql<{ ids: string[] | null }[]>`
        WITH ins AS (
          INSERT INTO dspy_tasks (id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms,
            workflow_id, task_type, has_execution, revision, doc)
          SELECT id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms, workflow_id, task_type,
            has_execution, revision, doc::jsonb
          FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.class)}::text[],
            ${rows.map((r) => r.state)}::text[], ${texts(rows.map((r) => r.priority))}::text[]::int[],
            ${texts(rows.map((r) => r.created_at_ms))}::text[]::bigint[],
            ${texts(rows.map((r) => r.not_before_ms))}::text[]::bigint[],
            ${texts(rows.map((r) => r.finished_at_ms))}::text[]::bigint[], ${rows.map((r) => r.workflow_id)}::text[],
            ${rows.map((r) => r.task_type)}::text[], ${texts(rows.map((r) => r.has_execution))}::text[]::bool[],
            ${texts(rows.map((r) => r.revision))}::text[]::int[], ${rows.map((r) => r.doc)}::text[])
            AS x(id, class, state, priority, created_at_ms, not_before_ms, finished_at_ms, workflow_id, task_type,
              has_execution, revision, doc)
          ON CONFLICT (id) DO NOTHING
          RETURNING id, class, state, priority, workflow_id, doc),
        data AS (
          SELECT id, state, doc, jsonb_build_object('class', class, 'state', state, 'priority', priority::text,
            'attempts', '0') || CASE WHEN workflow_id <> '' THEN jsonb_build_object('workflow_id', workflow_id)
            ELSE '{}'::jsonb END AS base
          FROM ins),
        e AS (
          INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
          SELECT type, id, data, ${now} FROM (
            SELECT 1 AS k, 'task_submitted' AS type, id, base AS data FROM data
            UNION ALL
            SELECT 2, 'task_failed', id, base || jsonb_build_object('error', doc->>'error') FROM data
            WHERE state = 'failed') AS all_events
          ORDER BY id, k
          RETURNING 1)
        SELECT (SELECT array_agg(id) FROM ins) AS ids`;
      return new Set(row.ids ?? []);
    });
    try {
      const created = await this.#track(work);
      for (const { task, resolve } of batch) resolve(created.has(task.id));
      this.#announce(batch.map(({ task }) => task).filter((task) => created.has(task.id)));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    } finally {
      this.#flushing--;
      if (this.#batch.length > 0) setImmediate(() => void this.#flush());
    }
  }

  /**
   * Tells of newly stored tasks: this daemon's scheduler and streams at once (with the tasks in hand), the other
   * daemons by one notification per few milliseconds of submits (kept out of the submits' own commits, where a
   * NOTIFY per batch cost a third of the submit rate).
   */
  #announce(tasks: Task[]): void {
    if (tasks.length === 0) return;
    const classes = [...new Set(tasks.map((t) => t.class))];
    for (const hook of this.#submittedHooks) hook(classes);
    this.#dispatch(tasks, this.#listeners);
    this.#unannounced.push(...tasks);
    if (this.#unannounced.length === tasks.length) {
      setTimeout(() => {
        const pending = this.#unannounced;
        this.#unannounced = [];
        const notices: string[] = [];
        for (let i = 0; i < pending.length; i += 150) {
          const chunk = pending.slice(i, i + 150);
          notices.push(JSON.stringify({
            submitted: chunk.map((t) => t.id),
            classes: [...new Set(chunk.map((t) => t.class))],
            from: this.#origin,
          }));
        }
        void this.#query(() =>
          this.#sql`SELECT pg_notify(${TASKS_CHANNEL}, n) FROM unnest(${notices}::text[]) AS n
            UNION ALL SELECT pg_notify(${EVENTS_CHANNEL}, '')`
        ).catch((error) => this.#options.logger.warn("Cannot announce new tasks", { error }));
      }, ANNOUNCE_MS);
    }
  }

  async #onNotice(payload: string): Promise<void> {
    let tasks: Task[];
    try {
      const message = JSON.parse(payload) as Notice;
      if ("from" in message && message.from === this.#origin) return;
      if ("submitted" in message) {
        // Schedulers only need to know there is new work; reading the new rows is for result streams.
        for (const hook of this.#submittedHooks) hook(message.classes);
        if (this.#listeners.size === 0) return;
        tasks = await this.getMany(message.submitted);
        this.#dispatch(tasks, this.#listeners);
        return;
      }
      if (this.#listeners.size === 0 && this.#changeHooks.size === 0) return;
      tasks = "task" in message ? [fromDoc(message.task)] : await this.getMany([message.id]);
    } catch (error) {
      this.#options.logger.warn("Cannot read a task change notification", { error });
      return;
    }
    this.#dispatch(tasks, this.#listeners);
    this.#dispatch(tasks, this.#changeHooks);
  }

  #dispatch(tasks: Task[], listeners: Set<(task: Task) => void>): void {
    for (const task of tasks) {
      for (const listener of listeners) {
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
      if (!isConnectionError(error)) throw error;
      this.#listener.lost();
      this.#options.onConnectionLost?.();
      throw new StoreUnavailableError(this.#options.maskedUrl, error);
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
