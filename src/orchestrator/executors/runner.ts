/**
 * Forwarding to an external task runner (docs/compatibility.md §4): `POST
 * $ENV_RUNNER_URL/tasks/execute` with `{id, class, payload}`; the runner
 * answers 200 `{id, latency_ms, metadata}` or an error status with `{error}`.
 *
 * @module
 */

import { TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import type { AttemptContext, AttemptResult, AttemptRunner } from "./types.ts";

/** Returns an executor that forwards each task to the runner at `runnerUrl`. */
export function runnerExecutor(runnerUrl: string): AttemptRunner {
  const url = `${runnerUrl.replace(/\/+$/, "")}/tasks/execute`;
  return async (task: Task, context: AttemptContext): Promise<AttemptResult> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: task.id, class: task.class, payload: task.payload }),
        signal: context.signal,
      });
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      throw new TaskExecutionError(
        task.id,
        "runner",
        `cannot reach the runner at ${url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 500) };
    }
    if (!response.ok) {
      throw new TaskExecutionError(
        task.id,
        "runner",
        `the runner answered ${response.status}: ${String(body.error ?? "no error given")}`,
        { metadata: { runner_status: response.status } },
      );
    }
    const metadata = (typeof body.metadata === "object" && body.metadata)
      ? body.metadata as Record<string, unknown>
      : {};
    const logs = (metadata.logs ?? {}) as Record<string, unknown>;
    return {
      executor: "runner",
      output: body.output ?? body.data ?? metadata.output ?? metadata.result ?? null,
      stdoutTail: typeof logs.stdout_tail === "string" ? logs.stdout_tail : undefined,
      stderrTail: typeof logs.stderr_tail === "string" ? logs.stderr_tail : undefined,
      exitCode: typeof metadata.exit_code === "number" ? metadata.exit_code : undefined,
      extra: { runner_metadata: metadata, runner_latency_ms: body.latency_ms },
    };
  };
}
