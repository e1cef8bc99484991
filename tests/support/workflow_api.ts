/**
 * The workflow RPCs over a real orchestrator (real SQLite store, real scheduler and built-in executors) through the
 * Connect handlers on an in-memory router transport with the daemon's error interceptor.
 * @module
 */
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { errorInterceptor } from "../../src/api/mod.ts";
import { workflowHandlers } from "../../src/api/workflow_handlers.ts";
import { OrchestratorService } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { openOrchestrator } from "../../src/orchestrator/mod.ts";

/** Opens an orchestrator in a temporary state folder (named with `prefix`); disposing removes both. */
export async function startWorkflowApi(prefix: string) {
  const home = await Deno.makeTempDir({ prefix });
  const orchestrator = await openOrchestrator({
    stateDir: home,
    registry: new Registry(),
    hardware: { cpuCores: 2, gpus: 0 },
    slurm: false,
    retryBaseMs: 20,
  });
  const transport = createRouterTransport(
    (router) => router.service(OrchestratorService, workflowHandlers(orchestrator.workflows)),
    { router: { interceptors: [errorInterceptor(silentLogger)] } },
  );
  return {
    orchestrator,
    client: createClient(OrchestratorService, transport),
    async [Symbol.asyncDispose]() {
      await orchestrator[Symbol.asyncDispose]();
      await Deno.remove(home, { recursive: true });
    },
  };
}

/** A client of {@linkcode startWorkflowApi}. */
export type WorkflowClient = Awaited<ReturnType<typeof startWorkflowApi>>["client"];
