/// <reference lib="dom" />
/**
 * Overview: the services with their state and ports, task counts by state, throughput and latency over the last
 * minutes (from GetMetrics, read every second), and the most recent failures.
 *
 * @module
 */
import { useState } from "preact/hooks";
import { envManager, orchestrator, time } from "../api.ts";
import { LineChart } from "../chart.tsx";
import { usePolled } from "../live.ts";

const WINDOW = 300;

/** The overview page. */
export function OverviewPage() {
  const services = usePolled(() => envManager.getServicesStatus({ serviceNames: [] }), 2000);
  const failures = usePolled(() => orchestrator.listTasks({ states: ["failed"], pageSize: 5 }), 2000);
  // The chart spans five minutes from the start; before the page opened the rate is unknown (a gap, not zero).
  const opened = Math.floor(Date.now() / 1000);
  const [series, setSeries] = useState({
    t: [opened - WINDOW] as number[],
    done: [null] as (number | null)[],
    total: -1,
  });
  const metrics = usePolled(async () => {
    const m = (await orchestrator.getMetrics({ metricNames: [] })).metrics;
    setSeries((s) => {
      const now = Math.floor(Date.now() / 1000);
      const total = m.queue_tasks_completed_total ?? 0;
      const rate = s.total < 0 ? 0 : Math.max(0, total - s.total);
      return { t: [...s.t, now].slice(-WINDOW), done: [...s.done, s.total < 0 ? null : rate].slice(-WINDOW), total };
    });
    return m;
  }, 1000);
  const m = metrics.value ?? {};
  return (
    <section>
      <h1>Overview</h1>
      {(services.error || metrics.error) && <p class="error" role="alert">{services.error || metrics.error}</p>}
      <div class="cards" id="task-counts">
        {[["pending", m.tasks_pending], ["running", m.tasks_running], ["completed", m.tasks_completed], [
          "failed",
          m.tasks_failed,
        ]].map(([name, n]) => (
          <a key={name} class="card" href={`#/tasks?state=${name}`} data-count={name}>
            <strong>{n ?? "–"}</strong>
            <span>{name}</span>
          </a>
        ))}
      </div>
      <LineChart title="Tasks completed per second" times={series.t} values={series.done} unit="tasks/s" />
      <h2>Services</h2>
      <table>
        <thead>
          <tr>
            <th>Service</th>
            <th>State</th>
            <th>Ports</th>
            <th>CPU</th>
            <th>Memory</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(services.value?.services ?? {}).map(([name, s]) => (
            <tr key={name} data-service={name}>
              <td>
                <a href="#/services">{name}</a>
              </td>
              <td>
                <span class={`state ${s.status}`}>{s.status}</span>
              </td>
              <td>{s.portMappings.join(", ")}</td>
              <td>{s.resourceUsage ? `${s.resourceUsage.cpuPercent.toFixed(1)} %` : ""}</td>
              <td>{s.resourceUsage ? `${(Number(s.resourceUsage.memoryBytes) / 2 ** 20).toFixed(0)} MiB` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Recent failures</h2>
      <ul>
        {(failures.value?.tasks ?? []).map((t) => (
          <li>
            <a href={`#/tasks/${encodeURIComponent(t.id)}`}>{t.id}</a> {t.state} {time(t.finishedAtMs)}: {t.error}
          </li>
        ))}
      </ul>
    </section>
  );
}
