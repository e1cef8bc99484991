/// <reference lib="dom" />
/**
 * The dashboard: a single page the daemon serves at `/` on its HTTP address, built from this folder at build time
 * (`scripts/build-web`) into one script and one stylesheet that the daemon embeds (`src/daemon/dashboard_assets.ts`).
 * It talks to the daemon only through its Connect routes (`api.ts`), live through their server streams.
 *
 * Pages (`pages/`): overview, tasks and one task, workflow runs and one run (its DAG), services and their logs,
 * workers, events, config. Routes are the URL's hash (`#/tasks/ID`, `#/tasks?workflow=ID`), so the daemon serves one
 * document.
 *
 * Parts from npm: Preact (the UI: 4 KB, maintained by a large team, the hooks API most readers know), uPlot (charts:
 * small, fast on streaming data), dagre (the layout of a run's DAG), Connect-Web with the daemon's own generated types.
 *
 * @module
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { saveBearer, session, TokenNeededError } from "./api.ts";
import { ConfigPage } from "./pages/config.tsx";
import { EventsPage } from "./pages/events.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { ServicesPage } from "./pages/services.tsx";
import { TaskPage } from "./pages/task.tsx";
import { TasksPage } from "./pages/tasks.tsx";
import { WorkersPage } from "./pages/workers.tsx";
import { WorkflowRunPage } from "./pages/workflow.tsx";
import { WorkflowsPage } from "./pages/workflows.tsx";

const NAV: [string, string][] = [
  ["#/", "Overview"],
  ["#/tasks", "Tasks"],
  ["#/workflows", "Workflows"],
  ["#/services", "Services"],
  ["#/workers", "Workers"],
  ["#/events", "Events"],
  ["#/config", "Config"],
];

function useRoute(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const update = () => setHash(location.hash || "#/");
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return hash;
}

function page(route: string) {
  const [path, search = ""] = route.slice(1).split("?");
  const task = path.match(/^\/tasks\/(.+)$/);
  // Keyed by id: another task's page starts afresh (no message or events left from the last one).
  if (task) return <TaskPage key={task[1]} id={decodeURIComponent(task[1])} />;
  const run = path.match(/^\/workflows\/(.+)$/);
  if (run) return <WorkflowRunPage key={run[1]} id={decodeURIComponent(run[1])} />;
  // Keyed by the query: a link with other filters starts the page afresh.
  switch (path) {
    case "/tasks":
      return <TasksPage key={search} query={new URLSearchParams(search)} />;
    case "/workflows":
      return <WorkflowsPage key={search} query={new URLSearchParams(search)} />;
    case "/services":
      return <ServicesPage />;
    case "/workers":
      return <WorkersPage />;
    case "/events":
      return <EventsPage />;
    case "/config":
      return <ConfigPage />;
    default:
      return <OverviewPage />;
  }
}

/** Off loopback the daemon asks for its bearer token: the page asks the person for it first. */
function TokenForm() {
  const [value, setValue] = useState("");
  return (
    <main>
      <h1>This daemon asks for its token</h1>
      <p>
        It listens beyond loopback, so every call needs the token in <code>~/.dspy-agent/auth.token</code>{" "}
        on the daemon's host (or <code>DSPY_AGENT_TOKEN</code>). It is kept for this tab only.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          saveBearer(value);
          location.reload();
        }}
      >
        <label>
          Token <input type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>{" "}
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}

function App() {
  const [needsToken, setNeedsToken] = useState(false);
  useEffect(() => {
    session().catch((error) => setNeedsToken(error instanceof TokenNeededError));
  }, []);
  const route = useRoute();
  if (needsToken) return <TokenForm />;
  const current = "#" + route.slice(1).split("?")[0].split("/").slice(0, 2).join("/");
  return (
    <>
      <header>
        <strong>dspy-agent</strong>
        <nav aria-label="Pages">
          {NAV.map(([href, label]) => (
            <a
              key={href}
              href={href}
              aria-current={href === current || (href === "#/" && current === "#/") ? "page" : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>{page(route)}</main>
    </>
  );
}

// The session is asked for while the page renders, not after: every first call waits for it.
session().catch(() => {});
render(<App />, document.getElementById("app")!);
