/**
 * DOCKER_HOST parsing and the translation of engine failures into domain errors.
 * @module
 */
import { DockerError, DockerUnavailableError } from "../errors.ts";

/** How dockerode dials the engine, derived from a DOCKER_HOST value. */
export type EngineAddress =
  | { kind: "unix"; socketPath: string }
  | { kind: "tcp"; host: string; port: number; protocol: "http" | "https" };

/**
 * Parses DOCKER_HOST syntax: `unix:///path`, a bare `/path`, or `tcp://host:port`.
 *
 * `tcp://` uses plain HTTP unless the port is 2376 (Docker's TLS port); TLS
 * client certificates are not supported yet.
 */
export function parseDockerHost(dockerHost: string): EngineAddress {
  const value = dockerHost.trim();
  if (value.startsWith("/")) return { kind: "unix", socketPath: value };
  if (value.startsWith("unix://")) {
    const socketPath = value.slice("unix://".length);
    if (!socketPath.startsWith("/")) {
      throw new DockerUnavailableError(
        dockerHost,
        "the socket path is not absolute",
        "Set DOCKER_HOST to unix:///path/to/docker.sock.",
      );
    }
    return { kind: "unix", socketPath };
  }
  if (
    value.startsWith("tcp://") || value.startsWith("http://") ||
    value.startsWith("https://")
  ) {
    const url = new URL(value.replace(/^tcp:/, "http:"));
    const port = url.port === "" ? 2375 : Number(url.port);
    const protocol = value.startsWith("https://") || port === 2376 ? "https" : "http";
    return {
      kind: "tcp",
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port,
      protocol,
    };
  }
  throw new DockerUnavailableError(
    dockerHost,
    "only unix:// and tcp:// addresses are supported",
    "Set DOCKER_HOST to unix:///var/run/docker.sock or tcp://HOST:PORT.",
  );
}

const START_HINT =
  "Start Docker (sudo systemctl start docker, or run dockerd) or set DOCKER_HOST to the engine's address.";

/** Connection-level error codes and what to tell the user about each. */
const CONNECTION_FAILURES: Record<string, { reason: string; hint: string }> = {
  ENOENT: { reason: "socket not found", hint: START_HINT },
  ECONNREFUSED: { reason: "connection refused", hint: START_HINT },
  ECONNRESET: { reason: "connection reset", hint: START_HINT },
  EPIPE: { reason: "connection closed", hint: START_HINT },
  ETIMEDOUT: { reason: "connection timed out", hint: START_HINT },
  EHOSTUNREACH: { reason: "host unreachable", hint: START_HINT },
  ENOTFOUND: {
    reason: "host name not found",
    hint: "Check the host name in DOCKER_HOST.",
  },
  EACCES: {
    reason: "permission denied",
    hint: "Add your user to the docker group (sudo usermod -aG docker $USER, then log in again) or set DOCKER_HOST.",
  },
};

interface EngineFailure {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | string | null;
  message?: string;
  name?: string;
}

/** True for the error an aborted call rejects with. */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && err === signal.reason) return true;
  return err instanceof Error &&
    (err.name === "AbortError" || err.name === "TimeoutError");
}

/**
 * Turns whatever dockerode rejected with into a {@linkcode DockerUnavailableError}
 * (the engine could not be reached) or a {@linkcode DockerError} (it answered with a failure).
 * Abort errors pass through untouched so callers can tell cancellation apart.
 */
export function translateEngineError(
  err: unknown,
  action: string,
  dockerHost: string,
): unknown {
  if (err instanceof DockerError || err instanceof DockerUnavailableError) {
    return err;
  }
  if (isAbortError(err)) return err;
  if (err instanceof Deno.errors.NotCapable) {
    return new DockerUnavailableError(
      dockerHost,
      "blocked by the Deno permission set",
      "Allow net access to the engine address (for a socket: unix:/path/to/docker.sock).",
      { cause: err },
    );
  }
  const failure = (err ?? {}) as EngineFailure;
  const connection = failure.code ? CONNECTION_FAILURES[failure.code] : undefined;
  if (connection && failure.statusCode === undefined) {
    return new DockerUnavailableError(
      dockerHost,
      connection.reason,
      connection.hint,
      {
        cause: err,
      },
    );
  }
  if (failure.statusCode !== undefined) {
    return new DockerError(action, engineMessage(failure), failure.statusCode, {
      cause: err,
    });
  }
  return new DockerError(action, failure.message ?? String(err), undefined, {
    cause: err,
  });
}

function engineMessage(failure: EngineFailure): string {
  const json = failure.json;
  if (json && typeof json === "object" && typeof json.message === "string") {
    return json.message;
  }
  if (typeof json === "string" && json.trim() !== "") {
    try {
      const parsed = JSON.parse(json) as { message?: unknown };
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      return json.trim();
    }
  }
  // For streaming calls docker-modem leaves `json` empty and puts the body in the message:
  // "(HTTP code 500) server error - <the engine's message>".
  const detail = /^\(HTTP code \d+\) [^-]*- ([\s\S]+)$/.exec(failure.message ?? "")?.[1]?.trim();
  return detail || (failure.reason ?? failure.message ?? `engine answered ${failure.statusCode}`);
}
