/**
 * The CLI's own failures, each with its facts as fields. `errors.ts` maps
 * them (and every other failure) to a message, a hint and an exit code.
 *
 * @module
 */

/** A command line the CLI cannot understand. */
export class UsageError extends Error {
  /** The command whose usage was wrong, for the hint. */
  readonly command?: string;

  /** Creates the error; `command` names the command for `--help`. */
  constructor(message: string, options?: ErrorOptions & { command?: string }) {
    super(message, options);
    this.name = "UsageError";
    this.command = options?.command;
  }
}

/** No daemon answers at the configured address. */
export class DaemonNotRunningError extends Error {
  /** The gRPC address that did not answer. */
  readonly address: string;

  /** Creates the error for the address that did not answer. */
  constructor(address: string, options?: ErrorOptions) {
    super(`Cannot reach the daemon at ${address}: it is not running`, options);
    this.name = "DaemonNotRunningError";
    this.address = address;
  }
}

/** The daemon process ended while the CLI waited for it. */
export class DaemonExitedError extends Error {
  /** The daemon's exit code, if known. */
  readonly exitCode?: number;
  /** The daemon's last log lines. */
  readonly logTail: string[];
  /** The daemon's log file. */
  readonly logFile: string;
  /** What the CLI waited for: the daemon's start-up or the services' start. */
  readonly stage: "startup" | "services";

  /** Creates the error from what is known about the exit. */
  constructor(
    facts: { exitCode?: number; logTail: string[]; logFile: string; stage?: "startup" | "services" },
    options?: ErrorOptions,
  ) {
    const stage = facts.stage ?? "startup";
    const code = facts.exitCode === undefined ? "" : ` with code ${facts.exitCode}`;
    // `serve` ends with "Error: <reason>" and a hint (src/cli/mod.ts); that reason is the one to show.
    const last = facts.logTail.findLast((l) => l.startsWith("Error: "))?.slice(7) ?? facts.logTail.at(-1);
    super(
      stage === "startup"
        ? `Cannot start the daemon: it exited${code}${last ? `: ${last}` : ""}`
        : `Cannot start services: the daemon stopped while they started${code}`,
      options,
    );
    this.name = "DaemonExitedError";
    this.exitCode = facts.exitCode;
    this.logTail = facts.logTail;
    this.logFile = facts.logFile;
    this.stage = stage;
  }
}

/** The daemon did not become healthy in time. */
export class DaemonTimeoutError extends Error {
  /** Seconds waited. */
  readonly seconds: number;
  /** The daemon's log file. */
  readonly logFile: string;

  /** Creates the error for the time waited. */
  constructor(seconds: number, logFile: string, options?: ErrorOptions) {
    super(`Cannot start the daemon: not healthy after ${seconds} s`, options);
    this.name = "DaemonTimeoutError";
    this.seconds = seconds;
    this.logFile = logFile;
  }
}

/** One or more required services did not become healthy. */
export class ServicesFailedError extends Error {
  /** The services that failed, with their reasons. */
  readonly failures: { service: string; reason: string }[];

  /** Creates the error from the failed services. */
  constructor(failures: { service: string; reason: string }[], options?: ErrorOptions) {
    const [first] = failures;
    super(
      failures.length > 1
        ? `Cannot start ${failures.length} required services: ${failures.map((f) => `"${f.service}"`).join(", ")}`
        : first && /^Cannot /.test(first.reason)
        ? first.reason
        : `Cannot start service "${first?.service}": ${first?.reason ?? "failed"}`,
      options,
    );
    this.name = "ServicesFailedError";
    this.failures = failures;
  }
}

/** The Docker engine cannot be reached. */
export class DockerUnavailableError extends Error {
  /** The engine address tried. */
  readonly dockerHost: string;

  /** Creates the error for the address tried. */
  constructor(dockerHost: string, detail: string, options?: ErrorOptions) {
    super(`Cannot reach the Docker engine at ${dockerHost}: ${detail}`, options);
    this.name = "DockerUnavailableError";
    this.dockerHost = dockerHost;
  }
}

/** A command that ran and reported failure, with the code to exit with. */
export class CommandFailedError extends Error {
  /** The exit code. */
  readonly exitCode: number;
  /** A hint, if one helps. */
  readonly hint?: string;

  /** Creates the error with a message, an exit code and an optional hint. */
  constructor(message: string, exitCode: number, options?: ErrorOptions & { hint?: string }) {
    super(message, options);
    this.name = "CommandFailedError";
    this.exitCode = exitCode;
    this.hint = options?.hint;
  }
}

/** The user pressed Ctrl-C. */
export class InterruptedError extends Error {
  /** Creates the error. */
  constructor() {
    super("Interrupted");
    this.name = "InterruptedError";
  }
}
