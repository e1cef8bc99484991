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

/** The charts' points: times, and each figure beside them (null where unknown). */
interface Series {
  t: number[];
  done: (number | null)[];
  runP50: (number | null)[];
  runP95: (number | null)[];
  waitP50: (number | null)[];
  waitP95: (number | null)[];
  /** The completed counter at the last poll; -1 before the first. */
  total: number;
}

const FIGURES = ["done", "runP50", "runP95", "waitP50", "waitP95"] as const;

function emptySeries(now: number): Series {
  return {
    t: [now - WINDOW],
    done: [null],
    runP50: [null],
    runP95: [null],
    waitP50: [null],
    waitP95: [null],
    total: -1,
  };
}

/** Adds one poll's figures: the completed rate from the counter's change, latency from GetMetrics' last minute. */
function nextSeries(s: Series, m: Record<string, number>, now: number): Series {
  const total = m.queue_tasks_completed_total ?? 0;
  // No attempt ended in the last minute: the latency is unknown, not zero.
  const known = (m.task_latency_window_attempts ?? 0) > 0;
  const point = {
    done: s.total < 0 ? null : Math.max(0, total - s.total),
    runP50: known ? m.task_run_seconds_p50 : null,
    runP95: known ? m.task_run_seconds_p95 : null,
    waitP50: known ? m.task_wait_seconds_p50 : null,
    waitP95: known ? m.task_wait_seconds_p95 : null,
  };
  const next = { ...s, t: [...s.t, now].slice(-WINDOW), total };
  for (const f of FIGURES) next[f] = [...s[f], point[f]].slice(-WINDOW);
  return next;
}

/** A duration for the latency axis: milliseconds below a second (a ticked `0.001` says nothing). */
function seconds(value: number): string {
  if (value === 0) return "0";
  return value < 1 ? `${+(value * 1000).toPrecision(3)} ms` : `${+value.toPrecision(3)} s`;
}

/** The overview page. */
export function OverviewPage() {
  const services = usePolled(() => envManager.getServicesStatus({ serviceNames: [] }), 2000);
  const failures = usePolled(() => orchestrator.listTasks({ states: ["failed"], pageSize: 5 }), 2000);
  // The charts span five minutes from the start; before the page opened the figures are unknown (a gap, not zero).
  const [series, setSeries] = useState(() => emptySeries(Math.floor(Date.now() / 1000)));
  const metrics = usePolled(async () => {
    const m = (await orchestrator.getMetrics({ metricNames: [] })).metrics;
    setSeries((s) => nextSeries(s, m, Math.floor(Date.now() / 1000)));
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
      <div class="charts">
        <LineChart
          name="throughput"
          title="Tasks completed per second"
          times={series.t}
          lines={[{ label: "completed", values: series.done }]}
          unit="tasks/s"
        />
        <LineChart
          name="latency"
          title="Latency of the last minute's attempts"
          times={series.t}
          lines={[
            { label: "run p50", values: series.runP50 },
            { label: "run p95", values: series.runP95 },
            { label: "wait p50", values: series.waitP50 },
            { label: "wait p95", values: series.waitP95 },
          ]}
          unit="seconds"
          format={seconds}
        />
      </div>
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
