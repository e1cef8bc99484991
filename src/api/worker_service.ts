/**
 * The WorkerService handlers (`proto/worker/v1/worker.proto`): thin adapters from the wire messages to the
 * orchestrator's worker registry.
 *
 * @module
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { WorkerService } from "../gen/worker/v1/worker_pb.ts";
import type { Orchestrator, WorkerPush, WorkerReport } from "../orchestrator/mod.ts";
import { requireArgument } from "./errors.ts";
import { Code, ConnectError } from "@connectrpc/connect";

const TYPE_NAME = /^[A-Za-z0-9._:/-]{1,128}$/;

/** Returns the WorkerService handlers over an orchestrator. */
export function workerHandlers(orchestrator: Orchestrator): ServiceImpl<typeof WorkerService> {
  const { workers } = orchestrator;
  const unknown = (workerId: string) =>
    new ConnectError(`unknown worker "${workerId.slice(0, 80)}": register again`, Code.NotFound);
  // A report the registry refused may be on an attempt another daemon of a shared store leased to this worker before
  // it died (the worker failed over here): the store records it if that attempt is still the task's current one.
  const adopted = async (
    req: { workerId: string; taskId: string; leaseId: string },
    outcome: WorkerReport["outcome"],
  ): Promise<boolean> => {
    if (!orchestrator.adoptWorkerReport || !workers.list().some((w) => w.workerId === req.workerId)) return false;
    return await orchestrator.adoptWorkerReport({ ...req, outcome });
  };
  return {
    registerWorker(req, ctx: HandlerContext) {
      requireArgument(req.name.length >= 1 && req.name.length <= 128, "name: give 1 to 128 characters");
      requireArgument(req.taskTypes.length >= 1 && req.taskTypes.length <= 1000, "task_types: give 1 to 1,000");
      requireArgument(
        req.taskTypes.every((t) => TYPE_NAME.test(t)),
        "task_types: each 1-128 characters of A-Z a-z 0-9 . _ : / -",
      );
      requireArgument(req.slots >= 1 && req.slots <= 10_000, `slots ${req.slots} is out of range: 1 to 10,000`);
      requireArgument(Object.keys(req.labels).length <= 64, "labels: at most 64");
      const workerId = workers.register({
        name: req.name,
        taskTypes: req.taskTypes,
        slots: req.slots,
        labels: req.labels,
        workerId: req.workerId || undefined,
        address: peerAddress(ctx),
        clientVersion: req.clientVersion.slice(0, 200),
      });
      return { workerId, heartbeatIntervalMs: workers.heartbeatMs, leaseMs: workers.leaseMs };
    },

    async *listenForTasks(req, ctx) {
      if (!workers.list().some((w) => w.workerId === req.workerId)) throw unknown(req.workerId);
      for await (const push of workers.listen(req.workerId, ctx.signal)) yield toMessage(push);
    },

    workerHeartbeat(req) {
      const lost = workers.heartbeat(req.workerId, req.leaseIds);
      if (!lost) throw unknown(req.workerId);
      // A lease another daemon of a shared store issued (the worker failed over) is not ours to call lost: its report
      // decides (see adopted).
      return { lostLeaseIds: orchestrator.adoptWorkerReport ? lost.filter((id) => workers.issued(id)) : lost };
    },

    reportTaskProgress(req) {
      // Progress is recorded as an event; a lease that is gone tells the worker to stop.
      const holds = workers.holds(req.workerId, req.taskId, req.leaseId);
      if (holds && (req.message || req.logLines.length > 0 || req.progress >= 0)) {
        orchestrator.events.publish({
          type: "task_progress",
          resourceId: req.taskId,
          data: {
            progress: req.progress,
            message: req.message.slice(0, 1000),
            log_lines: req.logLines.slice(-100).map((l) => l.slice(0, 1000)),
          },
        });
      }
      return { stop: !holds && (!orchestrator.adoptWorkerReport || workers.issued(req.leaseId)) };
    },

    async completeWorkerTask(req) {
      const accepted = workers.complete(req.workerId, req.taskId, req.leaseId, req.resultJson) ||
        await adopted(req, { resultJson: req.resultJson });
      return { accepted, reason: accepted ? "" : "the lease is no longer current; nothing was recorded" };
    },

    async failWorkerTask(req) {
      const error = req.error.slice(0, 10_000);
      const accepted = workers.fail(req.workerId, req.taskId, req.leaseId, error, req.errorType) ||
        await adopted(req, { error, errorType: req.errorType.slice(0, 200) });
      return { accepted, reason: accepted ? "" : "the lease is no longer current; nothing was recorded" };
    },

    releaseWorkerTask(req) {
      const accepted = workers.release(req.workerId, req.taskId, req.leaseId, req.reason.slice(0, 1000));
      return { accepted, reason: accepted ? "" : "the lease is no longer current; nothing was recorded" };
    },

    deregisterWorker(req) {
      workers.deregister(req.workerId);
      return {};
    },

    listWorkers() {
      return {
        workers: workers.list().map((w) => ({
          ...w,
          registeredAtMs: BigInt(w.registeredAtMs),
          lastHeartbeatMs: BigInt(w.lastHeartbeatMs),
        })),
      };
    },
  };
}

/**
 * The request header that carries the caller's IP address to handlers. The servers set it on every request after
 * dropping any value the client sent, so a handler can trust it.
 */
export const PEER_HEADER = "x-dspy-agent-peer";

function toMessage(push: WorkerPush) {
  if (push.kind === "cancel") {
    return { kind: { case: "cancel" as const, value: push } };
  }
  return { kind: { case: "assignment" as const, value: { ...push, deadlineMs: BigInt(push.deadlineMs) } } };
}

/**
 * Where the worker connected from: the peer's IP as the server saw it ({@linkcode PEER_HEADER}), with the host name
 * the worker gives (`x-dspy-agent-host`) beside it.
 */
function peerAddress(ctx: HandlerContext): string {
  const peer = ctx.requestHeader.get(PEER_HEADER) ?? "";
  const host = (ctx.requestHeader.get("x-dspy-agent-host") ?? "").slice(0, 120);
  return host && host !== peer ? `${peer} (${host})`.trim() : peer;
}
