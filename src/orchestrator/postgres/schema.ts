/**
 * The PostgreSQL store's connection and schema. Migrations are numbered SQL scripts applied in order at start, inside
 * one transaction that holds an advisory lock, so daemons starting together on one database apply each exactly once.
 *
 * Tables: `dspy_tasks` (each task as a JSON document beside the columns the scheduler searches: state, class,
 * priority, times, the daemon that runs it and its lease), `dspy_events` (the event log, numbered by a sequence),
 * `dspy_workflows`, `dspy_workflow_runs` and `dspy_workflow_steps` (version 2; version 3 indexes runs newest first), and `dspy_schema` (the versions
 * applied).
 *
 * @module
 */
import postgres from "postgres";
import { maskUrlPassword } from "../../config/mod.ts";
import { StoreUnavailableError } from "../errors.ts";

/** A connection pool to the store. */
export type Sql = postgres.Sql;

/** The key of the advisory lock migrations hold ("dspy" in ASCII). */
const MIGRATION_LOCK = 0x64737079;

/** The schema, one script per version; a new version is appended, never an old one edited. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE dspy_tasks (
     id text PRIMARY KEY,
     seq bigserial UNIQUE NOT NULL,
     class text NOT NULL,
     state text NOT NULL,
     priority integer NOT NULL,
     created_at_ms bigint NOT NULL,
     not_before_ms bigint NOT NULL,
     finished_at_ms bigint NOT NULL,
     workflow_id text NOT NULL,
     task_type text NOT NULL,
     has_execution boolean NOT NULL,
     revision integer NOT NULL,
     owner text,
     lease_expires_ms bigint,
     doc jsonb NOT NULL
   );
   CREATE INDEX dspy_tasks_ready ON dspy_tasks (class, priority DESC, created_at_ms, id)
     WHERE state IN ('pending', 'retrying');
   CREATE INDEX dspy_tasks_leases ON dspy_tasks (lease_expires_ms) WHERE state = 'running';
   CREATE INDEX dspy_tasks_owner ON dspy_tasks (owner) WHERE state = 'running';
   CREATE INDEX dspy_tasks_finished ON dspy_tasks (finished_at_ms) WHERE finished_at_ms > 0 AND workflow_id = '';
   CREATE INDEX dspy_tasks_state ON dspy_tasks (state, seq);
   CREATE TABLE dspy_events (
     sequence bigserial PRIMARY KEY,
     type text NOT NULL,
     resource_id text NOT NULL,
     data jsonb NOT NULL,
     timestamp_ms bigint NOT NULL
   );
   CREATE INDEX dspy_events_time ON dspy_events (timestamp_ms);`,
  // 2: workflows, their runs (each with the spec it started with) and the runs' steps.
  `CREATE TABLE dspy_workflows (
     id text PRIMARY KEY,
     name text NOT NULL,
     description text NOT NULL,
     spec text NOT NULL,
     created_at_ms bigint NOT NULL
   );
   CREATE TABLE dspy_workflow_runs (
     id text PRIMARY KEY,
     workflow_id text NOT NULL,
     idempotency_key text NOT NULL,
     input jsonb NOT NULL,
     spec jsonb NOT NULL,
     state text NOT NULL,
     error text NOT NULL DEFAULT '',
     output jsonb NOT NULL DEFAULT '{}',
     created_at_ms bigint NOT NULL,
     finished_at_ms bigint NOT NULL DEFAULT 0
   );
   CREATE UNIQUE INDEX dspy_workflow_runs_idempotency ON dspy_workflow_runs (workflow_id, idempotency_key)
     WHERE idempotency_key <> '';
   CREATE INDEX dspy_workflow_runs_unfinished ON dspy_workflow_runs (created_at_ms)
     WHERE state IN ('pending', 'running');
   CREATE TABLE dspy_workflow_steps (
     run_id text NOT NULL,
     step_id text NOT NULL,
     state text NOT NULL,
     task_id text NOT NULL DEFAULT '',
     output jsonb,
     error text NOT NULL DEFAULT '',
     started_at_ms bigint NOT NULL DEFAULT 0,
     finished_at_ms bigint NOT NULL DEFAULT 0,
     PRIMARY KEY (run_id, step_id)
   );`,
  // 3: ListWorkflowRuns reads newest first, of every workflow or of one.
  `CREATE INDEX dspy_workflow_runs_newest ON dspy_workflow_runs (created_at_ms, id);
   CREATE INDEX dspy_workflow_runs_by_workflow ON dspy_workflow_runs (workflow_id, created_at_ms, id);`,
];

/** Options of {@linkcode connectStore}. */
export interface ConnectOptions {
  /** Connections in the pool. @default {10} */
  max?: number;
  /** Aborts connecting. */
  signal?: AbortSignal;
}

/**
 * Opens a pool to `url` and checks it answers; throws {@linkcode StoreUnavailableError} naming the host (never the
 * password) when it does not within 10 s.
 */
export async function connectStore(url: string, options: ConnectOptions = {}): Promise<Sql> {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Short, so a call while the database is away fails soon (UNAVAILABLE) instead of hanging.
    connect_timeout: 3,
    idle_timeout: 0,
    prepare: true,
    connection: {
      application_name: "dspy-agent",
      // As the SQLite store's synchronous=NORMAL: a commit returns once PostgreSQL has it, before its WAL reaches the
      // disk. An acknowledged task survives a kill -9 of any daemon and a restart of PostgreSQL; a crash or power
      // loss of the database host itself may lose the last moments (at most 3 × wal_writer_delay, 0.6 s by
      // default). A commit per task waiting for the disk would cap submits at the disk's flush rate
      // (bench/scale measured 293 tasks/s that way against 3,720 for Celery with Redis).
      synchronous_commit: "off",
    },
  });
  try {
    await sql`SELECT 1`;
    return sql;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new StoreUnavailableError(maskStoreUrl(url), error);
  }
}

/** Applies the migrations not yet applied, under the advisory lock; returns the version the store is at. */
export async function migrate(sql: Sql): Promise<number> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS dspy_schema (version integer NOT NULL)`;
    const [row] = await tx<{ version: number }[]>`SELECT max(version)::int AS version FROM dspy_schema`;
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new StoreUnavailableError(
        "",
        new Error(
          `the database is at schema version ${current}, newer than this dspy-agent knows (${MIGRATIONS.length}); ` +
            "upgrade dspy-agent on this host",
        ),
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await tx.unsafe(MIGRATIONS[version - 1]);
      await tx`INSERT INTO dspy_schema (version) VALUES (${version})`;
    }
    return MIGRATIONS.length;
  });
}

/** The URL with its password replaced by `****`, for messages and logs. */
export const maskStoreUrl = maskUrlPassword;

/**
 * LISTEN on one channel that survives the database going away. With the store's URL it listens on a connection of
 * its own, which {@linkcode ChannelListener.ensure} (called now and then) throws away and opens again after
 * {@linkcode ChannelListener.lost} said a connection failed: the driver re-listens by itself when a connection drops,
 * but if the server is still down at that moment it keeps a failed LISTEN for the channel and never tries again.
 * Without a URL (tests in process) it listens on the given pool.
 */
export class ChannelListener {
  #pool: Sql;
  #url?: string;
  #own?: Sql;
  #channel: string;
  #onNotify: (payload: string) => void;
  #unlisten?: () => Promise<void>;
  #listening = false;

  /** A listener of `channel`, on a connection of its own to `url` when given, else on `pool`. */
  constructor(pool: Sql, channel: string, onNotify: (payload: string) => void, url?: string) {
    this.#pool = pool;
    this.#url = url;
    this.#channel = channel;
    this.#onNotify = onNotify;
  }

  /** Listens; throws when the database does not answer. */
  async start(): Promise<void> {
    let sql = this.#pool;
    if (this.#url) {
      this.#own = postgres(this.#url, { max: 1, onnotice: () => {}, connect_timeout: 3, idle_timeout: 0 });
      sql = this.#own;
    }
    const { unlisten } = await sql.listen(this.#channel, this.#onNotify, () => (this.#listening = true));
    this.#unlisten = unlisten;
    this.#listening = true;
  }

  /** Marks the listening connection as probably gone (a query failed to reach the server). */
  lost(): void {
    this.#listening = false;
  }

  /** Listens again if the connection was lost; quietly waits for a later call if the database is still away. */
  async ensure(): Promise<void> {
    if (this.#listening) return;
    await this.stop();
    await this.start().catch(() => {});
  }

  /** Stops listening (and closes its own connection). */
  async stop(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
    this.#unlisten = undefined;
    await this.#own?.end({ timeout: 1 }).catch(() => {});
    this.#own = undefined;
  }
}

/** Array parameters travel as text and are cast in SQL: the driver's own array typing misreads some element types. */
export function texts(values: readonly (string | number | boolean)[]): string[] {
  return values.map(String);
}
