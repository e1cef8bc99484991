/**
 * Loading the effective configuration: defaults ← config.toml ← environment ← flags, with where each value came
 * from.
 *
 * @module
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { locateKey } from "./_locate.ts";
import { defaultConfig, joinPath } from "./defaults.ts";
import { ConfigError, ConfigErrors } from "./errors.ts";
import { type FileSettings, LOG_LEVELS, parseAddr, readSettings } from "./schema.ts";
import { maskUrlPassword, STORE_URL } from "./_values.ts";
import type { Config, ConfigSource } from "./types.ts";

/** The settings that environment variables and flags may set, by their config-file key. */
export const SETTINGS = [
  { key: "workspace", field: "workspace", env: undefined },
  { key: "grpc_addr", field: "grpcAddr", env: "ORCHESTRATOR_GRPC_ADDR" },
  { key: "http_addr", field: "httpAddr", env: "ORCHESTRATOR_HTTP_ADDR" },
  { key: "docker_host", field: "dockerHost", env: "DOCKER_HOST" },
  { key: "gpu", field: "gpu", env: undefined },
  {
    key: "max_concurrent",
    field: "maxConcurrent",
    env: "ENV_MANAGER_MAX_CONCURRENT",
  },
  {
    key: "health_timeout_seconds",
    field: "healthTimeoutSeconds",
    env: "ENV_MANAGER_HEALTH_TIMEOUT",
  },
  { key: "runner_url", field: "runnerUrl", env: "ENV_RUNNER_URL" },
  { key: "store", field: "storeUrl", env: "DSPY_AGENT_STORE_URL" },
  { key: "store_password_file", field: "storePasswordFile", env: "DSPY_AGENT_STORE_PASSWORD_FILE" },
  { key: "log_level", field: "logLevel", env: "RUST_LOG" },
  { key: "project", field: "project", env: undefined },
] as const;

/** Values given on the command line, which override everything else. */
export type ConfigFlags = Partial<
  Pick<
    Config,
    | "grpcAddr"
    | "httpAddr"
    | "dockerHost"
    | "gpu"
    | "logLevel"
    | "maxConcurrent"
    | "healthTimeoutSeconds"
  >
>;

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** The environment, usually `Deno.env.toObject()`. */
  env: Record<string, string | undefined>;
  /** The file named by `--config`; a missing file is then an error. @default {undefined} */
  configFile?: string;
  /** Command-line overrides. @default {{}} */
  flags?: ConfigFlags;
}

/** The effective configuration and where each setting came from. */
export interface LoadedConfig {
  /** The effective configuration. */
  config: Config;
  /** Config-file key (for example `grpc_addr`, `services.redis`) to the layer that set it. */
  provenance: Record<string, ConfigSource>;
}

/**
 * Loads the configuration: defaults ← config file ← environment ← flags.
 * Throws {@linkcode ConfigErrors} listing every problem, each with file, line and key.
 */
export async function loadConfig(
  options: LoadConfigOptions,
): Promise<LoadedConfig> {
  const env = options.env;
  const home = env.DSPY_AGENT_HOME || joinPath(homeDir(env), ".dspy-agent");
  const explicitFile = options.configFile ??
    (env.DSPY_AGENT_CONFIG || undefined);
  const config = defaultConfig({ home, configFile: explicitFile });
  const provenance: Record<string, ConfigSource> = {};
  for (const s of SETTINGS) provenance[s.key] = "default";

  const text = await readOptional(
    config.configFile,
    explicitFile !== undefined,
  );
  if (text !== undefined) {
    const settings = parseConfigText(text, config.configFile);
    Object.assign(config, settings);
    for (const s of SETTINGS) {
      if (settings[s.field] !== undefined) provenance[s.key] = "file";
    }
    for (const name of Object.keys(settings.services ?? {})) {
      provenance[`services.${name}`] = "file";
    }
    for (const name of Object.keys(settings.ports ?? {})) {
      provenance[`ports.${name}`] = "file";
    }
  }

  const errors = applyEnv(config, env, provenance);
  for (const [field, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    const setting = SETTINGS.find((s) => s.field === field);
    (config as unknown as Record<string, unknown>)[field] = value;
    if (setting) provenance[setting.key] = "flag";
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return { config, provenance };
}

/** Parses config-file text into settings; throws {@linkcode ConfigErrors} with each problem located. */
export function parseConfigText(text: string, file: string): FileSettings {
  const errors = checkConfigText(text, file);
  if (errors.length > 0) throw new ConfigErrors(errors);
  return readSettings(parseToml(text) as Record<string, unknown>).settings;
}

/** Returns every problem in config-file text (empty when it is valid). */
export function checkConfigText(text: string, file: string): ConfigError[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const detail = `malformed TOML: ${err.message.split("\n")[0]}`;
      return [
        new ConfigError(detail, { file, line: err.line }, { cause: err }),
      ];
    }
    throw err;
  }
  return readSettings(doc).problems.map((p) =>
    new ConfigError(p.detail, {
      file,
      line: locateKey(text, p.path),
      key: p.path.join("."),
    })
  );
}

/** Reads a config file and returns every problem in it; a missing file is one problem. */
export async function validateConfigFile(file: string): Promise<ConfigError[]> {
  try {
    return checkConfigText(await Deno.readTextFile(file), file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return [new ConfigError("the file does not exist", { file })];
    }
    throw err;
  }
}

function applyEnv(
  config: Config,
  env: Record<string, string | undefined>,
  provenance: Record<string, ConfigSource>,
) {
  const errors: ConfigError[] = [];
  const set = (key: string, name: string, value: unknown) => {
    (config as unknown as Record<string, unknown>)[
      SETTINGS.find((s) => s.key === key)!.field
    ] = value;
    provenance[key] = "env";
    void name;
  };
  const bad = (name: string, detail: string) => errors.push(new ConfigError(detail, { key: name }));
  for (
    const [key, name] of [["grpc_addr", "ORCHESTRATOR_GRPC_ADDR"], [
      "http_addr",
      "ORCHESTRATOR_HTTP_ADDR",
    ]]
  ) {
    const v = env[name];
    if (!v) continue;
    const a = parseAddr(v);
    if (a) set(key, name, a);
    else {bad(
        name,
        `environment variable ${name}="${v}" is not an address of the form HOST:PORT`,
      );}
  }
  if (env.DOCKER_HOST) set("docker_host", "DOCKER_HOST", env.DOCKER_HOST);
  if (env.ENV_RUNNER_URL) {
    set("runner_url", "ENV_RUNNER_URL", env.ENV_RUNNER_URL);
  }
  if (env.DSPY_AGENT_STORE_URL) {
    if (STORE_URL.test(env.DSPY_AGENT_STORE_URL)) set("store", "DSPY_AGENT_STORE_URL", env.DSPY_AGENT_STORE_URL);
    else {
      bad(
        "DSPY_AGENT_STORE_URL",
        `environment variable DSPY_AGENT_STORE_URL="${
          maskUrlPassword(env.DSPY_AGENT_STORE_URL)
        }" is not a PostgreSQL URL of the form postgres://user@host:port/database`,
      );
    }
  }
  if (env.DSPY_AGENT_STORE_PASSWORD_FILE) {
    set("store_password_file", "DSPY_AGENT_STORE_PASSWORD_FILE", env.DSPY_AGENT_STORE_PASSWORD_FILE);
  }
  for (
    const [key, name, max] of [
      ["max_concurrent", "ENV_MANAGER_MAX_CONCURRENT", 64],
      ["health_timeout_seconds", "ENV_MANAGER_HEALTH_TIMEOUT", 3600],
    ] as const
  ) {
    const v = env[name];
    if (!v) continue;
    // The Rust manager accepted "60s" as well as "60".
    const n = Number(v.replace(/s$/, ""));
    if (Number.isInteger(n) && n >= 1 && n <= max) set(key, name, n);
    else {bad(
        name,
        `environment variable ${name}="${v}" must be a whole number from 1 to ${max}`,
      );}
  }
  if (env.RUST_LOG) {
    // RUST_LOG may be a filter like "info,hyper=warn": the first bare level wins.
    const level = env.RUST_LOG.split(",").map((s) => s.trim().toLowerCase())
      .find((s) => (LOG_LEVELS as readonly string[]).includes(s));
    if (level) set("log_level", "RUST_LOG", level);
  }
  return errors;
}

async function readOptional(
  file: string,
  required: boolean,
): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && !required) return undefined;
    if (err instanceof Deno.errors.NotFound) {
      throw new ConfigErrors([
        new ConfigError(
          "the file does not exist; create it with `dspy-agent config init`",
          { file },
          { cause: err },
        ),
      ]);
    }
    throw new ConfigErrors([
      new ConfigError(`cannot read the file: ${(err as Error).message}`, {
        file,
      }, { cause: err }),
    ]);
  }
}

function homeDir(env: Record<string, string | undefined>): string {
  const home = env.HOME || env.USERPROFILE;
  if (!home) {
    throw new ConfigErrors([
      new ConfigError(
        "neither HOME nor DSPY_AGENT_HOME is set; set DSPY_AGENT_HOME to the state folder",
      ),
    ]);
  }
  return home;
}
