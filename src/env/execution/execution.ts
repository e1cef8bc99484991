/**
 * Task execution (docs/compatibility.md §4): a command in a one-off container or as a
 * local process, with output captured, a time limit, and cleanup.
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import { projectSelector } from "../labels.ts";
import { runInContainer } from "./execution_container.ts";
import { runLocalProcess } from "./execution_process.ts";
import type { ExecutionSpec } from "./execution_spec.ts";

export {
  DEFAULT_TIMEOUT_SECONDS,
  type ExecutionMount,
  type ExecutionResources,
  type ExecutionSpec,
  parseExecutionSpec,
} from "./execution_spec.ts";
export { RESULT_MARKER } from "./execution_output.ts";

/** What an execution produced. */
export interface ExecutionOutcome {
  /** The command's exit code (137 when killed, -1 when it could not be started). */
  exitCode: number;
  /** The last ~4 KiB / 50 lines of stdout. */
  stdoutTail: string;
  /** The last ~4 KiB / 50 lines of stderr. */
  stderrTail: string;
  /** The JSON after the last `__DSPY_RESULT__:` stdout line, when there was one. */
  output?: unknown;
  /** Why the result line could not be parsed, when it could not. */
  outputError?: string;
  /** The one-off container's id (already removed), for container executions. */
  containerId?: string;
  /** Wall time from the start of the execution to its end, in milliseconds. */
  latencyMs: number;
  /** True when the time limit killed the command. */
  timedOut: boolean;
}

/** Options of {@linkcode Executor.execute}. */
export interface ExecuteOptions {
  /** The task this execution belongs to (labels the container). */
  taskId: string;
  /** Cancels the execution: the command is killed, the container removed, and the call rejects. */
  signal?: AbortSignal;
}

/** Runs execution specs. */
export interface Executor {
  /** Runs one spec to completion (or its time limit) and returns what it produced. */
  execute(spec: ExecutionSpec, options: ExecuteOptions): Promise<ExecutionOutcome>;
}

/** Options for {@linkcode createExecutor}. */
export interface ExecutorOptions {
  /** The Docker engine that runs container executions. */
  engine: Engine;
  /** The project (namespace) task containers are labelled with. */
  project: string;
  /** The daemon's lifetime: aborting it cancels every running execution. */
  signal?: AbortSignal;
  /** Extra labels on every task container (tests add `dspy-agent.test`). @default {} */
  labels?: Record<string, string>;
  /** Pull an image the engine does not have before running it. @default true */
  pull?: boolean;
  /** The network task containers join, e.g. the stack's, to reach services by name. @default the engine's bridge */
  network?: string;
}

/** Creates an {@linkcode Executor} running containers on `engine` and local processes on this host. */
export function createExecutor(options: ExecutorOptions): Executor {
  return {
    execute(spec, { taskId, signal }) {
      const signals = [options.signal, signal].filter((s): s is AbortSignal => s !== undefined);
      const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined;
      combined?.throwIfAborted();
      if (spec.image === undefined) return runLocalProcess(spec, { signal: combined });
      return runInContainer(options.engine, spec, {
        image: spec.image,
        taskId,
        project: options.project,
        labels: options.labels ?? {},
        pull: options.pull ?? true,
        network: options.network,
        signal: combined,
      });
    },
  };
}

/** Options for {@linkcode removeTaskContainers}. */
export interface RemoveTaskContainersOptions {
  /** The Docker engine. */
  engine: Engine;
  /** The project whose task containers are removed. */
  project: string;
  /** Aborts the cleanup. */
  signal?: AbortSignal;
}

/**
 * Removes every task container of the project (running or not) and returns how many there were.
 *
 * Call it when the daemon starts, before tasks resume: a daemon that was killed mid-run leaves its
 * one-off containers behind, and a retried task must not run twice at once. Only one daemon serves a
 * project, so every task container found then is an orphan.
 */
export async function removeTaskContainers(options: RemoveTaskContainersOptions): Promise<number> {
  const { engine, project, signal } = options;
  const containers = await engine.listContainers({ selector: projectSelector(project, { kind: "task" }), signal });
  for (const container of containers) {
    await engine.removeContainer(container.Id, { force: true, removeVolumes: true, signal });
  }
  return containers.length;
}
