/**
 * The lifecycle of one service as data: a tagged union and a pure transition function.
 *
 * @module
 */

/** Where a service is in its lifecycle. */
export type ServiceState =
  | { kind: "stopped" }
  | { kind: "waiting" }
  | { kind: "pulling" }
  | { kind: "creating" }
  | { kind: "starting"; containerId: string }
  | { kind: "probing"; containerId: string }
  | { kind: "running"; containerId: string; since: number }
  | { kind: "unhealthy"; containerId: string; reason: string }
  | { kind: "restarting"; containerId: string; attempt: number }
  | { kind: "stopping"; containerId: string }
  | { kind: "failed"; reason: string; containerId?: string; logTail: string[] }
  | { kind: "skipped"; reason: string };

/** Something that happens to a service. */
export type ServiceEvent =
  | { type: "wait" }
  | { type: "pull" }
  | { type: "create" }
  | { type: "created"; containerId: string }
  | { type: "probe" }
  | { type: "healthy"; at: number }
  | { type: "adopt"; containerId: string; at: number }
  | { type: "unhealthy"; reason: string }
  | { type: "died"; reason: string }
  | { type: "restart"; attempt: number }
  | { type: "fail"; reason: string; logTail?: string[] }
  | { type: "skip"; reason: string }
  | { type: "stop" }
  | { type: "stopped" };

/** A status value of the API (docs/compatibility.md §1): starting, running, unhealthy, stopped or failed. */
export type ServiceStatusValue = "starting" | "running" | "unhealthy" | "stopped" | "failed";

/** An event that is not allowed in the current state. */
export class IllegalServiceTransitionError extends Error {
  /** The service. */
  readonly service: string;
  /** The state kind it was in. */
  readonly from: ServiceState["kind"];
  /** The event type. */
  readonly event: ServiceEvent["type"];

  /** Creates the error. */
  constructor(facts: { service: string; from: ServiceState["kind"]; event: ServiceEvent["type"] }) {
    super(`Cannot apply "${facts.event}" to service "${facts.service}": it is ${facts.from}`);
    this.name = "IllegalServiceTransitionError";
    this.service = facts.service;
    this.from = facts.from;
    this.event = facts.event;
  }
}

type Kind = ServiceState["kind"];
const ANY: readonly Kind[] = [
  "stopped",
  "waiting",
  "pulling",
  "creating",
  "starting",
  "probing",
  "running",
  "unhealthy",
  "restarting",
  "stopping",
  "failed",
  "skipped",
];
const IDLE: readonly Kind[] = ["stopped", "failed", "skipped"];
const LIVE: readonly Kind[] = ["starting", "probing", "running", "unhealthy", "restarting"];

/** Which state kinds each event may be applied in. */
const ALLOWED: Record<ServiceEvent["type"], readonly Kind[]> = {
  wait: [...IDLE, "running", "unhealthy"],
  pull: ["waiting"],
  create: ["waiting", "pulling"],
  created: ["creating", "restarting"],
  probe: ["starting", "restarting", "unhealthy", "waiting"],
  healthy: ["probing", "unhealthy", "running"],
  adopt: ["waiting", "stopped", "failed", "unhealthy"],
  unhealthy: ["probing", "running", "unhealthy"],
  died: LIVE,
  restart: [...LIVE, "failed", "stopped"],
  fail: ["waiting", "pulling", "creating", ...LIVE, "stopping"],
  skip: ["waiting", "starting", ...IDLE],
  stop: ANY,
  stopped: ANY,
};

/** Applies an event; throws {@linkcode IllegalServiceTransitionError} when the state does not allow it. */
export function transition(service: string, state: ServiceState, event: ServiceEvent): ServiceState {
  if (!ALLOWED[event.type].includes(state.kind)) {
    throw new IllegalServiceTransitionError({ service, from: state.kind, event: event.type });
  }
  const containerId = "containerId" in state ? state.containerId : undefined;
  switch (event.type) {
    case "wait":
      return { kind: "waiting" };
    case "pull":
      return { kind: "pulling" };
    case "create":
      return { kind: "creating" };
    case "created":
      return { kind: "starting", containerId: event.containerId };
    case "probe":
      return containerId ? { kind: "probing", containerId } : illegal(service, state, event);
    case "healthy":
      return { kind: "running", containerId: containerId!, since: state.kind === "running" ? state.since : event.at };
    case "adopt":
      return { kind: "running", containerId: event.containerId, since: event.at };
    case "unhealthy":
      return { kind: "unhealthy", containerId: containerId!, reason: event.reason };
    case "died":
      return { kind: "failed", reason: event.reason, containerId, logTail: [] };
    case "restart":
      return containerId ? { kind: "restarting", containerId, attempt: event.attempt } : illegal(service, state, event);
    case "fail":
      return { kind: "failed", reason: event.reason, containerId, logTail: event.logTail ?? [] };
    case "skip":
      return { kind: "skipped", reason: event.reason };
    case "stop":
      return containerId ? { kind: "stopping", containerId } : { kind: "stopped" };
    case "stopped":
      return { kind: "stopped" };
  }
}

/** Maps a state to the API's status value. */
export function statusOf(state: ServiceState): ServiceStatusValue {
  switch (state.kind) {
    case "running":
      return "running";
    case "unhealthy":
      return "unhealthy";
    case "stopped":
    case "stopping":
      return "stopped";
    case "failed":
    case "skipped":
      return "failed";
    default:
      return "starting";
  }
}

function illegal(service: string, state: ServiceState, event: ServiceEvent): never {
  throw new IllegalServiceTransitionError({ service, from: state.kind, event: event.type });
}
