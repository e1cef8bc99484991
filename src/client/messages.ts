/**
 * The daemon's messages as the CLI uses them: proto3 JSON (camelCase names)
 * decoded into plain objects with every field present, int64 as number.
 * Field names and meanings are those of proto/ (see the generated types in
 * src/gen/); only the fields the CLI reads are listed.
 *
 * @module
 */

/** HealthResponse. */
export interface Health {
  healthy: boolean;
  version: string;
  services: Record<string, string>;
  pid: number;
  uptimeSeconds: number;
  grpcAddress: string;
  httpAddress: string;
  commit: string;
  stateDir: string;
}

/** ServiceStatusUpdate (one step of StartServices). */
export interface ServiceStatusUpdate {
  serviceName: string;
  status: string;
  message: string;
  progress: number;
  phase: string;
  portMappings: string[];
  logTail: string[];
  required: boolean;
  elapsedMs: number;
}

/** ResourceUsage. */
export interface ResourceUsage {
  cpuPercent: number;
  memoryBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

/** ServiceStatus. */
export interface ServiceStatus {
  name: string;
  status: string;
  containerId: string;
  ports: number[];
  healthChecks: Record<string, string>;
  startedAt: number;
  resourceUsage: ResourceUsage;
  portMappings: string[];
  message: string;
  required: boolean;
  image: string;
  restartCount: number;
  enabled: boolean;
}

/** LogEntry. */
export interface LogEntry {
  serviceName: string;
  containerId: string;
  stream: string;
  message: string;
  timestamp: number;
  timestampNanos: string;
}

/** ImagePullProgress. */
export interface ImagePullProgress {
  imageName: string;
  status: string;
  current: number;
  total: number;
  progressPercent: number;
  message: string;
}

/** Task (the whole record). */
export interface Task {
  id: string;
  class: string;
  status: string;
  state: string;
  priority: number;
  payload: Record<string, string>;
  result: Record<string, string>;
  error: string;
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  workflowId: string;
  labels: Record<string, string>;
  createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  notBeforeMs: number;
  waitingReason: string;
}

/** TaskResult (one update of StreamTaskResults). */
export interface TaskResult {
  taskId: string;
  status: string;
  result: Record<string, string>;
  error: string;
  durationMs: number;
  completedAt: number;
  state: string;
  attempts: number;
}

/** The values a message has when the JSON omits them (proto3 defaults). */
export const defaults = {
  health: {
    healthy: false,
    version: "",
    services: {},
    pid: 0,
    uptimeSeconds: 0,
    grpcAddress: "",
    httpAddress: "",
    commit: "",
    stateDir: "",
  } satisfies Health,
  serviceStatusUpdate: {
    serviceName: "",
    status: "",
    message: "",
    progress: 0,
    phase: "",
    portMappings: [],
    logTail: [],
    required: false,
    elapsedMs: 0,
  } satisfies ServiceStatusUpdate,
  resourceUsage: { cpuPercent: 0, memoryBytes: 0, networkRxBytes: 0, networkTxBytes: 0 } satisfies ResourceUsage,
  logEntry: {
    serviceName: "",
    containerId: "",
    stream: "",
    message: "",
    timestamp: 0,
    timestampNanos: "",
  } satisfies LogEntry,
  imagePullProgress: {
    imageName: "",
    status: "",
    current: 0,
    total: 0,
    progressPercent: 0,
    message: "",
  } satisfies ImagePullProgress,
  task: {
    id: "",
    class: "",
    status: "",
    state: "",
    priority: 0,
    payload: {},
    result: {},
    error: "",
    attempts: 0,
    maxAttempts: 0,
    timeoutSeconds: 0,
    workflowId: "",
    labels: {},
    createdAtMs: 0,
    startedAtMs: 0,
    finishedAtMs: 0,
    notBeforeMs: 0,
    waitingReason: "",
  } satisfies Task,
  taskResult: {
    taskId: "",
    status: "",
    result: {},
    error: "",
    durationMs: 0,
    completedAt: 0,
    state: "",
    attempts: 0,
  } satisfies TaskResult,
};

/**
 * Decodes proto3 JSON into a message shaped like `shape`: absent fields take
 * the default, and numbers sent as strings (int64) become numbers.
 */
export function decode<T extends object>(json: unknown, shape: T): T {
  const source = (json && typeof json === "object" ? json : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(shape)) {
    const value = source[key];
    if (value === undefined || value === null) out[key] = structuredClone(fallback);
    else if (typeof fallback === "number") out[key] = Number(value);
    else if (Array.isArray(fallback) && Array.isArray(value) && typeof value[0] === "string" && key === "ports") {
      out[key] = value.map(Number);
    } else out[key] = value;
  }
  return out as T;
}

/** Decodes a ServiceStatus, including its nested ResourceUsage. */
export function decodeServiceStatus(json: unknown): ServiceStatus {
  const s = decode(json, {
    name: "",
    status: "",
    containerId: "",
    ports: [] as number[],
    healthChecks: {} as Record<string, string>,
    startedAt: 0,
    resourceUsage: defaults.resourceUsage as ResourceUsage,
    portMappings: [] as string[],
    message: "",
    required: false,
    image: "",
    restartCount: 0,
    enabled: false,
  });
  return { ...s, ports: s.ports.map(Number), resourceUsage: decode(s.resourceUsage, defaults.resourceUsage) };
}
