/**
 * Attempts that run on a worker: the task is leased to a worker through the registry, and its outcome becomes the
 * attempt's result.
 *
 * @module
 */
import type { AttemptRunner } from "../executors/types.ts";
import type { WorkerRegistry } from "./registry.ts";

/** The attempt runner for tasks that workers handle. */
export function workerAttempts(workers: WorkerRegistry): AttemptRunner {
  return async (task, context) => {
    const { output, workerId } = await workers.assign(task, context.signal);
    return { executor: "worker", output, extra: { worker_id: workerId } };
  };
}
