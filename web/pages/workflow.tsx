/// <reference lib="dom" />
/**
 * One workflow run: its DAG with each step's state (web/dag.tsx), live through StreamWorkflowStatus (each update
 * reads the run again with ListWorkflowRuns, which carries every step), its steps as a table, and Cancel.
 *
 * @module
 */
import { useState } from "preact/hooks";
import type { WorkflowRun } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { Dag } from "../dag.tsx";
import { errorText, orchestrator, time } from "../api.ts";
import { useStream } from "../live.ts";

const FINISHED = ["succeeded", "failed", "cancelled"];

async function readRun(runId: string, signal?: AbortSignal): Promise<WorkflowRun | undefined> {
  return (await orchestrator.listWorkflowRuns({ runId }, { signal })).runs[0];
}

/** The page of run `id`. */
export function WorkflowRunPage({ id }: { id: string }) {
  const [run, setRun] = useState<WorkflowRun | undefined>(undefined);
  const [missing, setMissing] = useState(false);
  const [message, setMessage] = useState("");

  const streamError = useStream(
    async function* (signal) {
      const first = await readRun(id, signal);
      setMissing(!first);
      if (!first) return;
      setRun(first);
      // Each update says the run changed; the listing carries every step's state and task.
      for await (const _ of orchestrator.streamWorkflowStatus({ runId: id }, { signal })) {
        yield await readRun(id, signal);
      }
      // A finished run's stream ends: wait here until the page goes away.
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
    },
    (r) => r && setRun(r),
    [id],
  );

  const cancel = async () => {
    try {
      const answer = await orchestrator.cancelWorkflowRun({ runId: id, reason: "cancelled from the dashboard" });
      setMessage(answer.success ? "Cancelled." : answer.error);
      const now = await readRun(id);
      if (now) setRun(now);
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  if (!run) {
    return (
      <section>
        <h1>Run {id}</h1>
        <p class="error">{missing ? "No workflow run has this id." : streamError || "Loading…"}</p>
      </section>
    );
  }
  const tasksHref = `#/tasks?workflow=${encodeURIComponent(run.workflowId)}&label=${
    encodeURIComponent(`run_id=${run.runId}`)
  }`;
  return (
    <section>
      <h1>
        Run <code>{run.runId}</code>
      </h1>
      <p>
        <span class={`state ${run.state}`} data-state={run.state} id="run-state">{run.state}</span> workflow{" "}
        <a href={`#/workflows?workflow=${encodeURIComponent(run.workflowId)}`}>{run.workflowName}</a>, started{" "}
        {time(run.createdAtMs)}
        {run.finishedAtMs > 0n && `, finished ${time(run.finishedAtMs)}`}
      </p>
      <div class="actions">
        <button type="button" onClick={cancel} disabled={FINISHED.includes(run.state)}>Cancel</button>
        <a href={tasksHref}>Tasks of this run</a>
        {message && <span role="status">{message}</span>}
      </div>
      {run.error && <p class="error">{run.error}</p>}
      {streamError && <p class="error" role="alert">{streamError}</p>}
      <h2>Steps</h2>
      <Dag steps={run.steps} label={`The steps of run ${run.runId} and their dependencies`} />
      <table aria-label="Steps">
        <thead>
          <tr>
            <th>Step</th>
            <th>State</th>
            <th>Depends on</th>
            <th>Task</th>
            <th>Finished</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {run.steps.map((step) => (
            <tr key={step.id} data-step-row={step.id}>
              <td>{step.id}</td>
              <td>
                <span class={`state ${step.state}`} data-state={step.state}>{step.state}</span>
              </td>
              <td>{step.dependsOn.join(", ")}</td>
              <td>{step.taskId && <a href={`#/tasks/${encodeURIComponent(step.taskId)}`}>{step.taskId}</a>}</td>
              <td>{time(step.finishedAtMs)}</td>
              <td class="clip">{step.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
