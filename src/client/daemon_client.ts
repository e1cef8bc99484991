/**
 * Connect clients for the daemon's two gRPC services over one plain-text
 * HTTP/2 connection (the same wire the Python clients use, CONTRACT §2.1).
 *
 * @module
 */

import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";
import { EnvManagerService } from "../gen/env_manager/v1/env_manager_pb.ts";
import { isLoopback, readToken } from "./auth.ts";

/** Clients of both daemon services. */
export interface DaemonClient {
  /** The `host:port` dialled. */
  readonly address: string;
  /** The orchestrator service (tasks, workflows, metrics, health). */
  readonly orchestrator: Client<typeof OrchestratorService>;
  /** The environment manager service (service containers). */
  readonly envManager: Client<typeof EnvManagerService>;
}

/** Options of {@linkcode createDaemonClient}. */
export interface DaemonClientOptions {
  /** The daemon's gRPC address, `host:port`. */
  address: string;
  /** The state folder (for `auth.token`). */
  home: string;
  /** DSPY_AGENT_TOKEN, if set. */
  envToken?: string;
  /** Aborts reading the token. */
  signal?: AbortSignal;
}

/** Creates clients for the daemon at an address; sends a bearer token when the address is not loopback. */
export async function createDaemonClient(options: DaemonClientOptions): Promise<DaemonClient> {
  const interceptors: Interceptor[] = [];
  if (!isLoopback(options.address)) {
    const token = await readToken({ home: options.home, envToken: options.envToken, signal: options.signal });
    if (token) {
      interceptors.push((next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      });
    }
  }
  const transport = createGrpcTransport({ baseUrl: `http://${options.address}`, interceptors });
  return {
    address: options.address,
    orchestrator: createClient(OrchestratorService, transport),
    envManager: createClient(EnvManagerService, transport),
  };
}
