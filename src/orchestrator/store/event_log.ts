/**
 * The durable event log behind StreamEvents (docs/compatibility.md §2.10): every event is
 * stored with a sequence number before it is fanned out, so a subscriber can
 * replay from a time or a sequence and then follow live events without a gap.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { BoundedQueue } from "../../async/mod.ts";
import { migrate } from "./db.ts";
import type { GroupCommit } from "./group_commit.ts";
import { SubscriberTooSlowError } from "../errors.ts";

const MIGRATIONS = [
  `CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    data TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL
  );`,
];

/** One stored event. */
export interface OrchestratorEvent {
  /** Position in the log, increasing by one per event. */
  sequence: number;
  /** For example task_submitted, task_completed, service_started. */
  type: string;
  /** The task, run, workflow or service id. */
  resourceId: string;
  /** Values as strings; nested values as JSON text (docs/compatibility.md §2.10). */
  data: Record<string, string>;
  /** Unix milliseconds. */
  timestampMs: number;
}

/** What {@linkcode EventLog.publish} takes. */
export interface PublishInput {
  type: string;
  resourceId: string;
  /** Non-string values are stored as JSON text. */
  data?: Record<string, unknown>;
}

/** Where a replay or subscription starts. */
export interface EventQuery {
  /** Only events at or after this unix time in ms. */
  sinceMs?: number;
  /** Only events after this sequence number. */
  afterSequence?: number;
  /** Only these types; empty = all. */
  types?: readonly string[];
}

/** Options of {@linkcode EventLog.subscribe}. */
export interface SubscribeOptions extends EventQuery {
  /** Live events held for a slow subscriber before its stream ends. @default {10000} */
  bufferSize?: number;
  /** Ends the subscription. */
  signal?: AbortSignal;
}

/** Options of {@linkcode EventLog}. */
export interface EventLogOptions {
  /** Batches writes; without one each event commits on its own. */
  batch?: GroupCommit;
  /** The clock. @default {Date.now} */
  now?: () => number;
  /** Events older than this are deleted when the log opens. @default {7 days} */
  retentionMs?: number;
}

const REPLAY_PAGE = 500;

/** The durable, subscribable event log. */
export class EventLog {
  #db: DatabaseSync;
  #insert: StatementSync;
  #now: () => number;
  #batch?: GroupCommit;
  #listeners = new Set<(event: OrchestratorEvent) => void>();

  /** Creates or upgrades the events table in `db` and drops events past retention. */
  constructor(db: DatabaseSync, options: EventLogOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#batch = options.batch;
    migrate(db, "events", MIGRATIONS);
    const retention = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    // The newest event always stays, so sequence numbers never restart.
    db.prepare(
      "DELETE FROM events WHERE timestamp_ms < ? AND seq < (SELECT MAX(seq) FROM events)",
    ).run(this.#now() - retention);
    this.#insert = db.prepare(
      "INSERT INTO events (type, resource_id, data, timestamp_ms) VALUES (?, ?, ?, ?)",
    );
  }

  /** Stores an event and, once it is committed, hands it to every listener; returns it with its sequence. */
  publish(input: PublishInput): OrchestratorEvent {
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(input.data ?? {})) {
      if (value === undefined) continue;
      data[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const timestampMs = this.#now();
    const insert = () =>
      Number(
        this.#insert.run(input.type, input.resourceId, JSON.stringify(data), timestampMs)
          .lastInsertRowid,
      );
    const fanOut = () => {
      for (const listener of this.#listeners) listener(event);
    };
    const event: OrchestratorEvent = {
      sequence: 0,
      type: input.type,
      resourceId: input.resourceId,
      data,
      timestampMs,
    };
    if (this.#batch) {
      event.sequence = this.#batch.write(insert, fanOut);
    } else {
      event.sequence = insert();
      fanOut();
    }
    return event;
  }

  /** Calls `listener` with every event published from now on; returns the function that stops it. */
  listen(listener: (event: OrchestratorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stored events matching `query`, oldest first, at most `limit`. */
  replay(query: EventQuery, limit = 1000): OrchestratorEvent[] {
    // Timestamps grow with the sequence, so a time becomes a sequence by
    // binary search; no time index is kept (it would cost a page per event).
    const after = Math.max(query.afterSequence ?? 0, this.#sequenceBefore(query.sinceMs ?? 0));
    const where = ["seq > ?", "timestamp_ms >= ?"];
    const args: (string | number)[] = [after, query.sinceMs ?? 0];
    if (query.types?.length) {
      where.push(`type IN (${query.types.map(() => "?").join(", ")})`);
      args.push(...query.types);
    }
    const rows = this.#db.prepare(
      `SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`,
    ).all(...args, limit) as unknown as EventRow[];
    return rows.map((row) => ({
      sequence: Number(row.seq),
      type: row.type,
      resourceId: row.resource_id,
      data: JSON.parse(row.data),
      timestampMs: Number(row.timestamp_ms),
    }));
  }

  /** The largest sequence whose event is older than `sinceMs` (0 if none). */
  #sequenceBefore(sinceMs: number): number {
    if (sinceMs <= 0) return 0;
    const bounds = this.#db.prepare("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM events").get() as {
      lo: number | null;
      hi: number | null;
    };
    if (bounds.lo === null || bounds.hi === null) return 0;
    const at = this.#db.prepare("SELECT timestamp_ms AS t FROM events WHERE seq >= ? ORDER BY seq LIMIT 1");
    let lo = Number(bounds.lo) - 1; // invariant: events up to lo are older than sinceMs
    let hi = Number(bounds.hi) + 1; // invariant: events from hi are not
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const row = at.get(mid) as { t: number } | undefined;
      if (row && Number(row.t) < sinceMs) lo = mid;
      else hi = mid;
    }
    return Math.max(0, lo);
  }

  /**
   * Replays stored events matching the options, then yields live ones, with
   * no gap and no repeat. A subscriber more than `bufferSize` live events
   * behind ends with {@linkcode SubscriberTooSlowError}; it resumes with
   * `afterSequence` set to the error's `lastSequence`.
   */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<OrchestratorEvent> {
    const bufferSize = options.bufferSize ?? 10_000;
    const types = options.types?.length ? new Set(options.types) : undefined;
    const queue = new BoundedQueue<OrchestratorEvent>(bufferSize);
    const unlisten = this.listen((event) => {
      if (!types || types.has(event.type)) queue.push(event);
    });
    let last = options.afterSequence ?? 0;
    let lastMs = 0;
    try {
      // Replay until caught up; live events that pile up meanwhile are in the
      // store too, so an overflow during replay just means "replay more".
      while (true) {
        const page = this.replay({ ...options, afterSequence: last }, REPLAY_PAGE);
        for (const event of page) {
          yield event;
          last = event.sequence;
          lastMs = event.timestampMs;
        }
        if (page.length === REPLAY_PAGE) continue;
        if (!queue.overflowed) break;
        queue.clear();
      }
      while (true) {
        const next = await queue.take(options.signal);
        if (next.kind === "aborted") return;
        if (next.kind === "overflowed") throw new SubscriberTooSlowError(bufferSize, last, lastMs);
        const event = next.item;
        if (event.sequence <= last || event.timestampMs < (options.sinceMs ?? 0)) continue;
        yield event;
        last = event.sequence;
        lastMs = event.timestampMs;
      }
    } finally {
      unlisten();
    }
  }
}

interface EventRow {
  seq: number;
  type: string;
  resource_id: string;
  data: string;
  timestamp_ms: number;
}
