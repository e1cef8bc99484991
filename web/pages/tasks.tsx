/// <reference lib="dom" />
/**
 * Tasks: the newest tasks, filtered by state, class and label, kept live by StreamTaskResults (a task submitted
 * anywhere appears and changes state without a reload); each row links to the task's page.
 *
 * @module
 */
import { useMemo, useRef, useState } from "preact/hooks";
import type { Task } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { errorText, orchestrator, time } from "../api.ts";
import { useStream } from "../live.ts";

/** Rows kept on the page (newest first); the filters narrow the listing the daemon returns. */
const MAX_ROWS = 1000;

interface Row {
  id: string;
  class: string;
  state: string;
  attempts: number;
  created: number;
  error: string;
  labels: Record<string, string>;
}

function rowOf(task: Task): Row {
  return {
    id: task.id,
    class: task.class,
    state: task.state,
    attempts: task.attempts,
    created: Number(task.createdAtMs),
    error: task.error,
    labels: task.labels,
  };
}

/** The tasks page. */
export function TasksPage() {
  const [state, setState] = useState("");
  const [cls, setCls] = useState("");
  const [label, setLabel] = useState("");
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [error, setError] = useState("");
  const pending = useRef(new Set<string>());

  const labels = useMemo(() => {
    const [k, v] = label.split("=", 2);
    return k && v !== undefined ? { [k.trim()]: v.trim() } : {};
  }, [label]);

  // The listing, then every change on the result stream.
  const streamError = useStream(
    async function* (signal) {
      const page = await orchestrator.listTasks(
        { states: state ? [state] : [], class: cls, labels, pageSize: MAX_ROWS },
        { signal },
      );
      setRows(new Map(page.tasks.map((t) => [t.id, rowOf(t)])));
      yield* orchestrator.streamTaskResults({ taskIds: [], includeCompleted: false }, { signal });
    },
    (result) => {
      setRows((current) => {
        const known = current.get(result.taskId);
        if (known) {
          const next = new Map(current);
          next.set(result.taskId, {
            ...known,
            state: result.state || result.status,
            error: result.error,
            attempts: result.attempts,
          });
          return next;
        }
        // A task this page has not seen: read it once, then keep it if it matches the filters.
        if (!pending.current.has(result.taskId)) {
          pending.current.add(result.taskId);
          orchestrator.getTaskStatus({ taskId: result.taskId }).then((status) => {
            pending.current.delete(result.taskId);
            const task = status.task;
            if (!task || (cls && task.class !== cls)) return;
            if (Object.entries(labels).some(([k, v]) => task.labels[k] !== v)) return;
            setRows((now) => new Map([[task.id, rowOf(task)] as const, ...now].slice(0, MAX_ROWS)));
          }, (e) => setError(errorText(e)));
        }
        return current;
      });
    },
    [state, cls, JSON.stringify(labels)],
  );

  const shown = [...rows.values()].filter((r) =>
    !state || r.state === state ||
    (state === "pending" && r.state === "retrying") ||
    (state === "failed" && ["cancelled", "timed_out"].includes(r.state))
  );
  return (
    <section>
      <h1>Tasks</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter tasks">
        <label>
          State{" "}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            {["", "pending", "running", "completed", "failed", "cancelled", "timed_out"].map((s) => (
              <option key={s} value={s}>{s || "any"}</option>
            ))}
          </select>
        </label>
        <label>
          Class{" "}
          <input value={cls} placeholder="cpu_short" onChange={(e) => setCls((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Label{" "}
          <input
            value={label}
            placeholder="key=value"
            onChange={(e) => setLabel((e.target as HTMLInputElement).value)}
          />
        </label>
      </form>
      {(streamError || error) && <p class="error" role="alert">{streamError || error}</p>}
      <p class="muted" aria-live="polite">{shown.length} tasks</p>
      <table>
        <thead>
          <tr>
            <th>Task</th>
            <th>Class</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Created</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.id} data-task={r.id}>
              <td>
                <a href={`#/tasks/${encodeURIComponent(r.id)}`}>{r.id}</a>
              </td>
              <td>{r.class}</td>
              <td>
                <span class={`state ${r.state}`} data-state={r.state}>{r.state}</span>
              </td>
              <td>{r.attempts}</td>
              <td>{time(r.created)}</td>
              <td class="clip">{r.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
