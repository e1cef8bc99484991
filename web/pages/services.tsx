/// <reference lib="dom" />
/**
 * Services: each service's state, health checks and ports, with start, stop and restart; a service's live logs with
 * follow and search, stamped with the engine's own times.
 *
 * @module
 */
import { useState } from "preact/hooks";
import { envManager, errorText } from "../api.ts";
import { usePolled, useStream } from "../live.ts";

/** The services page. */
export function ServicesPage() {
  const [message, setMessage] = useState("");
  const [shown, setShown] = useState("");
  const status = usePolled(() => envManager.getServicesStatus({ serviceNames: [] }), 1000);
  const act = async (what: string, run: () => Promise<unknown>) => {
    setMessage(`${what}…`);
    try {
      await run();
      setMessage(`${what}: done`);
    } catch (e) {
      setMessage(`${what}: ${errorText(e)}`);
    }
  };
  const start = (name: string) =>
    act(`start ${name}`, async () => {
      for await (const _ of envManager.startServices({ serviceNames: [name] })) { /* progress */ }
    });
  return (
    <section>
      <h1>Services</h1>
      {status.error && <p class="error" role="alert">{status.error}</p>}
      {message && <p role="status">{message}</p>}
      <table>
        <thead>
          <tr>
            <th>Service</th>
            <th>State</th>
            <th>Health</th>
            <th>Ports</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(status.value?.services ?? {}).map(([name, s]) => (
            <tr key={name} data-service={name}>
              <td>{name}</td>
              <td>
                <span class={`state ${s.status}`} data-state={s.status}>{s.status}</span>
              </td>
              <td class="clip">{Object.entries(s.healthChecks).map(([k, v]) => `${k}: ${v}`).join("; ")}</td>
              <td>{s.portMappings.join(", ")}</td>
              <td class="actions">
                <button type="button" onClick={() => start(name)}>Start</button>
                <button
                  type="button"
                  onClick={() => act(`stop ${name}`, () => envManager.stopServices({ serviceNames: [name] }))}
                >
                  Stop
                </button>
                <button
                  type="button"
                  onClick={() => act(`restart ${name}`, () => envManager.restartService({ serviceName: name }))}
                >
                  Restart
                </button>
                <button type="button" onClick={() => setShown(name)}>Logs</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && <Logs service={shown} />}
    </section>
  );
}

/** Keeps this many lines on the page. */
const MAX_LINES = 2000;

function Logs({ service }: { service: string }) {
  const [lines, setLines] = useState<{ at: number; stream: string; text: string }[]>([]);
  const [search, setSearch] = useState("");
  const error = useStream(
    async function* (signal) {
      setLines([]);
      yield* envManager.streamLogs({ serviceName: service, follow: true, tail: 200, timestamps: true }, { signal });
    },
    (entry) =>
      setLines((now) =>
        [...now, { at: Number(entry.timestamp), stream: entry.stream, text: entry.message }].slice(-MAX_LINES)
      ),
    [service],
  );
  const shown = search ? lines.filter((l) => l.text.includes(search)) : lines;
  return (
    <div>
      <h2>Logs of {service}</h2>
      <label>
        Search <input value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
      </label>
      {error && <p class="error">{error}</p>}
      <pre class="logs" aria-live="off" tabIndex={0}>
        {shown.map((l) => `${l.at ? new Date(l.at * 1000).toISOString() : ""} ${l.stream} ${l.text}\n`).join("")}
      </pre>
    </div>
  );
}
