/**
 * What every command receives: its parsed arguments, the output, the
 * environment, a signal that Ctrl-C aborts, and a lazy loader for the
 * configuration (so `--help` and `version` never read or parse it).
 *
 * @module
 */

import type { Output } from "./output/terminal.ts";
import type { Config, ConfigFlags, LoadedConfig } from "../config/mod.ts";

/** The options every command accepts. */
export interface GlobalOptions {
  /** `--config FILE`. */
  config?: string;
  /** `--debug`: print stack traces. */
  debug: boolean;
  /** `--json`: machine-readable output. */
  json: boolean;
  /** `--no-color`. */
  noColor: boolean;
}

/** The environment variables the CLI reads (the `env` list of the permission set in deno.json). */
export const ENV_NAMES = [
  "HOME",
  "USERPROFILE",
  "PATH",
  "TMPDIR",
  "TERM",
  "NO_COLOR",
  "FORCE_COLOR",
  "SHELL",
  "DSPY_AGENT_HOME",
  "DSPY_AGENT_CONFIG",
  "DSPY_AGENT_TOKEN",
  "DSPY_AGENT_DEBUG",
  "DSPY_AGENT_CLI_PATH",
  "DSPY_AGENT_LOG_FILE",
  "DSPY_AGENT_STORE_URL",
  "DSPY_AGENT_STORE_PASSWORD_FILE",
  "ORCHESTRATOR_GRPC_ADDR",
  "ORCHESTRATOR_HTTP_ADDR",
  "ENV_MANAGER_ADDR",
  "ENV_MANAGER_MAX_CONCURRENT",
  "ENV_MANAGER_HEALTH_TIMEOUT",
  "ENV_RUNNER_URL",
  "RUST_LOG",
  "DOCKER_HOST",
  "DOCKER_TLS_VERIFY",
  "DOCKER_CERT_PATH",
  "DOCKER_CLIENT_TIMEOUT",
  "BROWSER",
  "DISPLAY",
  "WAYLAND_DISPLAY",
] as const;

/** Reads the environment variables the CLI uses (Deno.env.toObject needs every variable). */
export function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of ENV_NAMES) {
    try {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    } catch {
      // Not granted: treated as unset.
    }
  }
  return env;
}

/** The inputs of one command run. */
export interface CommandContext {
  /** The command's name, e.g. `start` or `config`. */
  command: string;
  /** Options common to every command. */
  globals: GlobalOptions;
  /** The command's own option values (from node:util parseArgs). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments after the command name. */
  positionals: string[];
  /** Where output goes. */
  output: Output;
  /** The environment variables read. */
  env: Record<string, string | undefined>;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
  /** Loads the configuration once (with `--config` and the given flags). */
  loadConfig(flags?: ConfigFlags): Promise<LoadedConfig>;
}

/** The configuration of a context, loaded on first use. */
export async function configOf(ctx: CommandContext, flags?: ConfigFlags): Promise<Config> {
  return (await ctx.loadConfig(flags)).config;
}
