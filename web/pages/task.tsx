/// <reference lib="dom" />
/**
 * One task: its state, payload, result and error, what it printed, its attempts, and the timeline of its events, live;
 * cancel and resubmit.
 *
 * @module
 */
import { useState } from "preact/hooks";
import type { Task } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { errorText, orchestrator, time } from "../api.ts";
import { useStream } from "../live.ts";

/** The page of task `id`. */
export function TaskPage({ id }: { id: string }) {
  const [task, setTask] = useState<Task | undefined>(undefined);
  const [events, setEvents] = useState<{ type: string; at: number }[]>([]);
  const [message, setMessage] = useState("");

  const streamError = useStream(
    async function* (signal) {
      const status = await orchestrator.getTaskStatus({ taskId: id }, { signal });
      setTask(status.task);
      for await (const _ of orchestrator.streamTaskResults({ taskIds: [id] }, { signal })) {
        yield (await orchestrator.getTaskStatus({ taskId: id }, { signal })).task;
      }
      // A finished task's stream ends: wait here until the page goes away.
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
    },
    (t) => t && setTask(t),
    [id],
  );
  // The task's events since it was created (the log holds every task's: start there, not at the beginning).
  const since = task ? BigInt(Math.floor(Number(task.createdAtMs) / 1000)) : undefined;
  useStream(
    async function* (signal) {
      if (since === undefined) return;
      setEvents([]);
      yield* orchestrator.streamEvents({ sinceTimestamp: since }, { signal });
    },
    (e) => {
      if (e.resourceId === id) setEvents((now) => [...now, { type: e.eventType, at: Number(e.timestampMs) }]);
    },
    [id, since],
  );

  const cancel = async () => {
    try {
      const answer = await orchestrator.cancelTask({ taskId: id, reason: "cancelled from the dashboard" });
      setMessage(answer.success ? "Cancelled." : answer.error);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const resubmit = async () => {
    if (!task) return;
    try {
      const answer = await orchestrator.submitTask({
        class: task.class,
        payload: task.payload,
        labels: task.labels,
        priority: task.priority,
      });
      location.hash = `#/tasks/${encodeURIComponent(answer.taskId)}`;
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  if (!task) {
    return (
      <section>
        <h1>Task {id}</h1>
        <p class="error">{streamError || "Loading…"}</p>
      </section>
    );
  }
  const finished = ["completed", "failed", "cancelled", "timed_out"].includes(task.state);
  return (
    <section>
      <h1>
        Task <code>{task.id}</code>
      </h1>
      <p>
        <span class={`state ${task.state}`} data-state={task.state} id="task-state">{task.state}</span> class{" "}
        {task.class}, attempt {task.attempts} of {task.maxAttempts}
        {task.interruptions > 0 && `, ${task.interruptions} interruption(s)`}
      </p>
      <div class="actions">
        <button type="button" onClick={cancel} disabled={finished}>Cancel</button>
        <button type="button" onClick={resubmit}>Resubmit</button>
        {message && <span role="status">{message}</span>}
      </div>
      {task.labels.run_id && (
        <p>
          Step <code>{task.labels.step_id}</code> of workflow run{" "}
          <a href={`#/workflows/${encodeURIComponent(task.labels.run_id)}`}>{task.labels.run_id}</a>
        </p>
      )}
      {task.error && <p class="error">{task.error}</p>}
      {task.waitingReason && <p class="muted">{task.waitingReason}</p>}
      <h2>Payload</h2>
      <pre tabIndex={0}>{JSON.stringify(task.payload, null, 2)}</pre>
      <h2>Result</h2>
      <pre tabIndex={0}>{JSON.stringify(task.result, null, 2)}</pre>
      <Output metadata={task.result.metadata} />
      <h2>Timeline</h2>
      <ol class="timeline">
        <li>created {time(task.createdAtMs)}</li>
        {task.startedAtMs > 0n && <li>last attempt started {time(task.startedAtMs)}</li>}
        {task.finishedAtMs > 0n && <li>finished {time(task.finishedAtMs)}</li>}
        {events.map((e, i) => <li key={i}>{e.type} {time(e.at)}</li>)}
      </ol>
    </section>
  );
}

/** What the task printed: the tails of its standard output and error, and its exit code (the result's metadata). */
function Output({ metadata }: { metadata?: string }) {
  let facts: { exit_code?: number | null; logs?: { stdout_tail?: string; stderr_tail?: string } } = {};
  try {
    facts = JSON.parse(metadata ?? "{}") ?? {};
  } catch {
    return null; // not JSON: the result above shows it as it is
  }
  const stdout = facts.logs?.stdout_tail ?? "";
  const stderr = facts.logs?.stderr_tail ?? "";
  if (!stdout && !stderr) return null;
  return (
    <>
      <h2>Output{typeof facts.exit_code === "number" && ` (exit code ${facts.exit_code})`}</h2>
      {stdout && <pre tabIndex={0} class="logs" data-stream="stdout" aria-label="Standard output">{stdout}</pre>}
      {stderr && <pre tabIndex={0} class="logs" data-stream="stderr" aria-label="Standard error">{stderr}</pre>}
    </>
  );
}
