/// <reference lib="dom" />
/**
 * Events: a live tail of the event log (the last few minutes, then every new event), filtered by type and resource.
 *
 * @module
 */
import { useState } from "preact/hooks";
import { orchestrator, time } from "../api.ts";
import { useFrameList, useStream } from "../live.ts";

/** Events kept on the page, newest first. */
const MAX_EVENTS = 500;

interface Shown {
  sequence: string;
  type: string;
  resource: string;
  at: number;
  data: string;
}

/** The events page. */
export function EventsPage() {
  const [types, setTypes] = useState("");
  const [resource, setResource] = useState("");
  const { items: events, add, clear } = useFrameList<Shown>(MAX_EVENTS);
  const wanted = types.split(",").map((t) => t.trim()).filter(Boolean);
  const error = useStream(
    async function* (signal) {
      clear();
      const since = BigInt(Math.floor(Date.now() / 1000) - 300);
      yield* orchestrator.streamEvents({ eventTypes: wanted, sinceTimestamp: since }, { signal });
    },
    (e) =>
      add({
        sequence: String(e.sequence),
        type: e.eventType,
        resource: e.resourceId,
        at: Number(e.timestampMs),
        data: JSON.stringify(e.data),
      }),
    [wanted.join(",")],
  );
  const shown = resource ? events.filter((e) => e.resource.includes(resource)) : events;
  return (
    <section>
      <h1>Events</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <label>
          Types{" "}
          <input
            value={types}
            placeholder="task_completed, service_healthy"
            onChange={(e) => setTypes((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Resource <input value={resource} onInput={(e) => setResource((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Time</th>
            <th>Type</th>
            <th>Resource</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.sequence} data-event={e.type}>
              <td>{e.sequence}</td>
              <td>{time(e.at)}</td>
              <td>{e.type}</td>
              <td>{e.resource}</td>
              <td class="clip">{e.data}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
