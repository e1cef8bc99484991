/**
 * Configuration: defaults ← `~/.dspy-agent/config.toml` ← environment ← flags.
 *
 * `smol-toml` (npm) stands in for `@std/toml`, which is on JSR and unreachable here.
 * @module
 */
export type {
  Config,
  ConfigSource,
  HealthConfig,
  HealthKind,
  HttpConfig,
  RestartPolicy,
  ServiceConfig,
  TaskClassConfig,
  TasksConfig,
  TlsConfig,
} from "./types.ts";
export { ConfigError, ConfigErrors } from "./errors.ts";
export {
  DEFAULT_DOCKER_HOST,
  DEFAULT_GRPC_ADDR,
  DEFAULT_HTTP_ADDR,
  defaultConfig,
  type DefaultConfigOptions,
  defaultConfigToml,
  joinPath,
} from "./defaults.ts";
export {
  checkConfigText,
  type ConfigFlags,
  loadConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  parseConfigText,
  SETTINGS,
  validateConfigFile,
} from "./load.ts";
export { parseAddr } from "./schema.ts";
export { maskUrlPassword } from "./_values.ts";
export { setConfigValue } from "./edit.ts";
export { maskedConfig, type ShownSetting, shownSettings, toToml } from "./show.ts";
