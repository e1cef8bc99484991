/**
 * Errors raised by the Docker engine layer and by task executions.
 *
 * Each class carries the facts as fields and the original error as `cause`;
 * the API and CLI map them to codes and hints at their own edge (STYLE.md).
 * @module
 */

/** The Docker engine could not be reached at all (socket missing, refused, or not permitted). */
export class DockerUnavailableError extends Error {
  /** The DOCKER_HOST the engine was dialled at, e.g. `unix:///var/run/docker.sock`. */
  readonly dockerHost: string;
  /** The short reason: `connection refused`, `socket not found`, `permission denied`, ... */
  readonly reason: string;
  /** What the user can do about it. */
  readonly hint: string;

  /** Builds the error from the engine address, the reason and the fix. */
  constructor(
    dockerHost: string,
    reason: string,
    hint: string,
    options?: ErrorOptions,
  ) {
    super(
      `Cannot reach the Docker engine at ${dockerHost}: ${reason}. ${hint}`,
      options,
    );
    this.name = "DockerUnavailableError";
    this.dockerHost = dockerHost;
    this.reason = reason;
    this.hint = hint;
  }
}

/** A Docker engine call failed; `action` says what was attempted (e.g. `start container "abc"`). */
export class DockerError extends Error {
  /** What was attempted, in the words of the message: `create container "dspy-agent-redis"`. */
  readonly action: string;
  /** The engine's HTTP status, when it answered (404 not found, 409 conflict, 500 server error). */
  readonly statusCode?: number;
  /** The engine's own message, when it answered. */
  readonly engineMessage: string;

  /** Builds the error from the action, the engine's status and message. */
  constructor(
    action: string,
    engineMessage: string,
    statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(`Cannot ${action}: ${engineMessage}`, options);
    this.name = "DockerError";
    this.action = action;
    this.statusCode = statusCode;
    this.engineMessage = engineMessage;
  }

  /** True when the engine answered 404 (no such container, image, network or volume). */
  get notFound(): boolean {
    return this.statusCode === 404;
  }
}

/** The `execution` payload of a task does not follow docs/compatibility.md §4. */
export class InvalidExecutionSpecError extends Error {
  /** The offending field, e.g. `command` or `mounts[1].mount_path`. */
  readonly field: string;
  /** Why the value was rejected. */
  readonly reason: string;

  /** Builds the error from the field and the reason. */
  constructor(field: string, reason: string, options?: ErrorOptions) {
    super(`Cannot parse execution spec field "${field}": ${reason}`, options);
    this.name = "InvalidExecutionSpecError";
    this.field = field;
    this.reason = reason;
  }
}

/** A service name was asked for that is neither defined nor has a container. */
export class ServiceNotFoundError extends Error {
  /** The unknown service name. */
  readonly service: string;

  /** Builds the error from the unknown service name. */
  constructor(service: string, options?: ErrorOptions) {
    super(
      `Cannot find service "${service}": it is not defined and has no container`,
      options,
    );
    this.name = "ServiceNotFoundError";
    this.service = service;
  }
}
