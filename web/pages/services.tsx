/// <reference lib="dom" />
/**
 * Services: each service's state, health checks and ports, with start, stop and restart; why a failed or unhealthy
 * service is so (its message, exit code, last probe and last log lines); a service's live logs with follow and search,
 * stamped with the engine's own times.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { ServiceStatus } from "../../src/gen/env_manager/v1/env_manager_pb.ts";
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
          {Object.entries(status.value?.services ?? {}).flatMap(([name, s]) => [
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
            </tr>,
            (s.status === "failed" || s.status === "unhealthy") && (
              <tr key={`${name}-why`} class="why" data-why={name}>
                <td colSpan={5}>
                  <Why service={s} />
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
      {shown && <Logs service={shown} />}
    </section>
  );
}

/** Log lines shown under a failed service. */
const WHY_LINES = 20;

/** Why a service failed or is unhealthy: its message, exit code, last probe, and its container's last log lines. */
function Why({ service }: { service: ServiceStatus }) {
  const [lines, setLines] = useState<string[] | undefined>(undefined);
  const [error, setError] = useState("");
  // Read once per container: a failed container's log does not grow, and a new container is a new story.
  useEffect(() => {
    setLines(undefined);
    setError("");
    // No container (its image never came, or it was removed): no log to read.
    if (!service.containerId) return;
    const stop = new AbortController();
    const read: string[] = [];
    (async () => {
      for await (
        const entry of envManager.streamLogs({ serviceName: service.name, tail: WHY_LINES }, { signal: stop.signal })
      ) read.push(`${entry.stream} ${entry.message}`);
      setLines(read);
    })().catch((e) => stop.signal.aborted || setError(errorText(e)));
    return () => stop.abort();
  }, [service.name, service.containerId]);
  const probe = service.lastProbe || service.healthChecks.detail;
  return (
    <div class="why-detail">
      <h2>Why {service.name} is {service.status}</h2>
      <dl>
        {service.message && (
          <>
            <dt>Message</dt>
            <dd data-why-message>{service.message}</dd>
          </>
        )}
        {service.exited && (
          <>
            <dt>Exit code</dt>
            <dd data-exit-code={service.exitCode}>{service.exitCode}</dd>
          </>
        )}
        {probe && (
          <>
            <dt>Last probe ({service.healthChecks.kind})</dt>
            <dd data-why-probe>{probe}</dd>
          </>
        )}
      </dl>
      <h3>Last log lines</h3>
      {!service.containerId && <p class="muted">No container: nothing was logged.</p>}
      {error && <p class="error">{error}</p>}
      {lines && lines.length === 0 && <p class="muted">The container wrote nothing.</p>}
      {lines && lines.length > 0 && <pre class="logs" data-why-logs tabIndex={0}>{lines.join("\n")}</pre>}
    </div>
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
