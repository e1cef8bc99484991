/**
 * The v1 result map of a finished attempt (docs/compatibility.md §2.7): every value a
 * string; `metadata` and `data` as JSON text. Training code reads
 * `metadata.logs.stdout_tail`, `metadata.result.outputs_summary` and `data`
 * or `data_json`.
 *
 * @module
 */

import type { AttemptResult } from "./executors/types.ts";
import type { Task } from "./task.ts";

/** What {@linkcode buildResult} needs about the attempt. */
export interface AttemptReport {
  /** The attempt's wall time. */
  latencyMs: number;
  /** The executor's result when the attempt succeeded. */
  execution?: AttemptResult;
  /** The executor name when it failed. */
  executor?: string;
  /** Facts a failed attempt left (exit code, log tails). */
  failureMetadata?: Record<string, unknown>;
  /** Why it failed. */
  error?: string;
}

/** Builds the result map of an attempt of `task` (attempts already counts it). */
export function buildResult(task: Task, report: AttemptReport): Record<string, string> {
  const execution = report.execution;
  const failure = report.failureMetadata ?? {};
  const failureLogs = (failure.logs ?? {}) as Record<string, unknown>;
  const output = execution?.output ?? null;
  const metadata: Record<string, unknown> = {
    ...failure,
    ...execution?.extra,
    executor: execution?.executor ?? report.executor ?? "none",
    attempts: task.attempts,
    exit_code: execution?.exitCode ?? failure.exit_code ?? null,
    logs: {
      stdout_tail: execution?.stdoutTail ?? failureLogs.stdout_tail ?? "",
      stderr_tail: execution?.stderrTail ?? failureLogs.stderr_tail ?? "",
    },
    result: { outputs_summary: summarize(output) },
  };
  if (report.error) metadata.error = report.error;
  const data = JSON.stringify(output);
  const result: Record<string, string> = {
    latency_ms: report.latencyMs.toFixed(3),
    class: task.class,
    metadata: JSON.stringify(metadata),
    data,
    data_json: data,
  };
  if (task.workflowId) result.workflow_id = task.workflowId;
  return result;
}

/** A short human summary of an output: its keys, or its JSON cut to 200 characters. */
function summarize(output: unknown): string {
  if (output === null || output === undefined) return "";
  if (typeof output === "object" && !Array.isArray(output)) {
    const keys = Object.keys(output);
    return keys.length ? `keys: ${keys.slice(0, 20).join(", ")}` : "{}";
  }
  const text = JSON.stringify(output);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
