/**
 * The CLI's client of both daemon services. Calls use the Connect protocol
 * over Deno's HTTP/2 client (see `connect_json.ts` for why not gRPC here).
 *
 * @module
 */

import { type CallOptions, ConnectJsonTransport } from "./connect_json.ts";
import { isLoopback, readToken } from "./auth.ts";
import {
  decode,
  decodeServiceStatus,
  defaults,
  type Health,
  type ImagePullProgress,
  type LogEntry,
  type ServiceStatus,
  type ServiceStatusUpdate,
  type Task,
  type TaskResult,
} from "./messages.ts";

const orchestrator = "orchestrator.v1.OrchestratorService/";
const envManager = "env_manager.v1.EnvManagerService/";

/** Calls of both daemon services (request fields as in proto/, camelCase). */
export interface DaemonClient {
  /** The `host:port` dialled. */
  readonly address: string;
  /** Health. */
  health(options?: CallOptions): Promise<Health>;
  /** GetMetrics: metric name to value. */
  getMetrics(request: { metricNames?: string[] }, options?: CallOptions): Promise<Record<string, number>>;
  /** GetServicesStatus: service name to status. */
  getServicesStatus(
    request: { serviceNames?: string[] },
    options?: CallOptions,
  ): Promise<Record<string, ServiceStatus>>;
  /** StartServices: one update per step of each service. */
  startServices(
    request: { serviceNames?: string[]; parallel?: boolean; gpu?: boolean },
    options?: CallOptions,
  ): AsyncGenerator<ServiceStatusUpdate>;
  /** StopServices. */
  stopServices(
    request: { serviceNames?: string[]; timeoutSeconds?: number; remove?: boolean; removeVolumes?: boolean },
    options?: CallOptions,
  ): Promise<{ success: boolean; serviceResults: Record<string, string> }>;
  /** StreamLogs. */
  streamLogs(
    request: { serviceName: string; follow?: boolean; tail?: number; sinceTimestamp?: number; timestamps?: boolean },
    options?: CallOptions,
  ): AsyncGenerator<LogEntry>;
  /** PullImages. */
  pullImages(request: { imageNames?: string[] }, options?: CallOptions): AsyncGenerator<ImagePullProgress>;
  /** SubmitTask. */
  submitTask(
    request: { id?: string; class?: string; payload?: Record<string, string>; priority?: number },
    options?: CallOptions,
  ): Promise<{ success: boolean; taskId: string; error: string }>;
  /** GetTaskStatus. */
  getTaskStatus(
    request: { taskId: string },
    options?: CallOptions,
  ): Promise<{ taskId: string; status: string; result: Record<string, string>; error: string; task?: Task }>;
  /** ListTasks. */
  listTasks(
    request: { states?: string[]; class?: string; pageSize?: number; pageToken?: string },
    options?: CallOptions,
  ): Promise<{ tasks: Task[]; nextPageToken: string }>;
  /** CancelTask. */
  cancelTask(
    request: { taskId: string; reason?: string },
    options?: CallOptions,
  ): Promise<{ success: boolean; status: string; error: string }>;
  /** StreamTaskResults. */
  streamTaskResults(
    request: { taskIds?: string[]; includeCompleted?: boolean },
    options?: CallOptions,
  ): AsyncGenerator<TaskResult>;
  /** BackupStore: an online copy of the task store at `path` on the daemon's machine. */
  backupStore(request: { path: string }, options?: CallOptions): Promise<{ path: string; bytes: number }>;
  /** ListWorkers: every worker known to the daemon (worker.v1). */
  listWorkers(options?: CallOptions): Promise<WorkerSummary[]>;
  /** CheckStore: the task store's integrity. */
  checkStore(options?: CallOptions): Promise<{ ok: boolean; detail: string; path: string }>;
  /** Closes the connection. */
  close(): void;
}

/** One worker as `dspy-agent workers` shows it. */
export interface WorkerSummary {
  workerId: string;
  name: string;
  /** connected or disconnected (its leases live until they expire). */
  state: string;
  address: string;
  slots: number;
  running: number;
  taskTypes: string[];
  lastHeartbeatMs: number;
}

/** Options of {@linkcode createDaemonClient}. */
export interface DaemonClientOptions {
  /** The daemon's gRPC address, `host:port`. */
  address: string;
  /** The state folder (for `auth.token`). */
  home: string;
  /** DSPY_AGENT_TOKEN, if set. */
  envToken?: string;
  /** PEM of the CA that signed the daemon's certificate, when it serves TLS. */
  caCert?: string;
  /** Aborts reading the token. */
  signal?: AbortSignal;
}

/** Creates the client; sends the bearer token when the address is not loopback. */
export async function createDaemonClient(options: DaemonClientOptions): Promise<DaemonClient> {
  const token = isLoopback(options.address)
    ? undefined
    : await readToken({ home: options.home, envToken: options.envToken, signal: options.signal });
  const t = new ConnectJsonTransport({ address: options.address, token, caCert: options.caCert });
  async function* map<T>(source: AsyncGenerator<Record<string, unknown>>, fn: (json: unknown) => T): AsyncGenerator<T> {
    for await (const json of source) yield fn(json);
  }
  return {
    address: options.address,
    health: async (o) => decode(await t.unary(orchestrator + "Health", {}, o), defaults.health),
    getMetrics: async (r, o) => {
      const json = await t.unary(orchestrator + "GetMetrics", r, o);
      return Object.fromEntries(
        Object.entries((json.metrics ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Number(v)]),
      );
    },
    getServicesStatus: async (r, o) => {
      const json = await t.unary(envManager + "GetServicesStatus", r, o);
      const services = (json.services ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(services).map(([name, s]) => [name, decodeServiceStatus(s)]));
    },
    startServices: (r, o) =>
      map(t.stream(envManager + "StartServices", r, o), (j) => decode(j, defaults.serviceStatusUpdate)),
    stopServices: async (r, o) =>
      decode(await t.unary(envManager + "StopServices", r, o), { success: false, serviceResults: {} }),
    streamLogs: (r, o) => map(t.stream(envManager + "StreamLogs", r, o), (j) => decode(j, defaults.logEntry)),
    pullImages: (r, o) => map(t.stream(envManager + "PullImages", r, o), (j) => decode(j, defaults.imagePullProgress)),
    submitTask: async (r, o) =>
      decode(await t.unary(orchestrator + "SubmitTask", r, o), { success: false, taskId: "", error: "" }),
    getTaskStatus: async (r, o) => {
      const json = await t.unary(orchestrator + "GetTaskStatus", r, o);
      const base = decode(json, { taskId: "", status: "", result: {} as Record<string, string>, error: "" });
      return { ...base, task: json.task ? decode(json.task, defaults.task) : undefined };
    },
    listTasks: async (r, o) => {
      const json = await t.unary(orchestrator + "ListTasks", r, o);
      return {
        tasks: ((json.tasks ?? []) as unknown[]).map((x) => decode(x, defaults.task)),
        nextPageToken: String(json.nextPageToken ?? ""),
      };
    },
    cancelTask: async (r, o) =>
      decode(await t.unary(orchestrator + "CancelTask", r, o), { success: false, status: "", error: "" }),
    streamTaskResults: (r, o) =>
      map(t.stream(orchestrator + "StreamTaskResults", r, o), (j) => decode(j, defaults.taskResult)),
    backupStore: async (r, o) => {
      const json = await t.unary(orchestrator + "BackupStore", r, o);
      return { path: String(json.path ?? ""), bytes: Number(json.bytes ?? 0) };
    },
    listWorkers: async (o) => {
      const json = await t.unary("worker.v1.WorkerService/ListWorkers", {}, o);
      return ((json.workers ?? []) as Record<string, unknown>[]).map((w) => ({
        workerId: String(w.workerId ?? ""),
        name: String(w.name ?? ""),
        state: String(w.state ?? ""),
        address: String(w.address ?? ""),
        slots: Number(w.slots ?? 0),
        running: Number(w.running ?? 0),
        taskTypes: (w.taskTypes ?? []) as string[],
        lastHeartbeatMs: Number(w.lastHeartbeatMs ?? 0),
      }));
    },
    checkStore: async (o) =>
      decode(await t.unary(orchestrator + "CheckStore", {}, o), { ok: false, detail: "", path: "" }),
    close: () => t.close(),
  };
}
