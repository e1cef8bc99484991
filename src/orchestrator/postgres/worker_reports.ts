/**
 * A worker's report on an attempt another daemon leased to it: the worker failed over after that daemon died, and
 * its result would otherwise be refused and the task run again once the dead daemon's lease expired.
 *
 * @module
 */
import { backoffMs } from "../../async/mod.ts";
import type { WorkerReport } from "../orchestrator.ts";
import { buildResult } from "../result.ts";
import type { TaskEvent } from "../task.ts";
import { leaseRevision } from "../workers/registry.ts";
import type { PgTasks } from "./pg_tasks.ts";

/** What {@linkcode adoptWorkerReport} needs. */
export interface AdoptionContext {
  tasks: PgTasks;
  /** This daemon: attempts it leased itself are its registry's to judge. */
  owner: string;
  now: () => number;
  retryBaseMs?: number;
}

/**
 * Records the outcome when the attempt the lease id names is still the task's current one and another daemon holds
 * it; true when recorded. Fenced as every outcome is (the task's revision), so if the other daemon is alive after
 * all, or has been reaped and the task claimed again, exactly one outcome is kept.
 */
export async function adoptWorkerReport(context: AdoptionContext, report: WorkerReport): Promise<boolean> {
  const revision = leaseRevision(report.leaseId);
  if (revision === undefined) return false;
  const attempt = await context.tasks.runningAttempt(report.taskId);
  if (!attempt || attempt.owner === context.owner || attempt.task.revision !== revision) return false;
  const task = attempt.task;
  const nowMs = context.now();
  const latencyMs = Math.max(0, nowMs - task.startedAtMs);
  let event: TaskEvent;
  if ("resultJson" in report.outcome) {
    let output: unknown;
    try {
      output = report.outcome.resultJson === "" ? null : JSON.parse(report.outcome.resultJson);
    } catch {
      output = report.outcome.resultJson;
    }
    const execution = { executor: "worker", output, extra: { worker_id: report.workerId } };
    event = { type: "succeed", nowMs, result: buildResult(task, { latencyMs, execution }) };
  } else {
    const { error, errorType } = report.outcome;
    const message = errorType ? `${errorType}: ${error}` : error;
    const result = buildResult(task, {
      latencyMs,
      executor: "worker",
      failureMetadata: { worker_id: report.workerId },
      error: message,
    });
    const retryAtMs = nowMs + backoffMs(task.attempts, { baseMs: context.retryBaseMs ?? 1000, maxMs: 300_000 });
    event = { type: "fail", nowMs, error: message, result, timedOut: false, retryAtMs };
  }
  return (await context.tasks.apply(task, event)) !== undefined;
}
