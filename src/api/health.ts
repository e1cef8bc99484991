/**
 * The Health RPC: the daemon's readiness, version and each component's state.
 *
 * @module
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";

/** What the daemon knows about its own readiness, for the Health RPC. */
export interface HealthReporter {
  /** Component name (grpc, http, store, docker, …) to its state (`ready`, or why not). */
  components(): Record<string, string>;
  /** True only when every component the daemon needs to serve is ready. */
  healthy(): boolean;
  /** Facts about the process. */
  info(): {
    version: string;
    commit: string;
    pid: number;
    startedAt: number;
    grpcAddress: string;
    httpAddress: string;
    stateDir: string;
  };
}

/** The Health handler (docs/compatibility.md §2.3: true only when the daemon is really ready). */
export function healthHandler(
  reporter: HealthReporter,
): Pick<ServiceImpl<typeof OrchestratorService>, "health"> {
  return {
    health() {
      const info = reporter.info();
      return {
        healthy: reporter.healthy(),
        version: info.version,
        services: reporter.components(),
        pid: BigInt(info.pid),
        uptimeSeconds: (Date.now() - info.startedAt) / 1000,
        grpcAddress: info.grpcAddress,
        httpAddress: info.httpAddress,
        commit: info.commit,
        stateDir: info.stateDir,
      };
    },
  };
}
