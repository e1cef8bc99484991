/**
 * `dspy-agent config init|show|get|set|path|validate`: the configuration file
 * and the effective settings with where each came from.
 *
 * @module
 */

import type { CommandContext } from "../context.ts";
import { CommandFailedError, ExitCode, UsageError } from "../errors.ts";
import * as configModule from "../../config/mod.ts";

/** Runs `config SUBCOMMAND`. */
export async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.positionals;
  switch (sub) {
    case "path":
      ctx.output.line(configFilePath(ctx));
      return ExitCode.ok;
    case "init":
      return await init(ctx);
    case "show":
      return await show(ctx);
    case "get":
      return await get(ctx, args);
    case "set":
      return await set(ctx, args);
    case "validate":
      return await validate(ctx);
    case undefined:
      throw new UsageError("Missing subcommand: init, show, get, set, path or validate", { command: "config" });
    default:
      throw new UsageError(`Unknown subcommand "config ${sub}"`, { command: "config" });
  }
}

/** The config file in use: `--config`, else DSPY_AGENT_CONFIG, else `<home>/config.toml` (as loadConfig decides). */
export function configFilePath(ctx: CommandContext): string {
  if (ctx.globals.config) return ctx.globals.config;
  if (ctx.env.DSPY_AGENT_CONFIG) return ctx.env.DSPY_AGENT_CONFIG;
  const home = ctx.env.DSPY_AGENT_HOME || `${ctx.env.HOME || ctx.env.USERPROFILE || "."}/.dspy-agent`;
  return `${home}/config.toml`;
}

async function init(ctx: CommandContext): Promise<number> {
  const file = configFilePath(ctx);
  if (await exists(file) && ctx.values.force !== true) {
    const ask = Deno.stdin.isTerminal() && !ctx.globals.json;
    if (!ask || !confirm(`${file} exists. Overwrite it?`)) {
      throw new CommandFailedError(`Cannot create "${file}": the file exists`, ExitCode.failure, {
        hint: "Run `dspy-agent config init --force` to overwrite it.",
      });
    }
  }
  await Deno.mkdir(dirname(file), { recursive: true });
  await Deno.writeTextFile(file, configModule.defaultConfigToml());
  if (ctx.globals.json) ctx.output.writeJson({ file });
  else ctx.output.line(`${ctx.output.colors.green("✓")} Wrote ${file}`);
  return ExitCode.ok;
}

/** The configuration as shown: secrets masked, as everywhere a setting is shown (docs/security.md). */
async function shownConfig(ctx: CommandContext) {
  const { config, provenance } = await ctx.loadConfig();
  return { config: configModule.maskedConfig(config), provenance };
}

async function show(ctx: CommandContext): Promise<number> {
  const loaded = await ctx.loadConfig();
  if (ctx.globals.json) {
    ctx.output.writeJson({ config: configModule.maskedConfig(loaded.config), provenance: loaded.provenance });
    return ExitCode.ok;
  }
  const c = ctx.output.colors;
  const rows = configModule.shownSettings(loaded);
  ctx.output.line(c.dim(`# ${loaded.config.configFile}`));
  const width = Math.max(...rows.map((r) => r.key.length));
  for (const { key, value, source } of rows) {
    const tag = source === "default" ? c.dim(source) : c.cyan(source);
    ctx.output.line(`${key.padEnd(width)} = ${value}  ${c.dim("#")} ${tag}`);
  }
  return ExitCode.ok;
}

async function get(ctx: CommandContext, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError("Usage: dspy-agent config get KEY", { command: "config" });
  const { config, provenance } = await shownConfig(ctx);
  const value = lookup(config, args[0]);
  if (value === undefined) {
    throw new CommandFailedError(`Cannot get "${args[0]}": no such setting`, ExitCode.usage, {
      hint: "Run `dspy-agent config show` to list the settings.",
    });
  }
  if (ctx.globals.json) ctx.output.writeJson({ key: args[0], value, source: provenance[args[0]] ?? "default" });
  else ctx.output.line(typeof value === "string" ? value : configModule.toToml(value));
  return ExitCode.ok;
}

async function set(ctx: CommandContext, args: string[]): Promise<number> {
  if (args.length !== 2) throw new UsageError("Usage: dspy-agent config set KEY VALUE", { command: "config" });
  const file = configFilePath(ctx);
  const text = await exists(file) ? await Deno.readTextFile(file) : "";
  const updated = configModule.setConfigValue(text, args[0], args[1], file);
  await Deno.mkdir(dirname(file), { recursive: true });
  await Deno.writeTextFile(file, updated);
  if (ctx.globals.json) ctx.output.writeJson({ file, key: args[0], value: args[1] });
  else ctx.output.line(`${ctx.output.colors.green("✓")} ${args[0]} = ${args[1]} in ${file}`);
  return ExitCode.ok;
}

async function validate(ctx: CommandContext): Promise<number> {
  const file = configFilePath(ctx);
  const explicit = ctx.globals.config !== undefined || ctx.env.DSPY_AGENT_CONFIG !== undefined;
  let problems: { message: string; file?: string; line?: number; key?: string; detail?: string }[] = [];
  if (explicit || await exists(file)) problems = await configModule.validateConfigFile(file);
  if (problems.length === 0) {
    // The environment can be wrong too (for example ORCHESTRATOR_GRPC_ADDR=nonsense).
    try {
      const { config } = await ctx.loadConfig();
      // Exactly what `start` and `serve` check before they start anything (TLS, the service registry).
      const { checkStartable } = await import("../../daemon/mod.ts");
      await checkStartable(config);
    } catch (error) {
      const all = (error as { errors?: typeof problems }).errors;
      if (!all) throw error;
      problems = all;
    }
  }
  if (ctx.globals.json) {
    ctx.output.writeJson({
      file,
      valid: problems.length === 0,
      problems: problems.map((p) => ({ file: p.file, line: p.line, key: p.key, message: p.detail ?? p.message })),
    });
  } else if (problems.length === 0) {
    ctx.output.line(
      `${ctx.output.colors.green("✓")} ${explicit || await exists(file) ? file : "No config file; defaults"} valid`,
    );
  } else {
    for (const p of problems) {
      const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ""}: ` : "";
      ctx.output.line(`${ctx.output.colors.red("✗")} ${where}${p.key ? `${p.key}: ` : ""}${p.detail ?? p.message}`);
    }
  }
  if (problems.length > 0) {
    throw new CommandFailedError(
      `Invalid config: ${problems.length} ${problems.length === 1 ? "problem" : "problems"}`,
      ExitCode.usage,
    );
  }
  return ExitCode.ok;
}

function lookup(config: configModule.Config, key: string): unknown {
  const setting = configModule.SETTINGS.find((s) => s.key === key);
  if (setting) return (config as unknown as Record<string, unknown>)[setting.field] ?? "";
  let value: unknown = config;
  for (const part of key.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    const record = value as Record<string, unknown>;
    value = record[part] ?? record[part.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())];
  }
  return value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "." : path.slice(0, i);
}
