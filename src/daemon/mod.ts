/**
 * The daemon: one process serving both APIs. `startDaemon` is the
 * composition root; `runDaemon` is `dspy-agent serve`.
 * @module
 */
export { checkStartable, type Daemon, startDaemon, type StartDaemonOptions } from "./daemon.ts";
export { runDaemon, type RunDaemonOptions } from "./run.ts";
export { AddressInUseError, DaemonAlreadyRunningError } from "./errors.ts";
export { DAEMON_FILE, type DaemonFile } from "./lock.ts";
export { TOKEN_FILE } from "./auth.ts";
export { backupStoreFile, checkPostgresStore, checkStoreFile, migrateStoreFile } from "./store_tools.ts";
