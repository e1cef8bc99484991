/**
 * The orchestrator's embedded SQLite store: opening it durably and applying
 * numbered schema migrations per component (tasks, events, workflows).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { InvalidStoreBackupError, StoreUnusableError } from "../errors.ts";

/** The name of the store file inside the state folder. */
export const DATABASE_FILE = "orchestrator.db";

/** Options of {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  /** The state folder; created if missing. */
  stateDir: string;
  /** Aborts opening. */
  signal?: AbortSignal;
}

/**
 * Opens `<stateDir>/orchestrator.db` in WAL mode with synchronous=NORMAL: a
 * committed write survives a kill -9 of the daemon (not a power cut), at
 * about 25k single-row commits per second (docs ENVIRONMENT.md).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseSync> {
  options.signal?.throwIfAborted();
  await Deno.mkdir(options.stateDir, { recursive: true });
  const path = `${options.stateDir}/${DATABASE_FILE}`;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    configure(db);
    return db;
  } catch (error) {
    db?.close();
    throw new StoreUnusableError(path, (error as Error).message, { cause: error });
  }
}

function configure(db: DatabaseSync): void {
  // A commit appends every page it dirtied to the WAL, two writes per page. 4 KiB pages hold
  // several task rows, so a batch dirties fewer of them than with 1 KiB pages: 5.4 instead of
  // 8.4 pages per noop task, and about 12% less CPU per task (bench/tasks/in_process.ts). Applies
  // to new stores; an existing file keeps its page size.
  db.exec("PRAGMA page_size = 4096");
  // Only the daemon (one per state folder, daemon.lock) opens the store: an exclusive lock taken
  // once, with the WAL index in process memory instead of a shared -shm file, spares every
  // transaction its locking system calls (a one-row commit: 26 -> 11 µs). Set before the first
  // WAL access, so no -shm is ever made. Other processes can read the file once the daemon is gone.
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  // Checkpoints run from a timer (startCheckpoints), not inside a commit.
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at_ms INTEGER NOT NULL,
    PRIMARY KEY (component, version)
  )`);
}

/**
 * Applies the migrations of one component that are not applied yet, each in
 * its own transaction. `migrations[i]` is version i + 1; never edit a shipped
 * one, append a new one.
 */
export function migrate(db: DatabaseSync, component: string, migrations: readonly string[]): void {
  const row = db.prepare(
    "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = ?",
  ).get(component) as { v: number };
  for (let version = row.v + 1; version <= migrations.length; version++) {
    inTransaction(db, () => {
      db.exec(migrations[version - 1]);
      db.prepare(
        "INSERT INTO schema_migrations (component, version, applied_at_ms) VALUES (?, ?, ?)",
      ).run(component, version, Date.now());
    });
  }
}

/**
 * Runs `fn` in one transaction: committed if it returns, rolled back if it
 * throws. Inside an open transaction (a group commit) it is a savepoint, so
 * a failing `fn` undoes only its own writes.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  const nested = db.isTransaction;
  db.exec(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
  try {
    const value = fn();
    db.exec(nested ? "RELEASE nested" : "COMMIT");
    return value;
  } catch (error) {
    if (nested) {
      db.exec("ROLLBACK TO nested");
      db.exec("RELEASE nested");
    } else db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Checkpoints the WAL into the database every `intervalMs` (PASSIVE: never
 * waits), keeping checkpoint work out of the commits on the submit path.
 * Returns the function that stops it and truncates the WAL.
 */
export function startCheckpoints(db: DatabaseSync, intervalMs = 1000): () => void {
  const timer = setInterval(() => {
    try {
      db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // The database is closing; the final checkpoint below covers it.
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
    try {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch { /* closed already */ }
  };
}

/**
 * Copies a store into `dest` (absolute, not existing): every committed write is checkpointed into the main file,
 * which is then copied while the event loop is held, so no write lands mid-copy, and the copy is checked.
 * (`VACUUM INTO` would attach a second database, which Deno allows only with every permission.)
 */
export function backupDatabase(db: DatabaseSync, dest: string): { path: string; bytes: number } {
  if (!dest.startsWith("/")) throw new InvalidStoreBackupError(dest, "give an absolute path");
  try {
    Deno.lstatSync(dest);
    throw new InvalidStoreBackupError(dest, "a file is already there; choose a new name");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const source = (db.prepare("PRAGMA database_list").all() as { name: string; file: string }[])
    .find((d) => d.name === "main")!.file;
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  Deno.copyFileSync(source, dest);
  const copy = new DatabaseSync(dest, { readOnly: true });
  try {
    const { ok, detail } = checkDatabase(copy);
    if (!ok) throw new InvalidStoreBackupError(dest, `the copy failed its check: ${detail}`);
  } finally {
    copy.close();
  }
  return { path: dest, bytes: Deno.statSync(dest).size };
}

/** SQLite's `quick_check` of a store: "ok", or the problems it found. */
export function checkDatabase(db: DatabaseSync): { ok: boolean; detail: string } {
  const rows = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  const detail = rows.map((r) => r.quick_check).join("; ");
  return { ok: detail === "ok", detail };
}

/** Opens the store of a state folder whose daemon is not running, for a backup or a check. */
export function withStoppedStore<T>(stateDir: string, fn: (db: DatabaseSync) => T): T {
  const path = `${stateDir}/${DATABASE_FILE}`;
  const db = openStoppedStore(stateDir);
  try {
    return fn(db);
  } catch (error) {
    if (error instanceof InvalidStoreBackupError) throw error;
    throw new StoreUnusableError(path, (error as Error).message, { cause: error });
  } finally {
    db.close();
  }
}

/** Opens the store of a state folder whose daemon is not running; the caller closes it. */
export function openStoppedStore(stateDir: string): DatabaseSync {
  const path = `${stateDir}/${DATABASE_FILE}`;
  Deno.statSync(path);
  try {
    // Not read-only: a store a killed daemon left may have committed writes in its WAL still to checkpoint.
    return new DatabaseSync(path);
  } catch (error) {
    throw new StoreUnusableError(path, (error as Error).message, { cause: error });
  }
}
