/// <reference lib="dom" />
/**
 * Tasks: the newest tasks, filtered by state, class, workflow and label (each may come from the page's query, as in
 * `#/tasks?workflow=ID&label=run_id=RUN`, the link of a workflow run's page), kept live by StreamTaskResults (a task submitted
 * anywhere appears and changes state without a reload); each row links to the task's page.
 *
 * @module
 */
import { useMemo, useRef, useState } from "preact/hooks";
import type { Task } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { errorText, orchestrator, time } from "../api.ts";
import { useStream } from "../live.ts";
import { useVirtualRows } from "../virtual.ts";

/** Rows kept on the page (newest first); the filters narrow the listing the daemon returns. Only those in view are
 * in the document (web/virtual.ts). */
const MAX_ROWS = 10_000;
/** Tasks read per ListTasks call while filling the page. */
const PAGE = 1000;
/** A row's height in pixels (style.css: .rows tr). */
const ROW_HEIGHT = 30;

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

/** The tasks page; `query` may hold its first filters (`state`, `class`, `workflow`, `label`). */
export function TasksPage({ query = new URLSearchParams() }: { query?: URLSearchParams }) {
  const [state, setState] = useState(query.get("state") ?? "");
  const [cls, setCls] = useState(query.get("class") ?? "");
  const [workflow, setWorkflow] = useState(query.get("workflow") ?? "");
  const [label, setLabel] = useState(query.get("label") ?? "");
  // The rows live in a map changed in place; a change asks for one render per animation frame, however many
  // results arrive in it (a burst of thousands must not copy the map thousands of times).
  const rows = useRef(new Map<string, Row>());
  const [, setVersion] = useState(0);
  const frame = useRef(0);
  const changed = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setVersion((v) => v + 1);
    });
  };
  const [error, setError] = useState("");
  const pending = useRef(new Set<string>());

  const labels = useMemo(() => {
    const [k, v] = label.split("=", 2);
    return k && v !== undefined ? { [k.trim()]: v.trim() } : {};
  }, [label]);

  // The listing, then every change on the result stream.
  const streamError = useStream(
    async function* (signal) {
      const listed = new Map<string, Row>();
      let pageToken = "";
      do {
        const page = await orchestrator.listTasks(
          { states: state ? [state] : [], class: cls, workflowId: workflow, labels, pageSize: PAGE, pageToken },
          { signal },
        );
        for (const t of page.tasks) listed.set(t.id, rowOf(t));
        pageToken = page.nextPageToken;
      } while (pageToken && listed.size < MAX_ROWS);
      rows.current = listed;
      changed();
      yield* orchestrator.streamTaskResults({ taskIds: [], includeCompleted: false }, { signal });
    },
    (result) => {
      const known = rows.current.get(result.taskId);
      if (known) {
        known.state = result.state || result.status;
        known.error = result.error;
        known.attempts = result.attempts;
        changed();
        return;
      }
      // A task this page has not seen: read it once, then keep it (newest first) if it matches the filters.
      if (pending.current.has(result.taskId)) return;
      pending.current.add(result.taskId);
      orchestrator.getTaskStatus({ taskId: result.taskId }).then((status) => {
        pending.current.delete(result.taskId);
        const task = status.task;
        if (!task || (cls && task.class !== cls) || (workflow && task.workflowId !== workflow)) return;
        if (Object.entries(labels).some(([k, v]) => task.labels[k] !== v)) return;
        rows.current = new Map([[task.id, rowOf(task)] as const, ...rows.current].slice(0, MAX_ROWS));
        changed();
      }, (e) => setError(errorText(e)));
    },
    [state, cls, workflow, JSON.stringify(labels)],
  );

  const shown = [...rows.current.values()].filter((r) =>
    !state || r.state === state ||
    (state === "pending" && r.state === "retrying") ||
    (state === "failed" && ["cancelled", "timed_out"].includes(r.state))
  );
  const { scrollRef, items, before, after } = useVirtualRows(shown.length, ROW_HEIGHT);
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
          Workflow{" "}
          <input
            value={workflow}
            placeholder="workflow id"
            onChange={(e) => setWorkflow((e.target as HTMLInputElement).value.trim())}
          />
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
      <div class="rows" ref={scrollRef} tabIndex={0} aria-label="Tasks, newest first">
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
            {before > 0 && <tr aria-hidden="true" style={{ height: `${before}px` }} />}
            {items.map((item) => shown[item.index]).map((r) => (
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
            {after > 0 && <tr aria-hidden="true" style={{ height: `${after}px` }} />}
          </tbody>
        </table>
      </div>
    </section>
  );
}
