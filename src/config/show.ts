/**
 * The effective settings as people see them (`dspy-agent config show`, the dashboard's config page): one row per
 * setting with its value as TOML text and where it came from, secrets masked (docs/security.md).
 *
 * @module
 */
import { maskUrlPassword } from "./_values.ts";
import { SETTINGS } from "./load.ts";
import type { LoadedConfig } from "./load.ts";
import type { Config, ConfigSource } from "./types.ts";

/** One setting as shown. */
export interface ShownSetting {
  /** The config-file key, for example `grpc_addr` or `services.redis`. */
  key: string;
  /** The effective value as TOML text, secrets masked. */
  value: string;
  /** The layer that set it. */
  source: ConfigSource;
  /** Which file or variable of that layer: the config file's path, the environment variable's name; "" otherwise. */
  origin: string;
}

/**
 * The configuration as shown anywhere: the store URL's password replaced by `****` (it may come from the
 * environment). A store password file is shown by its path; its contents are never read here.
 */
export function maskedConfig(config: Config): Config {
  return config.storeUrl ? { ...config, storeUrl: maskUrlPassword(config.storeUrl) } : config;
}

/** Every setting of a loaded configuration, in `config show`'s order, masked by {@linkcode maskedConfig}. */
export function shownSettings(loaded: LoadedConfig): ShownSetting[] {
  const config = maskedConfig(loaded.config);
  const rows: ShownSetting[] = [];
  const add = (key: string, value: string, fallback: ConfigSource, env?: string) => {
    const source = loaded.provenance[key] ?? fallback;
    const origin = source === "file" ? config.configFile : source === "env" ? env ?? "" : "";
    rows.push({ key, value, source, origin });
  };
  for (const s of SETTINGS) {
    add(s.key, toToml((config as unknown as Record<string, unknown>)[s.field]), "default", s.env);
  }
  for (const [name, service] of Object.entries(config.services)) add(`services.${name}`, toToml(service), "default");
  for (const [name, port] of Object.entries(config.ports)) add(`ports.${name}`, String(port), "default");
  // Task classes have no built-in table entries: any that exist were written in the file.
  for (const [name, cls] of Object.entries(config.tasks.classes)) add(`tasks.classes.${name}`, toToml(cls), "file");
  return rows;
}

/** A value as TOML text: strings quoted, lists and tables inline. */
export function toToml(value: unknown): string {
  if (value === undefined) return '""';
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toToml).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{ ${
      Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${toToml(v)}`).join(", ")
    } }`;
  }
  return String(value);
}
