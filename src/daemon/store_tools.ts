/**
 * The task store of a state folder whose daemon is not running, for the CLI's `store backup` and `store check`: the
 * running daemon holds its store exclusively, so then the CLI asks it over the API instead.
 *
 * @module
 */
import {
  backupDatabase,
  checkDatabase,
  connectStore,
  type ImportCounts,
  importSqliteStore,
  openStoppedStore,
  withStoppedStore,
} from "../orchestrator/mod.ts";
import { type Config, ConfigError, maskUrlPassword } from "../config/mod.ts";

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

/**
 * The store URL with the password from `store_password_file` put in, when one is configured. The result is handed
 * to the driver only: messages and logs show the URL masked.
 */
export async function storeUrlWithPassword(config: Config): Promise<string> {
  const url = config.storeUrl!;
  if (!config.storePasswordFile) return url;
  let password: string;
  try {
    password = (await Deno.readTextFile(config.storePasswordFile)).trim();
  } catch (error) {
    throw new ConfigError(
      `cannot read the store password file "${config.storePasswordFile}" (${(error as Error).message}); ` +
        "name a readable file in store_password_file or DSPY_AGENT_STORE_PASSWORD_FILE",
      { key: "store_password_file" },
    );
  }
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** Whether the configured PostgreSQL store answers, and at which schema version (for `doctor`). */
export async function checkPostgresStore(config: Config): Promise<{ ok: boolean; detail: string }> {
  const shown = maskUrlPassword(config.storeUrl!);
  const started = performance.now();
  let sql;
  try {
    sql = await connectStore(await storeUrlWithPassword(config), { max: 1 });
    const [row] = await sql<{ version: number | null }[]>`
      SELECT CASE WHEN to_regclass('dspy_schema') IS NULL THEN NULL
        ELSE (SELECT max(version) FROM dspy_schema) END AS version`;
    const ms = (performance.now() - started).toFixed(0);
    return {
      ok: true,
      detail: row.version === null
        ? `${shown}: answers (${ms} ms); empty, the first daemon creates the schema`
        : `${shown}: answers (${ms} ms), schema version ${row.version}`,
    };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    await sql?.end({ timeout: 1 }).catch(() => {});
  }
}
