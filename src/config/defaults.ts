/**
 * The built-in configuration (every setting's default) and the commented config.toml that `config init` writes.
 *
 * @module
 */
import type { Config } from "./types.ts";

/** The default gRPC address (docs/compatibility.md §2.1). */
export const DEFAULT_GRPC_ADDR = "127.0.0.1:50052";
/** The default HTTP address (docs/compatibility.md §3). */
export const DEFAULT_HTTP_ADDR = "127.0.0.1:9097";
/** The default Docker engine. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** Options of {@linkcode defaultConfig}. */
export interface DefaultConfigOptions {
  /** The state folder. */
  home: string;
  /** The config file. @default {"<home>/config.toml"} */
  configFile?: string;
}

/** Returns the built-in configuration for a state folder, before any file, environment or flag. */
export function defaultConfig(options: DefaultConfigOptions): Config {
  return {
    home: options.home,
    configFile: options.configFile ?? joinPath(options.home, "config.toml"),
    workspace: ".",
    grpcAddr: DEFAULT_GRPC_ADDR,
    httpAddr: DEFAULT_HTTP_ADDR,
    dockerHost: DEFAULT_DOCKER_HOST,
    gpu: false,
    maxConcurrent: 5,
    healthTimeoutSeconds: 60,
    runnerUrl: undefined,
    logLevel: "info",
    // Empty: the daemon derives one from the state folder's id (dspy-agent-<8 hex>), so that two state folders
    // never share a stack.
    project: "",
    services: {},
    ports: {},
    tasks: { classes: {} },
    http: { allowedHosts: [], corsOrigins: [] },
    tls: { insecure: false },
  };
}

/** The text `dspy-agent config init` writes: every setting, commented, at its default. */
export function defaultConfigToml(): string {
  return `# dspy-agent configuration. Every key is optional; the values shown are the defaults.
# Environment variables override this file; command-line flags override both.

# workspace = "."
# grpc_addr = "${DEFAULT_GRPC_ADDR}"        # ORCHESTRATOR_GRPC_ADDR (legacy key: orchestrator_addr)
# http_addr = "${DEFAULT_HTTP_ADDR}"         # ORCHESTRATOR_HTTP_ADDR
# docker_host = "${DEFAULT_DOCKER_HOST}"     # DOCKER_HOST
# gpu = false
# max_concurrent = 5                      # ENV_MANAGER_MAX_CONCURRENT
# health_timeout_seconds = 60             # ENV_MANAGER_HEALTH_TIMEOUT
# runner_url = "http://127.0.0.1:8080"    # ENV_RUNNER_URL
# store = "postgres://dspy@db.example:5432/dspy"   # DSPY_AGENT_STORE_URL; unset: SQLite in this folder
# store_password_file = "/etc/dspy-agent/db-password"  # DSPY_AGENT_STORE_PASSWORD_FILE
# log_level = "info"                      # RUST_LOG
# project = "dspy-agent-<id>"            # default: derived from this state folder's id (<home>/instance.id)

[services]
# redis = true                            # enable or disable a built-in service

# [services.myservice]
# image = "example/router:1"
# command = ["serve", "--port", "9000"]
# env = { MODE = "router" }
# ports = ["19000:9000"]                  # host ports bind to 127.0.0.1 unless an address is given
# volumes = ["router_cache:/cache"]
# depends_on = ["redis"]
# required = true
# restart = "on-failure"                  # no | on-failure | always
# [services.myservice.health]
# kind = "http"                           # http | tcp | redis | exec | docker | none
# port = 9000
# path = "/health"
# timeout_seconds = 60

[ports]
# redis = 6379

# [http]
# allowed_hosts = ["devbox.example"]      # names besides localhost and IP addresses that may appear in Host
# cors_origins = ["http://localhost:5173"] # pages of other sites allowed to call the API

# [tls]                                   # serve both addresses with TLS (required off loopback)
# cert = "/etc/dspy-agent/cert.pem"
# key = "/etc/dspy-agent/key.pem"
# ca = "/etc/dspy-agent/ca.pem"           # the CA clients (this machine's CLI) trust for the daemon's certificate
# insecure = false                        # true: allow a non-loopback address without TLS

# [tasks]
# retention_days = 7    # finished tasks outside workflows are deleted after this; 0 keeps them
# max_payload_bytes = 1048576   # the most bytes of keys and values one task's payload may carry
# max_payload_keys = 1000       # the most keys one task's payload may carry
# worker_lease_seconds = 10     # a Python worker silent this long loses its tasks (requeued, attempts unspent)

# [tasks.classes.cpu_short]
# concurrency = 4
# timeout_seconds = 1800
`;
}

/** Joins path parts with the platform's separator. */
export function joinPath(...parts: string[]): string {
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return parts.join(sep).replaceAll(/[\\/]+/g, sep);
}
