/**
 * The client of the dspy-agent daemon used by the CLI. It loads no npm
 * module, so CLI commands start fast (see `connect_json.ts`).
 *
 * @module
 */

export {
  createDaemonClient,
  type DaemonClient,
  type DaemonClientOptions,
  type WorkerSummary,
} from "./daemon_client.ts";
export {
  type CallOptions,
  ConnectJsonTransport,
  type ConnectJsonTransportOptions,
  DaemonCallError,
} from "./connect_json.ts";
export { isLoopback, readToken, type ReadTokenOptions } from "./auth.ts";
export type {
  Health,
  ImagePullProgress,
  LogEntry,
  ResourceUsage,
  ServiceStatus,
  ServiceStatusUpdate,
  Task,
  TaskResult,
} from "./messages.ts";
