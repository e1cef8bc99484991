/**
 * The one place where every failure the CLI can meet becomes a message, a
 * hint and an exit code. Commands throw; `main` calls
 * {@linkcode describeFailure} once and prints the result.
 *
 * @module
 */

import type {
  CommandFailedError,
  DaemonExitedError,
  DaemonTimeoutError,
  ServicesFailedError,
  UsageError,
} from "./error_classes.ts";

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

export {
  CommandFailedError,
  DaemonExitedError,
  DaemonNotRunningError,
  DaemonTimeoutError,
  DockerUnavailableError,
  InterruptedError,
  ServicesFailedError,
  UsageError,
} from "./error_classes.ts";

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
        // A known exit code says it all in one line; otherwise the log tail helps.
        details: known || e.logTail.length <= 1 ? undefined : e.logTail.slice(-10),
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

function describeCallError(error: Error & { code: string; rawMessage: string; reason?: string }): FailureReport {
  const message = error.rawMessage;
  // The daemon names the cause in an ErrorInfo detail (src/api/errors.ts); the message text is for people.
  if (error.reason === "DockerUnavailableError") {
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
