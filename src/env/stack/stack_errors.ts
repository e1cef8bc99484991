/**
 * Errors of the service stack: facts as fields, the original as `cause`.
 *
 * @module
 */

/** A service name that the registry does not define. */
export class UnknownServiceError extends Error {
  /** The unknown name. */
  readonly service: string;
  /** The names that are defined. */
  readonly known: string[];

  /** Creates the error; the message names the service and the known ones. */
  constructor(facts: { service: string; known: string[] }, options?: ErrorOptions) {
    super(`Unknown service "${facts.service}": defined services are ${facts.known.join(", ")}`, options);
    this.name = "UnknownServiceError";
    this.service = facts.service;
    this.known = facts.known;
  }
}

/** An image that is absent from the engine and cannot be pulled. */
export class ImageNotFoundError extends Error {
  /** The service that needs the image. */
  readonly service: string;
  /** The image reference. */
  readonly image: string;

  /** Creates the error; the message says how to provide the image. */
  constructor(facts: { service: string; image: string; hint?: string }, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    const hint = facts.hint ??
      `pull it where a registry is reachable and "docker load" it, build it with "docker build -t ${facts.image} .", or set services.${facts.service}.image in config.toml`;
    super(
      `Cannot start service "${facts.service}": image "${facts.image}" is not present and cannot be pulled${reason}. To provide it, ${hint}`,
      options,
    );
    this.name = "ImageNotFoundError";
    this.service = facts.service;
    this.image = facts.image;
  }
}

/** A service that did not become healthy; carries the container's last log lines. */
export class ServiceStartError extends Error {
  /** The service. */
  readonly service: string;
  /** Why it failed, without the service name. */
  readonly reason: string;
  /** The failed container's last log lines. */
  readonly logTail: string[];

  /** Creates the error; the message reads `Cannot start service "x": reason`. */
  constructor(facts: { service: string; reason: string; logTail?: string[] }, options?: ErrorOptions) {
    super(`Cannot start service "${facts.service}": ${facts.reason}`, options);
    this.name = "ServiceStartError";
    this.service = facts.service;
    this.reason = facts.reason;
    this.logTail = facts.logTail ?? [];
  }
}
