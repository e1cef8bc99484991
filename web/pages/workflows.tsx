/// <reference lib="dom" />
/**
 * Workflows: the newest runs (ListWorkflowRuns), filtered by workflow and state, read again whenever a workflow event
 * arrives on StreamEvents (a run started anywhere appears, and its steps advance, without a reload); each row links
 * to the run's page.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { WorkflowRun } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { errorText, orchestrator, time } from "../api.ts";
import { useStream } from "../live.ts";

/** Runs shown (the daemon's largest page). */
const PAGE = 100;

/** The events after which a run or one of its steps has changed (src/orchestrator/workflow/advance.ts). */
export const WORKFLOW_EVENTS = [
  "workflow_run_started",
  "workflow_run_succeeded",
  "workflow_run_failed",
  "workflow_run_cancelled",
  "workflow_step_started",
  "workflow_step_succeeded",
  "workflow_step_failed",
];

const RUN_STATES = ["", "pending", "running", "succeeded", "failed", "cancelled"];

/** The least time between two reads of the list, however many events arrive (a busy sweep sends thousands). */
const MIN_RELOAD_MS = 250;

/**
 * `load()` now, then again after each `poke()`: one read at a time, and pokes that arrive during a read make one more
 * read after it, at least {@linkcode MIN_RELOAD_MS} later (a burst of events costs two reads, not one per event).
 */
function useReloader(load: () => Promise<void>) {
  const state = useRef({ running: false, again: false });
  const poke = () => {
    const s = state.current;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = true;
    load().finally(() => {
      s.running = false;
      if (s.again) {
        s.again = false;
        s.running = true;
        setTimeout(() => {
          // This read covers every poke of the wait.
          s.running = s.again = false;
          poke();
        }, MIN_RELOAD_MS);
      }
    });
  };
  return poke;
}

/** The workflows page: `workflow` in the query narrows it to one workflow's runs. */
export function WorkflowsPage({ query }: { query: URLSearchParams }) {
  const [workflowId, setWorkflowId] = useState(query.get("workflow") ?? "");
  const [state, setState] = useState(query.get("state") ?? "");
  const [runs, setRuns] = useState<WorkflowRun[] | undefined>(undefined);
  const [error, setError] = useState("");
  const filters = useRef({ workflowId, state });
  filters.current = { workflowId, state };

  const reload = useReloader(async () => {
    try {
      const { workflowId, state } = filters.current;
      const page = await orchestrator.listWorkflowRuns({ workflowId, states: state ? [state] : [], pageSize: PAGE });
      setRuns(page.runs);
      setError("");
    } catch (e) {
      setError(errorText(e));
    }
  });
  useEffect(reload, [workflowId, state]);
  const streamError = useStream(
    async function* (signal) {
      // Read again on (re)connecting, and have the events of the last second replayed: a change between this read
      // and the moment the daemon registers the stream is then still heard.
      const since = BigInt(Math.floor(Date.now() / 1000) - 1);
      reload();
      yield* orchestrator.streamEvents({ eventTypes: WORKFLOW_EVENTS, sinceTimestamp: since }, { signal });
    },
    () => reload(),
    [],
  );

  return (
    <section>
      <h1>Workflows</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter workflow runs">
        <label>
          Workflow{" "}
          <input
            value={workflowId}
            placeholder="workflow id"
            onChange={(e) => setWorkflowId((e.target as HTMLInputElement).value.trim())}
          />
        </label>
        <label>
          State{" "}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            {RUN_STATES.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
      </form>
      {(error || streamError) && <p class="error" role="alert">{error || streamError}</p>}
      {runs && runs.length === 0 && <p class="muted">No workflow run yet.</p>}
      <table aria-label="Workflow runs, newest first">
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>State</th>
            <th>Steps done</th>
            <th>Started</th>
            <th>Finished</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {(runs ?? []).map((run) => (
            <tr key={run.runId} data-run={run.runId}>
              <td>
                <a href={`#/workflows/${encodeURIComponent(run.runId)}`}>{run.runId}</a>
              </td>
              <td>
                <a href={`#/workflows?workflow=${encodeURIComponent(run.workflowId)}`}>{run.workflowName}</a>
                {run.workflowName !== run.workflowId && <span class="muted">{` (${run.workflowId})`}</span>}
              </td>
              <td>
                <span class={`state ${run.state}`} data-state={run.state}>{run.state}</span>
              </td>
              <td data-steps>
                {run.steps.filter((s) => s.state === "succeeded").length} / {run.steps.length}
              </td>
              <td>{time(run.createdAtMs)}</td>
              <td>{time(run.finishedAtMs)}</td>
              <td class="clip">{run.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
