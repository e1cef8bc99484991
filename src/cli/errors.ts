/**
 * The one place where every failure the CLI can meet becomes a message, a
 * hint and an exit code (issue 5 §7). Commands throw; `main` calls
 * {@linkcode describeFailure} once and prints the result.
 *
 * @module
 */

/** The exit codes of `dspy-agent`, listed in the README. */
export const ExitCode = {
  /** Everything worked. */
  ok: 0,
  /** A failure without a more specific code. */
  failure: 1,
  /** Bad command line or bad configuration. */
  usage: 2,
  /** The daemon is not running or cannot be reached. */
  daemonNotRunning: 3,
  /** An address the daemon needs is in use. */
  addressInUse: 4,
  /** The Docker engine is unavailable. */
  dockerUnavailable: 5,
  /** A required service failed to become healthy. */
  serviceFailed: 6,
  /** Interrupted by Ctrl-C (SIGINT). */
  interrupted: 130,
} as const;

/** One of the values of {@linkcode ExitCode}. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** What the CLI prints for a failure and the code it exits with. */
export interface FailureReport {
  /** One line saying what failed. */
  message: string;
  /** One line saying what to do about it, if anything helps. */
  hint?: string;
  /** The process exit code. */
  exitCode: number;
  /** More lines worth showing (for example a daemon's last log lines). */
  details?: string[];
}

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
    const last = facts.logTail.at(-1);
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

/** The exit codes `dspy-agent serve` uses, mapped back by `start` when the daemon it spawned exits. */
const serveExitCodes: Record<number, { hint: string; exitCode: number }> = {
  2: { hint: "Run `dspy-agent config validate` to see every problem.", exitCode: ExitCode.usage },
  3: { hint: "Another daemon holds the lock: run `dspy-agent status`.", exitCode: ExitCode.daemonNotRunning },
  4: {
    hint: "Stop what uses the port, or set ORCHESTRATOR_GRPC_ADDR / ORCHESTRATOR_HTTP_ADDR.",
    exitCode: ExitCode.addressInUse,
  },
  5: {
    hint: "Start Docker (`dockerd`) or set DOCKER_HOST; `dspy-agent doctor` checks it.",
    exitCode: ExitCode.dockerUnavailable,
  },
};

/** Maps any thrown value to what the CLI prints and the code it exits with. */
export function describeFailure(error: unknown): FailureReport {
  if (!(error instanceof Error)) return { message: String(error), exitCode: ExitCode.failure };
  switch (error.name) {
    case "UsageError": {
      const command = (error as UsageError).command;
      return {
        message: error.message,
        hint: `Run \`dspy-agent ${command ? command + " " : ""}--help\` for usage.`,
        exitCode: ExitCode.usage,
      };
    }
    case "ConfigError":
      return {
        message: error.message,
        hint: "Run `dspy-agent config validate` to see every problem.",
        exitCode: ExitCode.usage,
      };
    case "ConfigErrors": {
      const all = (error as Error & { errors: Error[] }).errors ?? [];
      return {
        message: all[0]?.message ?? error.message,
        details: all.slice(1).map((e) => e.message),
        hint: "Run `dspy-agent config validate` to see every problem.",
        exitCode: ExitCode.usage,
      };
    }
    case "DaemonNotRunningError":
      return { message: error.message, hint: "Start it with `dspy-agent start`.", exitCode: ExitCode.daemonNotRunning };
    case "DaemonExitedError": {
      const e = error as DaemonExitedError;
      const known = e.exitCode === undefined ? undefined : serveExitCodes[e.exitCode];
      return {
        message: e.message,
        details: e.logTail.length > 1 ? e.logTail.slice(-10) : undefined,
        hint: known?.hint ?? `See the daemon log: ${e.logFile}`,
        exitCode: known?.exitCode ?? ExitCode.daemonNotRunning,
      };
    }
    case "DaemonAlreadyRunningError":
      return {
        message: error.message.split(". ")[0],
        hint: "Run `dspy-agent status`, or `dspy-agent stop` first.",
        exitCode: ExitCode.daemonNotRunning,
      };
    case "DaemonTimeoutError":
      return {
        message: error.message,
        hint: `See the daemon log: ${(error as DaemonTimeoutError).logFile}`,
        exitCode: ExitCode.daemonNotRunning,
      };
    case "ServicesFailedError": {
      const { failures } = error as ServicesFailedError;
      const one = failures.length === 1 && failures[0].service !== "stack" ? failures[0].service : "SERVICE";
      return {
        message: error.message,
        details: failures.length > 1 ? failures.map((f) => `${f.service}: ${f.reason}`) : undefined,
        hint: `Run \`dspy-agent logs ${one}\` to see why.`,
        exitCode: ExitCode.serviceFailed,
      };
    }
    case "DockerUnavailableError":
      return {
        message: error.message,
        hint: "Start Docker (`dockerd`) or set DOCKER_HOST; `dspy-agent doctor` checks it.",
        exitCode: ExitCode.dockerUnavailable,
      };
    case "CommandFailedError": {
      const e = error as CommandFailedError;
      return { message: e.message, hint: e.hint, exitCode: e.exitCode };
    }
    case "InterruptedError":
    case "AbortError":
      return { message: "Interrupted", exitCode: ExitCode.interrupted };
    case "DaemonCallError":
      return describeCallError(error as Error & { code: string; rawMessage: string });
    case "AddrInUse":
      return {
        message: `Cannot listen: ${error.message}`,
        hint: "Stop what uses the port, or set ORCHESTRATOR_GRPC_ADDR / ORCHESTRATOR_HTTP_ADDR.",
        exitCode: ExitCode.addressInUse,
      };
    case "AddressInUseError":
      return {
        message: error.message.split(". ")[0],
        hint: "Stop what uses the address, or set ORCHESTRATOR_GRPC_ADDR / ORCHESTRATOR_HTTP_ADDR.",
        exitCode: ExitCode.addressInUse,
      };
    case "PortInUseError":
      return {
        message: error.message,
        hint: "Stop what uses the port, or change it in config.toml.",
        exitCode: ExitCode.addressInUse,
      };
    case "PermissionDenied":
    case "NotCapable":
      return {
        message: error.message,
        hint: "Check the permissions of the state folder and the Docker socket.",
        exitCode: ExitCode.failure,
      };
  }
  return { message: error.message, exitCode: ExitCode.failure };
}

function describeCallError(error: Error & { code: string; rawMessage: string }): FailureReport {
  const message = error.rawMessage;
  // Docker failures reach the CLI as UNAVAILABLE with the engine in the message (src/api/errors.ts).
  if (error.code === "unavailable" && /docker/i.test(message)) {
    return {
      message,
      hint: "Start Docker (`dockerd`) or set DOCKER_HOST; `dspy-agent doctor` checks it.",
      exitCode: ExitCode.dockerUnavailable,
    };
  }
  switch (error.code) {
    case "unavailable":
      return {
        message: `Cannot reach the daemon: ${message}`,
        hint: "Start it with `dspy-agent start`.",
        exitCode: ExitCode.daemonNotRunning,
      };
    case "canceled":
      return { message: "Interrupted", exitCode: ExitCode.interrupted };
    case "invalid_argument":
    case "not_found":
      return { message, exitCode: ExitCode.usage };
    case "unauthenticated":
      return { message, hint: "Set DSPY_AGENT_TOKEN to the daemon's <home>/auth.token.", exitCode: ExitCode.failure };
    case "deadline_exceeded":
      return { message: `The daemon did not answer in time: ${message}`, exitCode: ExitCode.failure };
    case "unimplemented":
      return {
        message: `The daemon does not support this: ${message}`,
        hint: "Restart it with the same version: `dspy-agent stop && dspy-agent start`.",
        exitCode: ExitCode.failure,
      };
  }
  return { message, exitCode: ExitCode.failure };
}
