/**
 * Choosing how a task runs, in a fixed order: Slurm for class gpu_slurm; a
 * built-in `payload.task_type`; `payload.execution` through the environment
 * manager; the external runner when ENV_RUNNER_URL is set. A task none of
 * them can take fails at once with a message listing the ways.
 *
 * @module
 */

import type { Task } from "../task.ts";
import { BUILTIN_TASK_TYPES, isBuiltinTask, runBuiltin } from "./builtin.ts";
import { specAttempts } from "./execution.ts";
import { runnerExecutor } from "./runner.ts";
import type { ExecutionSpec, Executor } from "../../env/mod.ts";
import { slurmExecutor } from "./slurm.ts";
import type { AttemptRunner } from "./types.ts";
import type { WorkerRegistry } from "../workers/registry.ts";
import { workerAttempts } from "../workers/attempts.ts";

/** Options of {@linkcode createExecutorSelector}. */
export interface ExecutorSelectorOptions {
  /** The environment manager's executor; without it `payload.execution` cannot run. */
  executor?: Executor;
  /** Validates `payload.execution` (the Slurm executor reads the same spec). */
  parseExecution: (value: unknown) => ExecutionSpec;
  /** ENV_RUNNER_URL. */
  runnerUrl?: string;
  /** Connected workers: a task whose type one of them handles runs there. */
  workers?: WorkerRegistry;
  /** Whether sbatch, squeue and sacct are on PATH. */
  slurm: boolean;
  /** How often the Slurm executor polls sacct. @default {2000} */
  slurmPollMs?: number;
  /** Where Slurm job scripts and logs go (must be visible to compute nodes). */
  slurmWorkDir?: string;
  /** Added to the environment of every Slurm command (SLURM_CONF of a test cluster). @default {{}} */
  slurmEnv?: Record<string, string>;
}

/** Picks the executor of a task, or says why there is none. */
export type ExecutorSelector = (
  task: Task,
) => { executor: AttemptRunner; name: string; noneNow?: string } | { reason: string };

/** Returns the executor choice for this host's setup. */
export function createExecutorSelector(options: ExecutorSelectorOptions): ExecutorSelector {
  const execution = options.executor && specAttempts({ executor: options.executor, parse: options.parseExecution });
  const runner = options.runnerUrl ? runnerExecutor(options.runnerUrl) : undefined;
  const onWorkers = options.workers && workerAttempts(options.workers);
  const slurm = options.slurm
    ? slurmExecutor({
      pollMs: options.slurmPollMs,
      workDir: options.slurmWorkDir,
      env: options.slurmEnv,
      parse: options.parseExecution,
    })
    : undefined;
  return (task) => {
    if (task.class === "gpu_slurm" && slurm) return { executor: slurm, name: "slurm" };
    if (isBuiltinTask(task)) return { executor: runBuiltin, name: "builtin" };
    if (onWorkers && options.workers!.handles(task)) return { executor: onWorkers, name: "worker" };
    if (task.payload.execution !== undefined && execution) {
      return { executor: execution, name: "execution" };
    }
    if (runner) return { executor: runner, name: "runner" };
    // A task of a type no built-in handles was accepted because a worker handled it then (submit refuses it
    // otherwise): after a daemon restart, or while its worker reconnects, it waits for one instead of failing.
    if (onWorkers && typeof task.payload.task_type === "string") {
      return { executor: onWorkers, name: "worker", noneNow: noExecutorReason(task, options) };
    }
    return { reason: noExecutorReason(task, options) };
  };
}

function noExecutorReason(task: Task, options: ExecutorSelectorOptions): string {
  const ways = [
    `set payload.task_type to one of ${BUILTIN_TASK_TYPES.join(", ")}`,
    options.executor
      ? "give payload.execution {command, image?} (docs/compatibility.md §4)"
      : "give payload.execution {command, image?} (needs the environment manager, which is not available)",
    "set ENV_RUNNER_URL to forward tasks to a runner",
    "use class gpu_slurm on a host with Slurm",
  ];
  const detail = task.payload.task_type !== undefined
    ? `task_type "${task.payload.task_type}" is not built in`
    : "no executor can take it";
  return `Cannot run task "${task.id}": ${detail}; ways to run a task: ${ways.join("; ")}`;
}
