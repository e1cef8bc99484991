/**
 * Clients of the dspy-agent daemon, for the CLI and tests.
 *
 * @module
 */

export { createDaemonClient, type DaemonClient, type DaemonClientOptions } from "./daemon_client.ts";
export { isLoopback, readToken, type ReadTokenOptions } from "./auth.ts";
export { Code, ConnectError } from "@connectrpc/connect";
export type { HealthResponse, Task, TaskResult } from "../gen/orchestrator/v1/orchestrator_pb.ts";
export type {
  ImagePullProgress,
  LogEntry,
  ServiceStatus,
  ServiceStatusUpdate,
} from "../gen/env_manager/v1/env_manager_pb.ts";
