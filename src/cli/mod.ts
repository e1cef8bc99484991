/**
 * The `dspy-agent` command line: parses arguments, runs one command and maps
 * any failure to a message, a hint and an exit code (see `errors.ts`).
 *
 * This module stays light: it imports no Connect, protobuf or Docker code, so
 * `--help` and `version` answer at once. Commands load on demand.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { COMMANDS, type CommandSpec, findCommand, GLOBAL_OPTIONS, type OptionSpec } from "./commands.ts";
import type { CommandContext, GlobalOptions } from "./context.ts";
import { ENV_NAMES, readEnv } from "./context.ts";
import { describeFailure, ExitCode, InterruptedError, UsageError } from "./errors.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { createOutput, type Output } from "./output/terminal.ts";
import { LIBRARY_ENV_NAMES, scopeProcessEnv } from "./process_env.ts";
import type { ConfigFlags, LoadedConfig } from "../config/mod.ts";

export { describeFailure, ExitCode } from "./errors.ts";
export type { FailureReport } from "./errors.ts";

/** Runs the CLI with the given arguments and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const env = readEnv();
  // Before any npm library loads (the daemon's modules load lazily, below).
  scopeProcessEnv([...ENV_NAMES, ...LIBRARY_ENV_NAMES]);
  const split = splitCommand(args);
  const quickJson = args.includes("--json");
  const output = createOutput({ json: quickJson, noColor: args.includes("--no-color"), env });
  const debug = args.includes("--debug") || (env.DSPY_AGENT_DEBUG ?? "") !== "";
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) Deno.exit(ExitCode.interrupted);
    controller.abort(new InterruptedError());
  };
  let listening = false;
  try {
    if (split.command === undefined) {
      if (args.includes("--version") || args.includes("-V")) {
        return await (await findCommand("version")!.load()).run(bareContext("version", output, env, controller.signal));
      }
      if (args.length > 0 && !args.includes("--help") && !args.includes("-h")) {
        throw new UsageError(`Unknown option "${args[0]}"`);
      }
      output.line(mainHelp());
      return args.length === 0 ? ExitCode.usage : ExitCode.ok;
    }
    if (split.command === "help") {
      const topic = split.rest.find((a) => !a.startsWith("-"));
      const spec = topic ? findCommand(topic) : undefined;
      output.line(spec ? commandHelp(spec) : mainHelp());
      return ExitCode.ok;
    }
    const spec = findCommand(split.command);
    if (!spec) throw new UsageError(`Unknown command "${split.command}"${suggest(split.command)}`);
    const parsed = parseCommandArgs(spec, split.rest);
    if (parsed.values.help) {
      output.line(commandHelp(spec));
      return ExitCode.ok;
    }
    const globals: GlobalOptions = {
      config: parsed.values.config as string | undefined,
      debug,
      json: parsed.values.json === true,
      noColor: parsed.values["no-color"] === true,
    };
    if (spec.name !== "serve") {
      Deno.addSignalListener("SIGINT", onInterrupt);
      listening = true;
    }
    const module = await spec.load();
    const ctx = createContext({ spec, globals, parsed, output, env, signal: controller.signal });
    return await module.run(ctx);
  } catch (error) {
    const failure = controller.signal.aborted ? describeFailure(new InterruptedError()) : describeFailure(error);
    printFailure(output, failure, debug ? error : undefined);
    return failure.exitCode;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/** Splits `[global options] COMMAND rest` (global options may also follow the command). */
function splitCommand(args: string[]): { command?: string; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return { rest: args.slice(i + 1) };
    if (!arg.startsWith("-")) return { command: arg, rest: [...args.slice(0, i), ...args.slice(i + 1)] };
    if (arg === "--config" || arg === "-c") i++; // its value
  }
  return { rest: args };
}

function parseCommandArgs(spec: CommandSpec, rest: string[]) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...spec.options };
  for (const [name, o] of Object.entries(all)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  options.json ??= { type: "boolean" };
  try {
    return parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error
      ? error.message.split("\n")[0].replace(/\. To specify.*$/, "")
      : String(error);
    throw new UsageError(message, { command: spec.name, cause: error });
  }
}

function createContext(parts: {
  spec: CommandSpec;
  globals: GlobalOptions;
  parsed: ReturnType<typeof parseCommandArgs>;
  output: Output;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
}): CommandContext {
  let loaded: Promise<LoadedConfig> | undefined;
  return {
    command: parts.spec.name,
    globals: parts.globals,
    values: parts.parsed.values,
    positionals: parts.parsed.positionals,
    output: parts.output,
    env: parts.env,
    signal: parts.signal,
    loadConfig(flags?: ConfigFlags) {
      loaded ??= import("../config/mod.ts").then((m) =>
        m.loadConfig({ env: parts.env, configFile: parts.globals.config, flags })
      );
      return loaded;
    },
  };
}

function bareContext(
  command: string,
  output: Output,
  env: Record<string, string | undefined>,
  signal: AbortSignal,
): CommandContext {
  return {
    command,
    globals: { debug: false, json: output.json, noColor: false },
    values: {},
    positionals: [],
    output,
    env,
    signal,
    loadConfig: () => import("../config/mod.ts").then((m) => m.loadConfig({ env })),
  };
}

function printFailure(output: Output, failure: ReturnType<typeof describeFailure>, error: unknown): void {
  const c = output.errorColors;
  output.error(`${c.red("Error:")} ${failure.message}`);
  for (const line of failure.details ?? []) output.error(`  ${line}`);
  if (failure.hint) output.error(`${c.dim("Hint:")} ${failure.hint}`);
  if (output.json && !output.wroteJson()) {
    output.writeJson({ error: { message: failure.message, hint: failure.hint, exitCode: failure.exitCode } });
  }
  for (let e = error; e instanceof Error; e = e.cause) output.error(c.dim(e.stack ?? String(e)));
}

function suggest(name: string): string {
  const close = COMMANDS.find((c) => c.name.startsWith(name.slice(0, 2)));
  return close ? `: did you mean "${close.name}"?` : "";
}
