/**
 * How `start` reads the StartServices stream: one update → one live row,
 * and the last update per service → its outcome.
 *
 * @module
 */

import type { ServiceStatusUpdate } from "../../../client/mod.ts";
import type { LiveView, Row } from "../../output/live_view.ts";

/** The outcome of one service after StartServices ended. */
export interface ServiceOutcome {
  /** The service. */
  name: string;
  /** true running, false failed, undefined skipped. */
  ok: boolean | undefined;
  /** Its last state. */
  status: string;
  /** Its last phase. */
  phase: string;
  /** Its last message. */
  message: string;
  /** Whether the stack fails when it fails. */
  required: boolean;
  /** Published ports, `HOST->CONTAINER/tcp`. */
  ports: string[];
  /** Milliseconds it took. */
  elapsedMs: number;
  /** Its last log lines when it failed. */
  logTail: string[];
}

const phaseText: Record<string, string> = {
  waiting: "waiting for dependencies",
  pulling: "pulling image",
  creating: "creating container",
  starting: "starting",
  probing: "waiting for health check",
};

/** Maps one update to the row the live view shows. */
export function rowOfUpdate(u: ServiceStatusUpdate): Row {
  const elapsedMs = Number(u.elapsedMs) || undefined;
  const ports = u.portMappings.length ? `  ${u.portMappings.join(", ")}` : "";
  if (u.phase === "skipped") return { state: "skipped", text: u.message || "skipped", elapsedMs };
  if (u.status === "failed" || u.phase === "failed") {
    return { state: "failed", text: u.message || u.status, elapsedMs, details: u.logTail.slice(-5) };
  }
  if (u.status === "running") {
    return { state: "ok", text: (u.phase === "adopted" ? "already running" : "healthy") + ports, elapsedMs };
  }
  const text = u.message || phaseText[u.phase] || u.phase || u.status;
  return {
    state: "active",
    text: text || u.status,
    progress: u.phase === "pulling" ? u.progress : undefined,
    elapsedMs,
  };
}

/**
 * Reduces the last update of each service to an outcome. When no update
 * carries `required` (an older daemon), every service counts as required.
 */
export function summarize(latest: Map<string, ServiceStatusUpdate>): ServiceOutcome[] {
  const anyRequiredFlag = [...latest.values()].some((u) => u.required);
  return [...latest.values()].map((u) => {
    const row = rowOfUpdate(u);
    return {
      name: u.serviceName,
      // A skipped service (its dependency failed) counts as failed when it is required.
      ok: row.state === "ok" ? true : row.state === "skipped" && !u.required ? undefined : false,
      status: u.status,
      phase: u.phase,
      message: row.state === "active" ? `stopped at "${row.text}"` : u.message,
      required: anyRequiredFlag ? u.required : true,
      ports: u.portMappings,
      elapsedMs: Number(u.elapsedMs),
      logTail: u.logTail,
    };
  });
}

/** What a StartServices stream ended with. */
export interface StartResult {
  /** Each service's outcome. */
  outcomes: ServiceOutcome[];
  /** Required services that failed, with the reason. */
  failures: { service: string; reason: string }[];
}

/**
 * Reads a StartServices stream to its end, drawing each update. The daemon's
 * last update has no service name (phase `done`) and carries the verdict.
 */
export async function followStart(stream: AsyncIterable<ServiceStatusUpdate>, view?: LiveView): Promise<StartResult> {
  const latest = new Map<string, ServiceStatusUpdate>();
  let done: ServiceStatusUpdate | undefined;
  for await (const update of stream) {
    if (!update.serviceName) {
      done = update;
      continue;
    }
    latest.set(update.serviceName, update);
    view?.set(update.serviceName, rowOfUpdate(update));
  }
  const outcomes = summarize(latest);
  const failures = outcomes.filter((o) => o.ok === false && o.required).map((o) => ({
    service: o.name,
    reason: o.message || o.status,
  }));
  if (failures.length === 0 && done?.status === "failed") failures.push({ service: "stack", reason: done.message });
  return { outcomes, failures };
}
