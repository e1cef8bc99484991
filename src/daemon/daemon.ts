/**
 * The composition root: `startDaemon(config)` builds the registry, engine, store, environment manager and both
 * servers, and disposes them in reverse.
 *
 * @module
 */
import { type ApiDeps, handleLegacyRequest, type HealthReporter, routes, stoppingError } from "../api/mod.ts";
import { type Config, ConfigError, ConfigErrors, type ConfigSource } from "../config/mod.ts";
import {
  assertProjectOwned,
  createEngine,
  createEnvManager,
  createEnvMetrics,
  createExecutor,
  detectGpus,
  type Engine,
  loadStackOwner,
  ownerLabels,
  ProjectOwnedElsewhereError,
  removeTaskContainers,
  resolveRegistry,
} from "../env/mod.ts";
import type { Logger } from "../log/mod.ts";
import { createRegistry } from "../metrics/mod.ts";
import { openOrchestrator, openPgOrchestrator, type Orchestrator } from "../orchestrator/mod.ts";
import { COMMIT, VERSION } from "../version.ts";
import { isLoopback, loadOrCreateToken, randomHex } from "./auth.ts";
import { createEdgePolicy } from "./edge.ts";
import { startGrpcServer, type TlsMaterial } from "./grpc/grpc_server.ts";
import { startHttpServer } from "./http_server.ts";
import { type ListeningServer, splitAddress } from "./listen.ts";
import { storeUrlWithPassword } from "./store_tools.ts";

/** A running daemon; disposing it shuts it down gracefully. */
export interface Daemon extends AsyncDisposable {
  /** The bound gRPC address. */
  readonly grpcAddress: string;
  /** The bound HTTP address. */
  readonly httpAddress: string;
  /** The daemon's readiness. */
  readonly health: HealthReporter;
}

/** Options of {@linkcode startDaemon}. */
export interface StartDaemonOptions {
  logger: Logger;
  /** How long open requests and streams get to finish at shutdown. @default {5000} */
  graceMs?: number;
  /** Where each setting came from (`loadConfig`'s provenance), for GetConfig. @default {{}} (each reads as default) */
  provenance?: Record<string, ConfigSource>;
}

/**
 * The composition root: builds every part of the daemon from the
 * configuration — metrics registry, store, Docker client, domain services —
 * and starts both servers. Nothing else in src/ creates these.
 */
export async function startDaemon(
  config: Config,
  options: StartDaemonOptions,
): Promise<Daemon> {
  const { logger } = options;
  const graceMs = options.graceMs ?? 5000;
  const startedAt = Date.now();
  const shutdown = new AbortController();
  const stack = new AsyncDisposableStack();
  // Each part says when it has stopped, so a stop that hangs names the part it hangs in.
  const stopped = async (part: string, stop: () => unknown) => {
    await stop();
    logger.info("stopped", { part });
  };
  const components: Record<string, string> = {
    grpc: "starting",
    http: "starting",
  };
  let grpc: ListeningServer | undefined;
  let http: ListeningServer | undefined;

  const health: HealthReporter = {
    components: () => ({ ...components }),
    // Docker is reported but not required: tasks that need no container run without it.
    healthy: () => ["grpc", "http", "store", "scheduler"].every((c) => components[c] === "ready"),
    info: () => ({
      version: VERSION,
      commit: COMMIT,
      pid: Deno.pid,
      startedAt,
      grpcAddress: grpc?.address ?? config.grpcAddr,
      httpAddress: http?.address ?? config.httpAddr,
      stateDir: config.home,
    }),
  };

  try {
    await Deno.mkdir(config.home, { recursive: true });
    const { tls } = await checkStartable(config);
    const registry = createRegistry({ version: VERSION, startedAt });
    const token = await loadOrCreateToken(config.home);
    const envMetrics = createEnvMetrics(registry);
    const engine = createEngine({
      dockerHost: config.dockerHost,
      observe: (operation, status, seconds) => envMetrics.observeEngineCall(operation, status, seconds),
    });
    watchEngine(engine, components, shutdown.signal, logger);
    // This state folder's own project and labels: another folder's stack is never touched.
    const owner = await loadStackOwner(config.home, config.project || undefined);
    const stackConfig: Config = { ...config, project: owner.project };
    await assertProjectOwned(engine, owner, AbortSignal.timeout(10_000)).catch((error) => {
      if (error instanceof ProjectOwnedElsewhereError) throw error;
      logger.warn("Cannot check who owns the project's Docker resources", { project: owner.project, error });
    });
    // A daemon killed mid-task leaves its task containers running; the retried attempt must not
    // run beside them (at-least-once, never twice at the same time).
    await removeTaskContainers({ engine, project: owner.project, signal: AbortSignal.timeout(30_000) })
      .catch((error) => logger.warn("Cannot remove leftover task containers", { error }));
    const executor = createExecutor({
      engine,
      project: owner.project,
      labels: ownerLabels(owner),
      signal: shutdown.signal,
    });
    const gpus = await detectGpus({ signal: AbortSignal.timeout(10_000) }).catch(() => []);

    const common = {
      registry,
      executor,
      runnerUrl: config.runnerUrl,
      hardware: { cpuCores: navigator.hardwareConcurrency, gpus: gpus.length },
      classes: config.tasks.classes,
      taskRetentionMs: (config.tasks.retentionDays ?? 7) * 24 * 3600 * 1000,
      payloadLimits: {
        bytes: config.tasks.maxPayloadBytes ?? 1024 * 1024,
        keys: config.tasks.maxPayloadKeys ?? 1000,
      },
      logger,
    };
    // A PostgreSQL store is shared with other daemons; this folder's id names the attempts this daemon runs.
    const orchestrator: Orchestrator = config.storeUrl
      ? await openPgOrchestrator({
        ...common,
        url: await storeUrlWithPassword(config),
        owner: owner.id,
        stateDir: config.home,
        leaseMs: (config.tasks.workerLeaseSeconds ?? 10) * 1000,
      })
      : await openOrchestrator({
        ...common,
        stateDir: config.home,
        workerLeaseMs: (config.tasks.workerLeaseSeconds ?? 10) * 1000,
      });
    stack.defer(() => stopped("orchestrator", () => orchestrator[Symbol.asyncDispose]()));
    components.store = components.scheduler = "ready";

    const env = createEnvManager({
      config: stackConfig,
      extraLabels: ownerLabels(owner),
      engine,
      registry,
      signal: shutdown.signal,
      onEvent: (event) => orchestrator.events.publish(event),
    });
    stack.defer(() => stopped("environment manager", () => env[Symbol.asyncDispose]()));
    components.env_manager = "ready";

    const deps: ApiDeps = {
      health,
      orchestrator,
      env,
      engine,
      executor,
      config: { config, provenance: options.provenance ?? {} },
    };
    const serviceRoutes = routes(deps);
    // A fresh secret per daemon run: pages read it from the daemon's own origin only (docs/security.md).
    const pageToken = randomHex(32);
    const edgeOptions = { ...config.http, pageToken };

    grpc = await startGrpcServer({
      address: config.grpcAddr,
      routes: serviceRoutes,
      shutdownSignal: shutdown.signal,
      token,
      edge: createEdgePolicy({ ...edgeOptions, checkHost: false }),
      tls,
      logger,
    });
    stack.defer(() => stopped("gRPC server", () => grpc!.close(graceMs)));
    components.grpc = "ready";
    http = await startHttpServer({
      address: config.httpAddr,
      routes: serviceRoutes,
      shutdownSignal: shutdown.signal,
      token,
      registry,
      healthy: health.healthy,
      extraRoutes: [(req) => handleLegacyRequest(req, orchestrator)],
      edge: createEdgePolicy({ ...edgeOptions, allowedHosts: [...config.http.allowedHosts, ...ownHostNames(config)] }),
      tls,
      logger,
    });
    stack.defer(() => stopped("HTTP server", () => http!.close(graceMs)));
    components.http = "ready";
  } catch (err) {
    shutdown.abort();
    await stack.disposeAsync();
    throw err;
  }
  logger.info("daemon ready", {
    grpc: grpc.address,
    http: http.address,
    pid: Deno.pid,
    version: VERSION,
  });

  return {
    grpcAddress: grpc.address,
    httpAddress: http.address,
    health,
    async [Symbol.asyncDispose]() {
      logger.info("daemon stopping");
      components.grpc = components.http = "stopping";
      // Open streams end with UNAVAILABLE so clients know to reconnect.
      shutdown.abort(stoppingError());
      await stack.disposeAsync();
      logger.info("daemon stopped");
    },
  };
}

/** Keeps `components.docker` true to the engine: pinged now and every few seconds. */
function watchEngine(engine: Engine, components: Record<string, string>, signal: AbortSignal, logger: Logger): void {
  const check = async () => {
    const before = components.docker;
    try {
      await engine.ping({ signal: AbortSignal.any([signal, AbortSignal.timeout(3000)]) });
      components.docker = "ready";
    } catch (err) {
      if (signal.aborted) return;
      components.docker = `unavailable: ${(err as Error).message}`;
    }
    if (before !== components.docker) logger.info("docker engine", { state: components.docker });
  };
  void check();
  const timer = setInterval(check, 5000);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}

/** Names the daemon is known by without configuration: its listen host (when a name) and the machine's host name. */
function ownHostNames(config: Config): string[] {
  const names = [splitAddress(config.httpAddr).host];
  try {
    names.push(Deno.hostname());
  } catch { /* no sys permission for the host name: configured names only */ }
  return names.filter((n) => n !== "" && n !== "0.0.0.0" && n !== "::");
}

/**
 * Every check of the configuration that `serve` makes before it starts anything: the listen addresses and TLS, and
 * the service registry (unknown or cyclic dependencies, duplicate or malformed ports and volumes). `config validate`
 * runs exactly these, so it passes only what `start` accepts. Throws {@linkcode ConfigErrors} listing every problem.
 */
export async function checkStartable(config: Config): Promise<{ tls?: TlsMaterial }> {
  const errors: ConfigError[] = [];
  let tls: TlsMaterial | undefined;
  try {
    tls = await loadTls(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(error);
  }
  try {
    resolveRegistry(config);
  } catch (error) {
    if (error instanceof ConfigErrors) errors.push(...error.errors);
    else if (error instanceof ConfigError) errors.push(error);
    else throw error;
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return { tls };
}

/**
 * The certificate and key the listeners serve, read from `[tls] cert` and `key`; undefined without them. A listen
 * address off loopback needs them, unless `[tls] insecure = true` says that sending the token and every payload in
 * clear is intended (docs/security.md).
 */
async function loadTls(config: Config): Promise<TlsMaterial | undefined> {
  const { cert, key, insecure } = config.tls;
  if (!cert || !key) {
    for (const [name, address] of [["grpc_addr", config.grpcAddr], ["http_addr", config.httpAddr]]) {
      if (!insecure && !isLoopbackHost(splitAddress(address).host)) {
        throw new ConfigError(
          `${address} is not a loopback address, so its clients' token and payloads would cross the network in ` +
            `clear: set [tls] cert and key, or [tls] insecure = true to accept that`,
          { file: config.configFile, key: name },
        );
      }
    }
    return undefined;
  }
  const read = async (path: string, what: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new ConfigError(`cannot read the TLS ${what} "${path}": ${(error as Error).message}`, {
        file: config.configFile,
        key: `tls.${what}`,
      }, { cause: error });
    }
  };
  return { cert: await read(cert, "cert"), key: await read(key, "key") };
}

function isLoopbackHost(host: string): boolean {
  return host === "localhost" || isLoopback(host);
}
