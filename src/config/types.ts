/** The effective configuration of dspy-agent, after defaults, file, environment and flags. */
export interface Config {
  /** The state folder: `DSPY_AGENT_HOME`, else `~/.dspy-agent`. */
  home: string;
  /** The config file read: `--config`, `DSPY_AGENT_CONFIG`, else `<home>/config.toml`. */
  configFile: string;
  /** The user's workspace folder (legacy key `workspace`). */
  workspace: string;
  /** Where the daemon serves gRPC (HTTP/2, plain text). @default {"127.0.0.1:50052"} */
  grpcAddr: string;
  /** Where the daemon serves HTTP/1.1 (Connect, /health, /metrics). @default {"127.0.0.1:9097"} */
  httpAddr: string;
  /** The Docker engine: `unix:///path` or `tcp://host:port`. @default {"unix:///var/run/docker.sock"} */
  dockerHost: string;
  /** Whether services and tasks that need a GPU are enabled. @default {false} */
  gpu: boolean;
  /** Docker engine operations at once while starting services. @default {5} */
  maxConcurrent: number;
  /** Seconds a service may take to become healthy. @default {60} */
  healthTimeoutSeconds: number;
  /** An external task runner (docs/compatibility.md §4), if any. */
  runnerUrl?: string;
  /** The shared task store, `postgres://user@host:port/database`; unset: SQLite in the state folder. */
  storeUrl?: string;
  /** A file holding the store's password (kept out of the URL, the config file and the process list). */
  storePasswordFile?: string;
  /** Log level: error, warn, info, debug or trace. @default {"info"} */
  logLevel: string;
  /** The name that labels and prefixes every Docker resource; empty: `dspy-agent-<8 hex>` from the state folder's id. @default {""} */
  project: string;
  /** Service overrides and definitions by name. */
  services: Record<string, ServiceConfig>;
  /** Legacy `[ports]`: service name to host port of its first published port. */
  ports: Record<string, number>;
  /** Task settings. */
  tasks: TasksConfig;
  /** Browser rules of the HTTP address (`docs/security.md`). */
  http: HttpConfig;
  /** TLS for both listen addresses (`docs/security.md`). */
  tls: TlsConfig;
}

/** `[http]` settings: which names and pages may reach the daemon. */
export interface HttpConfig {
  /** Host names, besides loopback names and IP addresses, that requests may name in `Host`. @default {[]} */
  allowedHosts: string[];
  /** Page origins (`scheme://host[:port]`) allowed to call the API from another site (CORS). @default {[]} */
  corsOrigins: string[];
}

/** `[tls]` settings. */
export interface TlsConfig {
  /** PEM certificate (chain) file; with `key`, both listen addresses serve TLS. */
  cert?: string;
  /** PEM private key file. */
  key?: string;
  /** PEM file of the CA that clients (the CLI) trust for the daemon's certificate; with TLS set, clients use it. */
  ca?: string;
  /** Allows a non-loopback listen address without TLS, sending the token and payloads in clear. @default {false} */
  insecure: boolean;
}

/** The restart policy of a service. */
export type RestartPolicy = "no" | "on-failure" | "always";

/** How a service's health is probed. */
export type HealthKind = "http" | "tcp" | "redis" | "exec" | "docker" | "none";

/** One `[services.NAME]` table: every field overrides a built-in or defines a new service. */
export interface ServiceConfig {
  image?: string;
  command?: string[];
  env?: Record<string, string>;
  /** `HOST:CONTAINER`, `ADDR:HOST:CONTAINER` or `CONTAINER`, optionally `/tcp` or `/udp`. */
  ports?: string[];
  /** `NAME:/path[:ro]` (a named volume) or `/abs/host/path:/path[:ro]`. */
  volumes?: string[];
  dependsOn?: string[];
  enabled?: boolean;
  required?: boolean;
  restart?: RestartPolicy;
  gpu?: boolean;
  /** The container's memory limit in MiB (swap included); past it the kernel kills it (OOM) and it is restarted. */
  memoryMb?: number;
  health?: HealthConfig;
}

/** A `[services.NAME.health]` table. */
export interface HealthConfig {
  kind?: HealthKind;
  /** The container port probed (http, tcp, redis). */
  port?: number;
  /** The HTTP path probed. */
  path?: string;
  /** The command run in the container (exec). */
  command?: string[];
  timeoutSeconds?: number;
}

/** `[tasks]` settings. */
export interface TasksConfig {
  /** Per task class: `[tasks.classes.NAME]`. */
  classes: Record<string, TaskClassConfig>;
  /** Finished tasks (outside workflows) are deleted this many days after they ended; 0 keeps them. @default {7} */
  retentionDays?: number;
  /** The most bytes of keys and values a task's payload may carry. @default {1048576} */
  maxPayloadBytes?: number;
  /** The most keys a task's payload may carry. @default {1000} */
  maxPayloadKeys?: number;
  /** How long a Python worker's lease on a task lives without a heartbeat before the task is requeued. @default {10} */
  workerLeaseSeconds?: number;
}

/** One `[tasks.classes.NAME]` table. */
export interface TaskClassConfig {
  /** Tasks of the class running at once (the adaptive limit's ceiling). */
  concurrency?: number;
  /** Default time limit of one attempt. */
  timeoutSeconds?: number;
  /** Interruptions (the daemon stopped during an attempt) a task survives before it fails; 0 = at-most-once. */
  maxInterruptions?: number;
}

/** Where a configuration value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";
