/// <reference lib="dom" />
/**
 * Workers: each connected worker's slots in use, task types, running tasks and last heartbeat.
 *
 * @module
 */
import { time, workers } from "../api.ts";
import { usePolled } from "../live.ts";

/** The workers page. */
export function WorkersPage() {
  const list = usePolled(() => workers.listWorkers({}), 1000);
  return (
    <section>
      <h1>Workers</h1>
      {list.error && <p class="error" role="alert">{list.error}</p>}
      {list.value && list.value.workers.length === 0 && <p class="muted">No worker has connected.</p>}
      <table>
        <thead>
          <tr>
            <th>Worker</th>
            <th>State</th>
            <th>Slots</th>
            <th>Task types</th>
            <th>Running</th>
            <th>Heartbeat</th>
          </tr>
        </thead>
        <tbody>
          {(list.value?.workers ?? []).map((w) => (
            <tr key={w.workerId} data-worker={w.name}>
              <td>
                {w.name}
                <br />
                <span class="muted">{w.address}</span>
              </td>
              <td>
                <span class={`state ${w.state}`}>{w.state}</span>
              </td>
              <td>{w.running} / {w.slots}</td>
              <td>{w.taskTypes.join(", ")}</td>
              <td>{w.runningTaskIds.map((id) => <a key={id} href={`#/tasks/${encodeURIComponent(id)}`}>{id}</a>)}</td>
              <td>{time(w.lastHeartbeatMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
