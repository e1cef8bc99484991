/**
 * Helpers for the orchestrator's own tests: a real orchestrator on a real
 * temp SQLite file, and waiting for a task to reach a state.
 *
 * @module
 */

import { Registry } from "prom-client";
import {
  openOrchestrator,
  type OrchestratorOptions,
  type SqliteOrchestrator,
} from "../../src/orchestrator/orchestrator.ts";
import type { Task } from "../../src/orchestrator/task.ts";
import type { TaskService } from "../../src/orchestrator/task_service.ts";

/**
 * Opens an orchestrator in a fresh temp folder, removed on dispose (or in
 * `stateDir`, which the caller owns).
 */
export async function openTestOrchestrator(
  overrides: Partial<OrchestratorOptions> = {},
): Promise<SqliteOrchestrator & { stateDir: string }> {
  const owned = overrides.stateDir === undefined;
  const stateDir = overrides.stateDir ?? await Deno.makeTempDir({ prefix: "dspy-orch-test-" });
  const orchestrator = await openOrchestrator({
    registry: new Registry(),
    hardware: { cpuCores: 2, gpus: 0 },
    slurm: false,
    retryBaseMs: 20,
    ...overrides,
    stateDir,
  });
  const dispose = orchestrator[Symbol.asyncDispose].bind(orchestrator);
  return Object.assign(orchestrator, {
    stateDir,
    async [Symbol.asyncDispose]() {
      await dispose();
      if (owned) await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  });
}

/** Resolves with the task once `done(task)` holds; rejects after `timeoutMs`. */
export function waitForTask(
  tasks: TaskService,
  id: string,
  done: (task: Task) => boolean = (task) => ["completed", "failed", "cancelled", "timed_out"].includes(task.state),
  timeoutMs = 10_000,
): Promise<Task> {
  return new Promise((resolve, reject) => {
    const finish = (task: Task) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(task);
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`task "${id}" did not reach the awaited state in ${timeoutMs} ms: ${tasks.get(id).state}`));
    }, timeoutMs);
    const unsubscribe = tasks.subscribe((task) => {
      if (task.id === id && done(task)) finish(task);
    });
    const current = tasks.get(id);
    if (done(current)) finish(current);
  });
}

/** A temp state folder removed on dispose; declare it before the orchestrators using it. */
export async function tempStateDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "dspy-orch-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
