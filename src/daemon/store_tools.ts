/**
 * The task store of a state folder whose daemon is not running, for the CLI's `store backup` and `store check`: the
 * running daemon holds its store exclusively, so then the CLI asks it over the API instead.
 *
 * @module
 */
import {
  backupDatabase,
  checkDatabase,
  type ImportCounts,
  importSqliteStore,
  openStoppedStore,
  withStoppedStore,
} from "../orchestrator/mod.ts";

/** Copies the stopped daemon's store into `dest` (absolute, not existing). */
export function backupStoreFile(home: string, dest: string): { path: string; bytes: number } {
  return withStoppedStore(home, (db) => backupDatabase(db, dest));
}

/** Checks the stopped daemon's store (SQLite quick_check). */
export function checkStoreFile(home: string): { ok: boolean; detail: string; path: string } {
  return { ...withStoppedStore(home, checkDatabase), path: `${home}/orchestrator.db` };
}

/** Moves the stopped daemon's SQLite store into the empty PostgreSQL store at `url`; the SQLite file is kept. */
export async function migrateStoreFile(home: string, url: string): Promise<ImportCounts> {
  const db = openStoppedStore(home);
  try {
    return await importSqliteStore(db, url);
  } finally {
    db.close();
  }
}
