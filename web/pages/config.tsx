/// <reference lib="dom" />
/**
 * Config: the daemon's effective settings and where each came from (a default, the config file, an environment
 * variable, a command-line flag), read-only, with secrets masked by the daemon as `dspy-agent config show` masks them.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import { errorText, orchestrator } from "../api.ts";
import type { GetConfigResponse } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";

/** The config page. */
export function ConfigPage() {
  const [answer, setAnswer] = useState<GetConfigResponse | undefined>(undefined);
  const [error, setError] = useState("");
  const [filter, setFilter] = useState("");
  // The settings do not change while the daemon runs: read once.
  useEffect(() => {
    orchestrator.getConfig({}).then(setAnswer, (e) => setError(errorText(e)));
  }, []);
  const needle = filter.trim().toLowerCase();
  const shown = (answer?.settings ?? []).filter((s) =>
    !needle || [s.key, s.value, s.source, s.origin].some((text) => text.toLowerCase().includes(needle))
  );
  return (
    <section>
      <h1>Config</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {answer && (
        <p class="muted">
          Read-only: the settings this daemon started with. Config file: <code>{answer.configFile}</code>
        </p>
      )}
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter settings">
        <label>
          Filter{" "}
          <input
            type="search"
            value={filter}
            placeholder="key, value or source"
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
      </form>
      <table>
        <thead>
          <tr>
            <th>Setting</th>
            <th>Value</th>
            <th>Source</th>
            <th>From</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((s) => (
            <tr key={s.key} data-setting={s.key}>
              <td>
                <code>{s.key}</code>
              </td>
              <td class="clip" title={s.value}>
                <code>{s.value}</code>
              </td>
              <td>
                <span class={`source ${s.source}`} data-source={s.source}>{s.source}</span>
              </td>
              <td class="clip" title={s.origin}>{s.origin}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {answer && shown.length === 0 && <p class="muted">No setting matches "{filter}".</p>}
    </section>
  );
}
