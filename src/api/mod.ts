/**
 * The daemon's RPC surface: `routes()` registers both services on a Connect
 * router; transports and servers (src/daemon/) are adapters around it.
 * @module
 */
import type { ConnectRouter } from "@connectrpc/connect";
import type { LoadedConfig } from "../config/mod.ts";
import type { Engine, EnvManager, Executor } from "../env/mod.ts";
import { EnvManagerService } from "../gen/env_manager/v1/env_manager_pb.ts";
import { OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";
import type { Orchestrator } from "../orchestrator/mod.ts";
import { configHandler } from "./config_handler.ts";
import { healthHandler, type HealthReporter } from "./health.ts";
import { envManagerHandlers } from "./env_manager_service.ts";
import { envOpsDepsFor, envOpsHandlers } from "./env_ops_handlers.ts";
import { orchestratorHandlers } from "./orchestrator_service.ts";
import { WorkerService } from "../gen/worker/v1/worker_pb.ts";
import { workerHandlers } from "./worker_service.ts";

export { toConnectError } from "./errors.ts";
export { errorInterceptor, stoppingError } from "./interceptor.ts";
export { PEER_HEADER } from "./worker_service.ts";
export type { HealthReporter } from "./health.ts";
export { handleLegacyRequest, type LegacyRequest, type LegacyResponse } from "./legacy_http.ts";

/** What the handlers need. */
export interface ApiDeps {
  /** The daemon's readiness. */
  health: HealthReporter;
  /** Tasks, workflows, events and metrics. */
  orchestrator: Orchestrator;
  /** The service stack. */
  env: EnvManager;
  /** The Docker engine (pulls, logs). */
  engine: Engine;
  /** Runs ExecuteTask's `payload.execution`. */
  executor: Executor;
  /** The configuration the daemon started with and where each setting came from (GetConfig). */
  config: LoadedConfig;
}

/** Returns a function that registers every service of the daemon on a router. */
import { registerStandardServices } from "./standard_services.ts";

/** Registers every service of the daemon on a router. */
export function routes(deps: ApiDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(OrchestratorService, {
      ...orchestratorHandlers(deps.orchestrator),
      ...healthHandler(deps.health),
      ...configHandler(deps.config),
    });
    const ops = envOpsHandlers(envOpsDepsFor({
      env: deps.env,
      engine: deps.engine,
      executor: deps.executor,
      usage: (workloadClass) => deps.orchestrator.usage(workloadClass),
    }));
    router.service(EnvManagerService, envManagerHandlers(deps.env, ops));
    router.service(WorkerService, workerHandlers(deps.orchestrator));
    registerStandardServices(router, [OrchestratorService, EnvManagerService, WorkerService], deps.health);
  };
}
