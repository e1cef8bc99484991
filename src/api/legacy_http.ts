/**
 * The legacy queue endpoints on the HTTP port (docs/compatibility.md §3), used by
 * operations tooling: `POST /queue/submit` and `GET /queue/status`. The
 * daemon's HTTP server calls {@linkcode handleLegacyRequest} for every
 * request and serves other paths itself.
 *
 * @module
 */

import { encodePayloadValue, InvalidTaskError, type Orchestrator } from "../orchestrator/mod.ts";

/** A request as the HTTP server read it. */
export interface LegacyRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  body?: Uint8Array;
}

/** A JSON answer. */
export interface LegacyResponse {
  status: number;
  body: unknown;
}

/** Answers the legacy queue endpoints; undefined for any other path. */
export async function handleLegacyRequest(
  req: LegacyRequest,
  orchestrator: Orchestrator,
): Promise<LegacyResponse | undefined> {
  const response = await answer(req, orchestrator);
  // A submitted task is durable before the answer says ok.
  await orchestrator.flushed();
  return response;
}

async function answer(req: LegacyRequest, orchestrator: Orchestrator): Promise<LegacyResponse | undefined> {
  if (req.path === "/queue/status") {
    if (req.method !== "GET") return methodNotAllowed("GET");
    const counts = orchestrator.tasks.counts();
    const pending = (counts.pending ?? 0) + (counts.retrying ?? 0) + (counts.running ?? 0);
    const failed = (counts.failed ?? 0) + (counts.cancelled ?? 0) + (counts.timed_out ?? 0);
    const completed = counts.completed ?? 0;
    return {
      status: 200,
      body: {
        pending,
        done: completed + failed,
        submitted: pending + completed + failed,
        processed: completed + failed,
        completed,
      },
    };
  }
  if (req.path === "/queue/submit") {
    if (req.method !== "POST") return methodNotAllowed("POST");
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(new TextDecoder().decode(req.body ?? new Uint8Array()));
      if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error("not an object");
    } catch {
      return { status: 400, body: { ok: false, error: "Cannot submit task: the body is not a JSON object" } };
    }
    const payload: Record<string, string> = {};
    const rawPayload = input.payload ?? {};
    if (typeof rawPayload !== "object" || rawPayload === null || Array.isArray(rawPayload)) {
      return { status: 400, body: { ok: false, error: "Cannot submit task: payload must be a JSON object" } };
    }
    for (const [key, value] of Object.entries(rawPayload)) payload[key] = encodePayloadValue(value);
    try {
      const { task } = await orchestrator.tasks.submit({
        id: typeof input.id === "string" ? input.id : undefined,
        class: typeof input.class === "string" ? input.class : undefined,
        priority: typeof input.priority === "number" ? input.priority : undefined,
        payload,
      });
      return { status: 200, body: { ok: true, id: task.id } };
    } catch (error) {
      if (error instanceof InvalidTaskError) return { status: 400, body: { ok: false, error: error.message } };
      if (error instanceof Error && error.name === "SlurmUnavailableError") {
        return { status: 412, body: { ok: false, error: error.message } };
      }
      throw error;
    }
  }
  return undefined;
}

function methodNotAllowed(allowed: string): LegacyResponse {
  return { status: 405, body: { ok: false, error: `Cannot serve the request: use ${allowed}` } };
}
