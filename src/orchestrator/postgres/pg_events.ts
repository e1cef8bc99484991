/**
 * The event log on PostgreSQL, shared by every daemon on the database. Publishing is batched (the events of one turn
 * of the event loop are one INSERT); every insert, here or in a task change, notifies the `dspy_events` channel, and
 * each daemon's subscribers then read what is new, so a stream on any daemon sees the events of all of them, in
 * sequence order, resuming after a sequence number as on SQLite.
 *
 * @module
 */
import { BoundedQueue } from "../../async/mod.ts";
import type { EventApi } from "../orchestrator.ts";
import type { OrchestratorEvent, PublishInput, SubscribeOptions } from "../store/event_log.ts";
import { ChannelListener, type Sql, texts } from "./schema.ts";
import type { Logger } from "../../log/mod.ts";

/** The notification channel of new events (the payload is empty: subscribers read what is new). */
export const EVENTS_CHANNEL = "dspy_events";

const PAGE = 500;

/** Event data as the wire carries it: strings, nested values as JSON text. */
export function eventData(input: Record<string, unknown> | undefined): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined) continue;
    data[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return data;
}

interface EventRow {
  sequence: number;
  type: string;
  resource_id: string;
  data: Record<string, string>;
  timestamp_ms: number;
}

/** The event API on PostgreSQL. */
export class PgEvents implements EventApi {
  #sql: Sql;
  #now: () => number;
  #logger: Logger;
  #listeners = new Set<(event: OrchestratorEvent) => void>();
  #pending: OrchestratorEvent[] = [];
  #wakers = new Set<() => void>();
  #listener: ChannelListener;

  /** Wraps a pool; call {@linkcode PgEvents.start} before subscribing. */
  constructor(sql: Sql, options: { now: () => number; logger: Logger; url?: string }) {
    this.#sql = sql;
    this.#now = options.now;
    this.#logger = options.logger;
    this.#listener = new ChannelListener(sql, EVENTS_CHANNEL, () => this.#wake(), options.url);
  }

  /** Listens for new events from every daemon. */
  async start(): Promise<void> {
    await this.#listener.start();
  }

  /** Marks the listening connection as probably gone (the database went away). */
  connectionLost(): void {
    this.#listener.lost();
  }

  /** Listens again after the database came back (the orchestrator calls this now and then). */
  ensureListening(): Promise<void> {
    return this.#listener.ensure();
  }

  /** Writes what is pending and stops listening. */
  async close(): Promise<void> {
    // Bounded as PgTasks.close is: a statement that never settles must not keep the daemon from stopping.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#flush().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    await this.#listener.stop();
    this.#wake();
  }

  publish(input: PublishInput): OrchestratorEvent {
    const event: OrchestratorEvent = {
      sequence: 0,
      type: input.type,
      resourceId: input.resourceId,
      data: eventData(input.data),
      timestampMs: this.#now(),
    };
    this.#pending.push(event);
    if (this.#pending.length === 1) setImmediate(() => void this.#flush());
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  listen(listener: (event: OrchestratorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stored events after `afterSequence` matching the query, oldest first. */
  async replay(options: SubscribeOptions, afterSequence: number, limit = PAGE): Promise<OrchestratorEvent[]> {
    const sql = this.#sql;
    const rows = await sql<EventRow[]>`
      SELECT sequence::float8 AS sequence, type, resource_id, data, timestamp_ms::float8 AS timestamp_ms
      FROM dspy_events
      WHERE sequence > ${afterSequence}
        ${options.sinceMs ? sql`AND timestamp_ms >= ${options.sinceMs}` : sql``}
        ${options.types?.length ? sql`AND type = ANY(${[...options.types]})` : sql``}
      ORDER BY sequence LIMIT ${limit}`;
    return rows.map((r) => ({
      sequence: r.sequence,
      type: r.type,
      resourceId: r.resource_id,
      data: r.data,
      timestampMs: r.timestamp_ms,
    }));
  }

  /**
   * Replays the matching events, then follows new ones from every daemon. Each subscriber reads the store at its
   * own pace (a slow one lags; it never holds events in memory), resuming after the last sequence it yielded.
   */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<OrchestratorEvent> {
    const ticks = new BoundedQueue<true>(1);
    const waker = () => {
      if (ticks.size === 0) ticks.push(true);
    };
    this.#wakers.add(waker);
    let last = options.afterSequence ?? 0;
    try {
      while (!options.signal?.aborted) {
        while (true) {
          const page = await this.replay(options, last);
          for (const event of page) {
            yield event;
            last = event.sequence;
          }
          if (page.length < PAGE) break;
        }
        const next = await ticks.take(options.signal);
        if (next.kind === "aborted") return;
      }
    } finally {
      this.#wakers.delete(waker);
    }
  }

  async #flush(): Promise<void> {
    const events = this.#pending;
    this.#pending = [];
    if (events.length === 0) return;
    try {
      await this.#sql`
        WITH e AS (
          INSERT INTO dspy_events (type, resource_id, data, timestamp_ms)
          SELECT type, id, data::jsonb, ts FROM unnest(${events.map((e) => e.type)}::text[],
            ${events.map((e) => e.resourceId)}::text[], ${events.map((e) => JSON.stringify(e.data))}::text[],
            ${texts(events.map((e) => e.timestampMs))}::text[]::bigint[]) AS x(type, id, data, ts)
          RETURNING sequence)
        SELECT pg_notify(${EVENTS_CHANNEL}, '') FROM (SELECT count(*) FROM e) AS c`;
    } catch (error) {
      // An event that cannot be stored (the database is gone) is dropped, not retried forever: events describe
      // what happened; the tasks themselves are stored by their own writes.
      this.#logger.warn("Cannot store events", { count: events.length, error });
    }
  }

  #wake(): void {
    for (const waker of this.#wakers) waker();
  }
}
