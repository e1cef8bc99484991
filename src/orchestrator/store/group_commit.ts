/**
 * Group commit: every write made during one turn of the event loop joins one
 * SQLite transaction, committed before the loop next polls for I/O. A commit
 * costs about as much as the writes in it together (it appends their pages
 * to the WAL), so batching the submissions, starts and completions that
 * arrive together multiplies throughput. Callers that promise durability
 * (SubmitTask returning) wait for {@linkcode GroupCommit.flushed}; listeners
 * hear of a change only after it is committed.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { inTransaction } from "./db.ts";
import { isDiskFull, StoreFullError } from "../errors.ts";

/** Batches the writes of one event-loop turn into one transaction. */
export class GroupCommit {
  #db: DatabaseSync;
  // Prepared once: exec() would parse the SQL on every batch.
  #begin: StatementSync;
  #commit: StatementSync;
  #open = false;
  #flushScheduled = false;
  #afterCommit: (() => void)[] = [];
  #beforeCommit: (() => void)[] = [];
  #generation = 0;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #onError: (error: unknown) => void;

  /** Batches writes on `db`; `onError` hears of a commit that failed (the batch is rolled back). */
  constructor(db: DatabaseSync, onError: (error: unknown) => void) {
    this.#db = db;
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#onError = onError;
  }

  /** Runs `fn` inside the current batch and, once the batch commits, `afterCommit`. */
  write<T>(fn: () => T, afterCommit?: () => void): T {
    // Inside a caller's own transaction (the workflow store's), the writes
    // commit with it; since transactions are synchronous, it has ended by
    // the time the scheduled flush runs the callbacks.
    if (!this.#open && !this.#db.isTransaction) {
      this.#begin.run();
      this.#open = true;
    }
    // In our own batch, `fn` runs bare: a savepoint per write would cost two
    // statements, and the writers here check before they write, so a throw
    // mid-way means the database itself failed and the batch fails with it.
    const value = this.#open ? fn() : inTransaction(this.#db, fn);
    if (afterCommit) this.#afterCommit.push(afterCommit);
    this.#scheduleFlush();
    return value;
  }

  /**
   * Runs `fn` inside the open batch just before it commits, for writers that
   * keep their rows in memory while the batch is open and store only the
   * last version. Returns false (and registers nothing) when the batch is
   * not ours: inside a caller's own transaction, writes must happen now.
   */
  beforeCommit(fn: () => void): boolean {
    if (!this.#open) return false;
    this.#beforeCommit.push(fn);
    return true;
  }

  /** Counts batches ended (committed or rolled back): state kept for "the open batch" is stale once it moves. */
  get generation(): number {
    return this.#generation;
  }

  /** Resolves once every write made so far is committed. */
  flushed(): Promise<void> {
    if (!this.#open && this.#afterCommit.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Commits the open batch now, then runs its after-commit callbacks. */
  flush(): void {
    const callbacks = this.#afterCommit;
    const waiters = this.#waiters;
    const before = this.#beforeCommit;
    this.#afterCommit = [];
    this.#waiters = [];
    this.#beforeCommit = [];
    this.#generation++;
    if (this.#open) {
      try {
        for (const fn of before) fn();
        this.#open = false;
        this.#commit.run();
      } catch (error) {
        this.#open = false;
        try {
          this.#db.exec("ROLLBACK");
        } catch { /* the database is gone */ }
        // A full disk is the caller's to know as such (RESOURCE_EXHAUSTED), not an internal error.
        const failure = isDiskFull(error) ? new StoreFullError({ cause: error }) : error;
        this.#onError(failure);
        for (const waiter of waiters) waiter.reject(failure);
        return;
      }
    }
    for (const callback of callbacks) callback();
    for (const waiter of waiters) waiter.resolve();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }
}
