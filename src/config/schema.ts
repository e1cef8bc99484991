/**
 * The schema of config.toml: each key's reader, its type and range, collecting every problem with its key path.
 *
 * @module
 */
import { addr, bool, int, oneOf, STORE_URL, str, strList, strMap, table } from "./_values.ts";
import type {
  Config,
  HealthConfig,
  HealthKind,
  HttpConfig,
  RestartPolicy,
  ServiceConfig,
  TaskClassConfig,
  TasksConfig,
  TlsConfig,
} from "./types.ts";

/** The part of {@linkcode Config} a config file may set, as read from it. */
export type FileSettings = Partial<Omit<Config, "home" | "configFile">>;

/** A problem found while reading a parsed file, before it is located by line. */
export interface SchemaProblem {
  /** The key path. */
  path: string[];
  /** What is wrong. */
  detail: string;
}

const TOP_LEVEL: Record<
  string,
  (
    v: unknown,
    p: string[],
    out: FileSettings,
    problems: SchemaProblem[],
  ) => void
> = {
  workspace: (v, p, o, e) => str(v, p, e, (s) => (o.workspace = s)),
  grpc_addr: (v, p, o, e) => addr(v, p, e, (s) => (o.grpcAddr = s)),
  // Legacy key of the Go CLI: the address the orchestrator listens on and clients dial.
  orchestrator_addr: (v, p, o, e) => addr(v, p, e, (s) => (o.grpcAddr = s)),
  // Legacy key of the Rust environment manager: both services now share grpc_addr; accepted and ignored.
  env_manager_addr: (v, p, _o, e) => addr(v, p, e, () => {}),
  http_addr: (v, p, o, e) => addr(v, p, e, (s) => (o.httpAddr = s)),
  docker_host: (v, p, o, e) => str(v, p, e, (s) => (o.dockerHost = s)),
  gpu: (v, p, o, e) => bool(v, p, e, (b) => (o.gpu = b)),
  max_concurrent: (v, p, o, e) => int(v, p, e, 1, 64, (n) => (o.maxConcurrent = n)),
  health_timeout_seconds: (v, p, o, e) => int(v, p, e, 1, 3600, (n) => (o.healthTimeoutSeconds = n)),
  runner_url: (v, p, o, e) => str(v, p, e, (s) => (o.runnerUrl = s)),
  store: (v, p, o, e) => str(v, p, e, (s) => (o.storeUrl = s), STORE_URL),
  store_password_file: (v, p, o, e) => str(v, p, e, (s) => (o.storePasswordFile = s)),
  log_level: (v, p, o, e) => oneOf(v, p, e, LOG_LEVELS, (s) => (o.logLevel = s)),
  project: (v, p, o, e) => str(v, p, e, (s) => (o.project = s), /^[a-z0-9][a-z0-9_.-]{0,62}$/),
  services: (v, p, o, e) => table(v, p, e, (t) => (o.services = readServices(t, p, e))),
  ports: (v, p, o, e) => table(v, p, e, (t) => (o.ports = readPorts(t, p, e))),
  tasks: (v, p, o, e) => table(v, p, e, (t) => (o.tasks = readTasks(t, p, e))),
  http: (v, p, o, e) => table(v, p, e, (t) => (o.http = readHttp(t, p, e))),
  tls: (v, p, o, e) => table(v, p, e, (t) => (o.tls = readTls(t, p, e))),
};

/** Log levels accepted in `log_level` and `RUST_LOG`. */
export const LOG_LEVELS = ["error", "warn", "info", "debug", "trace"] as const;

/** Reads a parsed TOML document into settings, collecting every problem. */
export function readSettings(
  doc: Record<string, unknown>,
): { settings: FileSettings; problems: SchemaProblem[] } {
  const settings: FileSettings = {};
  const problems: SchemaProblem[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const read = TOP_LEVEL[key];
    if (!read) {
      problems.push({
        path: [key],
        detail: `unknown key; known keys: ${Object.keys(TOP_LEVEL).join(", ")}`,
      });
      continue;
    }
    read(value, [key], settings, problems);
  }
  return { settings, problems };
}

function readServices(
  t: Record<string, unknown>,
  p: string[],
  e: SchemaProblem[],
): Record<string, ServiceConfig> {
  const out: Record<string, ServiceConfig> = {};
  for (const [name, value] of Object.entries(t)) {
    const path = [...p, name];
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) {
      e.push({
        path,
        detail: "a service name takes lowercase letters, digits, '-' and '_'",
      });
      continue;
    }
    if (typeof value === "boolean") out[name] = { enabled: value };
    else {table(
        value,
        path,
        e,
        (s) => (out[name] = readService(s, path, e)),
        "a boolean or a table",
      );}
  }
  return out;
}

function readService(
  t: Record<string, unknown>,
  p: string[],
  e: SchemaProblem[],
): ServiceConfig {
  const s: ServiceConfig = {};
  for (const [key, v] of Object.entries(t)) {
    const path = [...p, key];
    switch (key) {
      case "image":
        str(v, path, e, (x) => (s.image = x));
        break;
      case "command":
        strList(v, path, e, (x) => (s.command = x));
        break;
      case "env":
        strMap(v, path, e, (x) => (s.env = x));
        break;
      case "ports":
        strList(v, path, e, (x) => (s.ports = x), PORT_RE, 'like "19000:9000"');
        break;
      case "volumes":
        strList(
          v,
          path,
          e,
          (x) => (s.volumes = x),
          VOLUME_RE,
          'like "name:/path" or "/host:/path:ro"',
        );
        break;
      case "depends_on":
        strList(v, path, e, (x) => (s.dependsOn = x));
        break;
      case "enabled":
        bool(v, path, e, (x) => (s.enabled = x));
        break;
      case "required":
        bool(v, path, e, (x) => (s.required = x));
        break;
      case "gpu":
        bool(v, path, e, (x) => (s.gpu = x));
        break;
      case "memory_mb":
        int(v, path, e, 6, 1_048_576, (x) => (s.memoryMb = x));
        break;
      case "restart":
        oneOf(
          v,
          path,
          e,
          ["no", "on-failure", "always"],
          (x) => (s.restart = x as RestartPolicy),
        );
        break;
      case "health":
        table(v, path, e, (h) => (s.health = readHealth(h, path, e)));
        break;
      default:
        e.push({
          path,
          detail:
            "unknown key; known keys: image, command, env, ports, volumes, depends_on, enabled, required, gpu, memory_mb, restart, health",
        });
    }
  }
  return s;
}

const PORT_RE = /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d{1,5}:)?\d{1,5}(\/(tcp|udp))?$/;
const VOLUME_RE = /^[^:]+:\/[^:]*(:(ro|rw))?$/;

function readHealth(
  t: Record<string, unknown>,
  p: string[],
  e: SchemaProblem[],
): HealthConfig {
  const h: HealthConfig = {};
  for (const [key, v] of Object.entries(t)) {
    const path = [...p, key];
    switch (key) {
      case "kind":
        oneOf(
          v,
          path,
          e,
          ["http", "tcp", "redis", "exec", "docker", "none"],
          (x) => (h.kind = x as HealthKind),
        );
        break;
      case "port":
        int(v, path, e, 1, 65535, (x) => (h.port = x));
        break;
      case "path":
        str(v, path, e, (x) => (h.path = x), /^\//);
        break;
      case "command":
        strList(v, path, e, (x) => (h.command = x));
        break;
      case "timeout_seconds":
        int(v, path, e, 1, 3600, (x) => (h.timeoutSeconds = x));
        break;
      default:
        e.push({
          path,
          detail: "unknown key; known keys: kind, port, path, command, timeout_seconds",
        });
    }
  }
  return h;
}

function readPorts(
  t: Record<string, unknown>,
  p: string[],
  e: SchemaProblem[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(t)) {
    int(v, [...p, name], e, 1, 65535, (n) => (out[name] = n));
  }
  return out;
}

function readTasks(
  t: Record<string, unknown>,
  p: string[],
  e: SchemaProblem[],
): TasksConfig {
  const out: Record<string, TaskClassConfig> = {};
  const tasks: TasksConfig = { classes: out };
  for (const [key, v] of Object.entries(t)) {
    if (key === "retention_days") {
      int(v, [...p, key], e, 0, 36_500, (n) => (tasks.retentionDays = n));
      continue;
    }
    // Bounded: a larger request message is refused at the socket (4 MiB) anyway.
    if (key === "max_payload_bytes") {
      int(v, [...p, key], e, 1024, 4 * 1024 * 1024, (n) => (tasks.maxPayloadBytes = n));
      continue;
    }
    if (key === "max_payload_keys") {
      int(v, [...p, key], e, 1, 100_000, (n) => (tasks.maxPayloadKeys = n));
      continue;
    }
    // At least 2 s: workers heartbeat every lease/3 seconds and one late heartbeat must not cost a lease.
    if (key === "worker_lease_seconds") {
      int(v, [...p, key], e, 2, 3600, (n) => (tasks.workerLeaseSeconds = n));
      continue;
    }
    if (key !== "classes") {
      e.push({
        path: [...p, key],
        detail:
          "unknown key; known keys: classes, retention_days, max_payload_bytes, max_payload_keys, worker_lease_seconds",
      });
      continue;
    }
    table(v, [...p, key], e, (classes) => {
      for (const [name, c] of Object.entries(classes)) {
        const cp = [...p, key, name];
        table(c, cp, e, (ct) => {
          const cls: TaskClassConfig = {};
          for (const [k, cv] of Object.entries(ct)) {
            if (k === "concurrency") {
              int(cv, [...cp, k], e, 1, 10_000, (n) => (cls.concurrency = n));
            } else if (k === "timeout_seconds") {
              int(
                cv,
                [...cp, k],
                e,
                1,
                604_800,
                (n) => (cls.timeoutSeconds = n),
              );
            } else if (k === "max_interruptions") {
              int(cv, [...cp, k], e, 0, 100, (n) => (cls.maxInterruptions = n));
            } else {e.push({
                path: [...cp, k],
                detail: "unknown key; known keys: concurrency, timeout_seconds, max_interruptions",
              });}
          }
          out[name] = cls;
        });
      }
    });
  }
  return tasks;
}

function readHttp(t: Record<string, unknown>, p: string[], e: SchemaProblem[]): HttpConfig {
  const out: HttpConfig = { allowedHosts: [], corsOrigins: [] };
  for (const [key, v] of Object.entries(t)) {
    if (key === "allowed_hosts") {
      strList(
        v,
        [...p, key],
        e,
        (l) => (out.allowedHosts = l),
        /^[A-Za-z0-9.-]{1,253}$/,
        "as a host name without port",
      );
    } else if (key === "cors_origins") {
      strList(v, [...p, key], e, (l) => (out.corsOrigins = l), /^https?:\/\/[^/\s]+$/, 'as "http://host:port"');
    } else e.push({ path: [...p, key], detail: "unknown key; known keys: allowed_hosts, cors_origins" });
  }
  return out;
}

function readTls(t: Record<string, unknown>, p: string[], e: SchemaProblem[]): TlsConfig {
  const out: TlsConfig = { insecure: false };
  for (const [key, v] of Object.entries(t)) {
    if (key === "cert") str(v, [...p, key], e, (s) => (out.cert = s));
    else if (key === "key") str(v, [...p, key], e, (s) => (out.key = s));
    else if (key === "ca") str(v, [...p, key], e, (s) => (out.ca = s));
    else if (key === "insecure") bool(v, [...p, key], e, (b) => (out.insecure = b));
    else e.push({ path: [...p, key], detail: "unknown key; known keys: cert, key, ca, insecure" });
  }
  if ((out.cert === undefined) !== (out.key === undefined)) {
    e.push({ path: p, detail: "cert and key go together: set both, or neither" });
  }
  return out;
}

export { parseAddr } from "./_values.ts";
