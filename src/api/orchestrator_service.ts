/**
 * The OrchestratorService handlers (all but Health): thin adapters from the
 * wire messages (docs/compatibility.md §1) to the orchestrator's domain API. Domain errors
 * pass through unchanged; the error interceptor maps them to gRPC codes.
 *
 * @module
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type {
  OrchestratorService,
  SubmitTaskRequest,
  TaskResultSchema,
  TaskSchema,
} from "../gen/orchestrator/v1/orchestrator_pb.ts";
import {
  BoundedQueue,
  isTerminal,
  type Orchestrator,
  SubscriberTooSlowError,
  type Task,
  v1Status,
} from "../orchestrator/mod.ts";
import { requireArgument } from "./errors.ts";
import { workflowHandlers } from "./workflow_handlers.ts";

/** The most tasks one SubmitTasks call may carry. */
const MAX_BATCH = 10_000;

/** Messages a slow StreamTaskResults client may fall behind before its stream ends. */
const STREAM_BUFFER = 10_000;

type Handlers = Omit<ServiceImpl<typeof OrchestratorService>, "health" | "getConfig">;

/** The domain submission for one wire SubmitTaskRequest. */
function toSubmission(req: SubmitTaskRequest) {
  return {
    id: req.id,
    class: req.class,
    payload: req.payload,
    priority: req.priority,
    workflowId: req.workflowId,
    timeoutSeconds: req.timeoutSeconds,
    maxAttempts: req.maxAttempts,
    notBeforeMs: Number(req.notBeforeMs),
    // Labels a worker must carry travel with the task's own labels, as `worker.<key>` (the registry matches them).
    labels: {
      ...req.labels,
      ...Object.fromEntries(Object.entries(req.workerLabels).map(([k, v]) => [`worker.${k}`, v])),
    },
    atMostOnce: req.atMostOnce,
  };
}

/** Returns the OrchestratorService handlers (except Health and GetConfig) over an orchestrator. */
export function orchestratorHandlers(orchestrator: Orchestrator): Handlers {
  const { tasks, events, workflows } = orchestrator;
  return {
    async submitTask(req) {
      const { task } = await tasks.submit(toSubmission(req));
      // docs/compatibility.md: once SubmitTask returns, the task survives a kill -9.
      await orchestrator.flushed();
      return { success: true, taskId: task.id };
    },

    async backupStore(req) {
      const { path, bytes } = await orchestrator.backup(req.path);
      return { path, bytes: BigInt(bytes) };
    },

    checkStore: () => orchestrator.check(),

    async submitTasks(req) {
      requireArgument(
        req.tasks.length <= MAX_BATCH,
        `tasks: ${req.tasks.length} tasks in one call; at most ${MAX_BATCH} (split the batch)`,
      );
      // One write for the whole call; each task is answered on its own, as SubmitTask would answer it.
      const answers = await tasks.submitMany(req.tasks.map(toSubmission));
      await orchestrator.flushed();
      return {
        results: answers.map((answer) =>
          "error" in answer
            ? { success: false, taskId: answer.id, error: answer.error.message }
            : { success: true, taskId: answer.task.id, error: "" }
        ),
      };
    },

    async *streamTaskResults(req, ctx) {
      const named = req.taskIds.length > 0;
      const wanted = new Set(req.taskIds);
      const queue = new BoundedQueue<Task>(STREAM_BUFFER);
      // Listen before the snapshot so no change falls between the two;
      // revisions drop what the snapshot already carried.
      const unsubscribe = tasks.subscribe((task) => {
        if (!named || wanted.has(task.id)) queue.push(task);
      });
      const sent = new Map<string, number>();
      const open = new Set<string>();
      const emit = (task: Task) => {
        sent.set(task.id, task.revision);
        if (isTerminal(task.state)) open.delete(task.id);
        else open.add(task.id);
        return toTaskResult(task);
      };
      try {
        for await (const task of snapshot(orchestrator, req.taskIds, req.includeCompleted)) {
          yield emit(task);
        }
        // Named tasks end the stream once all of them are finished.
        if (named && [...wanted].every((id) => sent.has(id)) && open.size === 0) return;
        while (true) {
          const next = await queue.take(ctx.signal);
          if (next.kind === "aborted") return;
          if (next.kind === "overflowed") {
            throw new SubscriberTooSlowError(STREAM_BUFFER, 0, 0);
          }
          const task = next.item;
          if ((sent.get(task.id) ?? 0) >= task.revision) continue;
          yield emit(task);
          if (named && [...wanted].every((id) => sent.has(id)) && open.size === 0) return;
        }
      } finally {
        unsubscribe();
      }
    },

    async getTaskStatus(req) {
      const task = await tasks.get(req.taskId);
      return {
        taskId: task.id,
        status: v1Status(task.state),
        result: task.result,
        error: task.error,
        task: toTaskMessage(task),
      };
    },

    async cancelTask(req) {
      const { task, cancelled } = await tasks.cancel(req.taskId, req.reason);
      await orchestrator.flushed();
      return {
        success: cancelled,
        status: v1Status(task.state),
        error: cancelled ? "" : `Cannot cancel task "${task.id}": it is already ${task.state}`,
      };
    },

    async listTasks(req) {
      const page = await tasks.list({
        states: req.states,
        class: req.class,
        workflowId: req.workflowId,
        labels: req.labels,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { tasks: page.tasks.map(toTaskMessage), nextPageToken: page.nextPageToken };
    },

    getMetrics(req) {
      const all = orchestrator.metrics();
      const metrics = req.metricNames.length
        ? Object.fromEntries(req.metricNames.filter((name) => name in all).map((name) => [name, all[name]]))
        : all;
      return { metrics, timestamp: BigInt(Math.floor(Date.now() / 1000)) };
    },

    async *streamEvents(req, ctx) {
      const since = Number(req.sinceTimestamp);
      for await (
        const event of events.subscribe({
          types: req.eventTypes,
          sinceMs: since > 0 ? since * 1000 : undefined,
          afterSequence: Number(req.afterSequence) || undefined,
          signal: ctx.signal,
        })
      ) {
        yield {
          eventType: event.type,
          resourceId: event.resourceId,
          data: event.data,
          timestamp: BigInt(Math.floor(event.timestampMs / 1000)),
          sequence: BigInt(event.sequence),
          timestampMs: BigInt(event.timestampMs),
        };
      }
    },

    ...workflowHandlers(workflows),
  };
}

/**
 * The first messages of StreamTaskResults. Tasks named in the request are
 * always included, finished or not, so a client waiting for a task that
 * finished before the stream opened still sees its end; with no names,
 * finished tasks are included only when `include_completed` is set.
 */
async function* snapshot(
  orchestrator: Orchestrator,
  ids: string[],
  includeCompleted: boolean,
): AsyncGenerator<Task> {
  if (ids.length > 0) {
    for (const id of new Set(ids)) {
      try {
        yield await orchestrator.tasks.get(id);
      } catch {
        // An unknown id is streamed once it is submitted.
      }
    }
    return;
  }
  const states = includeCompleted ? [] : ["pending", "running"];
  let pageToken = "";
  do {
    const page = await orchestrator.tasks.list({ states, pageSize: 1000, pageToken });
    yield* page.tasks;
    pageToken = page.nextPageToken;
  } while (pageToken);
}

/** The v1 TaskResult of a task (docs/compatibility.md §1, §2.8). */
export function toTaskResult(task: Task): MessageInitShape<typeof TaskResultSchema> {
  const finished = task.finishedAtMs > 0;
  return {
    taskId: task.id,
    status: v1Status(task.state),
    result: task.result,
    error: task.error,
    durationMs: Number(task.result.latency_ms ?? 0),
    completedAt: int64(finished ? Math.floor(task.finishedAtMs / 1000) : 0),
    state: task.state,
    attempts: task.attempts,
  };
}

/** The whole task record (an extension message). */
export function toTaskMessage(task: Task): MessageInitShape<typeof TaskSchema> {
  return {
    id: task.id,
    class: task.class,
    status: v1Status(task.state),
    state: task.state,
    priority: task.priority,
    payload: task.rawPayload,
    result: task.result,
    error: task.error,
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    interruptions: task.interruptions,
    maxInterruptions: task.maxInterruptions,
    timeoutSeconds: task.timeoutSeconds,
    workflowId: task.workflowId,
    labels: task.labels,
    createdAtMs: int64(task.createdAtMs),
    startedAtMs: int64(task.startedAtMs),
    finishedAtMs: int64(task.finishedAtMs),
    notBeforeMs: int64(task.notBeforeMs),
    waitingReason: task.waitingReason,
  };
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A stored number as a wire int64. A value no int64 holds (written by an older version, or by hand) is clamped
 * rather than failing the read: one bad row must not make GetTaskStatus or ListTasks answer INTERNAL for everyone.
 */
export function int64(value: number): bigint {
  if (!Number.isFinite(value)) return 0n;
  const n = BigInt(Math.trunc(value));
  return n > INT64_MAX ? INT64_MAX : n < INT64_MIN ? INT64_MIN : n;
}
