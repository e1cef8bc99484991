/**
 * `dspy-agent tasks submit|get|list|cancel|watch`: the orchestrator's tasks
 * from the command line.
 *
 * @module
 */

import type { DaemonClient, Task, TaskResult } from "../../client/mod.ts";
import { type CommandContext, configOf } from "../context.ts";
import { requireDaemon } from "../daemon_connection.ts";
import { CommandFailedError, ExitCode, UsageError } from "../errors.ts";
import { formatDuration } from "../output/format.ts";
import { renderTable } from "../output/table.ts";

/** Runs `tasks SUBCOMMAND`. */
export async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.positionals;
  const known = ["submit", "get", "list", "cancel", "watch"];
  if (!sub || !known.includes(sub)) {
    throw new UsageError(sub ? `Unknown subcommand "tasks ${sub}"` : `Missing subcommand: ${known.join(", ")}`, {
      command: "tasks",
    });
  }
  const { client } = await requireDaemon(ctx, await configOf(ctx));
  switch (sub) {
    case "submit":
      return await submit(ctx, client);
    case "get":
      return await get(ctx, client, one(args, "get"));
    case "list":
      return await list(ctx, client);
    case "cancel":
      return await cancel(ctx, client, one(args, "cancel"));
    default:
      return await watch(ctx, client, args, undefined);
  }
}

function one(args: string[], sub: string): string {
  if (args.length !== 1) throw new UsageError(`Usage: dspy-agent tasks ${sub} ID`, { command: "tasks" });
  return args[0];
}

async function submit(ctx: CommandContext, client: DaemonClient): Promise<number> {
  const payload: Record<string, string> = {};
  for (const entry of (ctx.values.payload ?? []) as string[]) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --payload "${entry}": expected KEY=VALUE`, { command: "tasks" });
    payload[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const priority = ctx.values.priority === undefined ? 0 : Number(ctx.values.priority);
  if (!Number.isInteger(priority)) {
    throw new UsageError(`Invalid --priority "${ctx.values.priority}"`, { command: "tasks" });
  }
  const response = await client.submitTask(
    {
      id: (ctx.values.id as string | undefined) ?? "",
      class: (ctx.values.class as string | undefined) ?? "",
      payload,
      priority,
    },
    { signal: ctx.signal },
  );
  if (!response.success) throw new CommandFailedError(`Cannot submit the task: ${response.error}`, ExitCode.failure);
  if (!ctx.values.wait) {
    if (ctx.globals.json) ctx.output.writeJson({ taskId: response.taskId });
    else ctx.output.line(response.taskId);
    return ExitCode.ok;
  }
  if (!ctx.globals.json) ctx.output.error(`Submitted ${response.taskId}; waiting…`);
  return await watch(ctx, client, [response.taskId], response.taskId);
}

async function get(ctx: CommandContext, client: DaemonClient, id: string): Promise<number> {
  const r = await client.getTaskStatus({ taskId: id }, { signal: ctx.signal });
  if (ctx.globals.json) {
    ctx.output.writeJson(r.task ?? { taskId: r.taskId, status: r.status, result: r.result, error: r.error });
    return ExitCode.ok;
  }
  const t = r.task;
  const rows: [string, string][] = [["id", r.taskId], ["status", t?.state || r.status]];
  if (t) {
    rows.push(["class", t.class], ["priority", String(t.priority)], [
      "attempts",
      `${t.attempts}/${t.maxAttempts || 1}`,
    ]);
    if (t.workflowId) rows.push(["workflow", t.workflowId]);
    rows.push(["created", new Date(Number(t.createdAtMs)).toISOString()]);
    if (t.finishedAtMs > 0) rows.push(["took", formatDuration(t.finishedAtMs - t.startedAtMs)]);
    if (t.waitingReason) rows.push(["waiting", t.waitingReason]);
  }
  if (r.error) rows.push(["error", r.error]);
  for (const [k, v] of Object.entries(r.result)) rows.push([`result.${k}`, v]);
  for (const [k, v] of rows) ctx.output.line(`${k.padEnd(12)} ${v}`);
  return ExitCode.ok;
}

async function list(ctx: CommandContext, client: DaemonClient): Promise<number> {
  const limit = ctx.values.limit === undefined ? 50 : Number(ctx.values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`Invalid --limit "${ctx.values.limit}"`, { command: "tasks" });
  }
  const r = await client.listTasks(
    {
      states: (ctx.values.state ?? []) as string[],
      class: (ctx.values.class as string | undefined) ?? "",
      pageSize: Math.min(limit, 1000),
    },
    { signal: ctx.signal },
  );
  const tasks = r.tasks.slice(0, limit);
  if (ctx.globals.json) {
    ctx.output.writeJson(tasks.map(taskJson));
    return ExitCode.ok;
  }
  if (tasks.length === 0) {
    ctx.output.line("No tasks.");
    return ExitCode.ok;
  }
  const now = Date.now();
  const c = ctx.output.colors;
  const colour = (s: string) =>
    s === "completed" ? c.green(s) : s === "running" ? c.yellow(s) : s === "pending" ? s : c.red(s);
  const rows = tasks.map((
    t,
  ) => [
    t.id,
    t.class,
    colour(t.state || t.status),
    String(t.priority),
    String(t.attempts),
    formatDuration(now - Number(t.createdAtMs)),
  ]);
  ctx.output.line(renderTable(["ID", "CLASS", "STATE", "PRIORITY", "ATTEMPTS", "AGE"], rows).join("\n"));
  return ExitCode.ok;
}

async function cancel(ctx: CommandContext, client: DaemonClient, id: string): Promise<number> {
  const r = await client.cancelTask({
    taskId: id,
    reason: (ctx.values.reason as string | undefined) ?? "cancelled from the CLI",
  }, {
    signal: ctx.signal,
  });
  if (ctx.globals.json) ctx.output.writeJson({ success: r.success, status: r.status, error: r.error });
  if (!r.success) throw new CommandFailedError(`Cannot cancel task "${id}": ${r.error || r.status}`, ExitCode.failure);
  if (!ctx.globals.json) ctx.output.line(`${ctx.output.colors.green("✓")} ${id} cancelled`);
  return ExitCode.ok;
}

/** Prints each result as it changes; with ids, ends when all are finished; `exitFor` sets the exit code by that task. */
async function watch(
  ctx: CommandContext,
  client: DaemonClient,
  ids: string[],
  exitFor: string | undefined,
): Promise<number> {
  const open = new Set(ids);
  const seen = new Map<string, string>();
  let exitCode: number = ExitCode.ok;
  try {
    for await (
      const r of client.streamTaskResults({ taskIds: ids, includeCompleted: true }, { signal: ctx.signal })
    ) {
      const key = `${r.status}/${r.state}/${r.attempts}`;
      if (seen.get(r.taskId) === key) continue; // the stream may resend snapshots (docs/compatibility.md §2.8)
      seen.set(r.taskId, key);
      print(ctx, r);
      if (r.status === "completed" || r.status === "failed") {
        if (r.taskId === exitFor && r.status === "failed") exitCode = ExitCode.failure;
        open.delete(r.taskId);
        if (ids.length > 0 && open.size === 0) break;
      }
    }
  } catch (error) {
    if (ctx.signal.aborted && exitFor === undefined) return ExitCode.ok; // Ctrl-C ends a watch
    throw error;
  }
  return exitCode;
}

function print(ctx: CommandContext, r: TaskResult): void {
  if (ctx.globals.json) {
    ctx.output.line(
      JSON.stringify({
        taskId: r.taskId,
        status: r.status,
        state: r.state,
        error: r.error,
        result: r.result,
        durationMs: r.durationMs,
      }),
    );
    return;
  }
  const c = ctx.output.colors;
  const state = r.state || r.status;
  const mark = r.status === "completed" ? c.green("✓") : r.status === "failed" ? c.red("✗") : "…";
  const took = r.durationMs > 0 ? ` (${formatDuration(r.durationMs)})` : "";
  ctx.output.line(`${mark} ${r.taskId}  ${state}${took}${r.error ? `: ${r.error}` : ""}`);
  // The task's output (docs/compatibility.md §2.7: JSON in result.data).
  if (r.status === "completed" && r.result.data) ctx.output.line(`  ${c.dim("data:")} ${r.result.data}`);
}

function taskJson(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    class: t.class,
    status: t.status,
    state: t.state,
    priority: t.priority,
    attempts: t.attempts,
    error: t.error,
    createdAtMs: Number(t.createdAtMs),
    finishedAtMs: Number(t.finishedAtMs),
  };
}
