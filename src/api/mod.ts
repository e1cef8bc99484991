/**
 * The daemon's RPC surface: `routes()` registers both services on a Connect
 * router; transports and servers (src/daemon/) are adapters around it.
 * @module
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { EnvManagerService } from "../gen/env_manager/v1/env_manager_pb.ts";
import { OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";
import { healthHandler, type HealthReporter } from "./health.ts";

export { toConnectError } from "./errors.ts";
export { errorInterceptor } from "./interceptor.ts";
export type { HealthReporter } from "./health.ts";

/** What the handlers need. Every RPC without a handler answers UNIMPLEMENTED. */
export interface ApiDeps {
  /** The daemon's readiness. */
  health: HealthReporter;
}

/** Returns a function that registers every service of the daemon on a router. */
export function routes(deps: ApiDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(OrchestratorService, { ...healthHandler(deps.health) });
    router.service(EnvManagerService, {});
  };
}
