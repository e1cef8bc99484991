/// <reference lib="dom" />
/**
 * The dashboard's way to the daemon: Connect-Web clients of the daemon's own services (the same generated types the
 * daemon uses), on the page's origin. Every call carries the page token, which the daemon hands only to its own
 * origin (`GET /dashboard/session`) and requires on every browser POST.
 *
 * @module
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { EnvManagerService } from "../src/gen/env_manager/v1/env_manager_pb.ts";
import { WorkerService } from "../src/gen/worker/v1/worker_pb.ts";

/** The header the daemon checks on browser POSTs. */
const PAGE_TOKEN_HEADER = "x-dspy-agent-page-token";

/** Where the daemon's bearer token is kept for this tab, once a person gave it (needed off loopback only). */
const BEARER_KEY = "dspy-agent-token";

/** Thrown when the daemon wants its bearer token: the dashboard is open on a non-loopback address. */
export class TokenNeededError extends Error {
  constructor() {
    super("this daemon asks for its token (it listens beyond loopback)");
  }
}

/** Keeps the token a person typed for this tab (sessionStorage: gone with the tab). */
export function saveBearer(token: string): void {
  sessionStorage.setItem(BEARER_KEY, token.trim());
}

function bearerHeader(): Record<string, string> {
  const bearer = sessionStorage.getItem(BEARER_KEY);
  return bearer ? { authorization: `Bearer ${bearer}` } : {};
}

let pageToken: Promise<string> | undefined;

/** The page token, fetched once from the daemon's own origin. */
export function session(): Promise<string> {
  pageToken ??= fetch("/dashboard/session", { cache: "no-store", headers: bearerHeader() })
    .then((r) => {
      if (r.status === 401) throw new TokenNeededError();
      if (!r.ok) throw new Error(`the daemon refused the dashboard session (${r.status})`);
      return r.json() as Promise<{ pageToken: string }>;
    })
    .then((s) => s.pageToken)
    .catch((error) => {
      pageToken = undefined;
      throw error;
    });
  return pageToken;
}

const withToken: Interceptor = (next) => async (req) => {
  req.header.set(PAGE_TOKEN_HEADER, await session());
  for (const [name, value] of Object.entries(bearerHeader())) req.header.set(name, value);
  return await next(req);
};

const transport = createConnectTransport({ baseUrl: location.origin, interceptors: [withToken] });

/** Tasks, workflows, events and metrics. */
export const orchestrator = createClient(OrchestratorService, transport);
/** Services, health and logs. */
export const envManager = createClient(EnvManagerService, transport);
/** Connected workers. */
export const workers = createClient(WorkerService, transport);

/** Formats unix milliseconds as local time, or "" for 0. */
export function time(ms: number | bigint): string {
  const n = Number(ms);
  return n > 0 ? new Date(n).toLocaleTimeString() : "";
}

/** A message for any thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
