/**
 * Help texts, built from the command table.
 *
 * @module
 */

import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./commands.ts";

/** The text of `dspy-agent --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "dspy-agent — local infrastructure for DSPy agents: service containers and a task orchestrator",
    "",
    "Usage: dspy-agent COMMAND [OPTIONS]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "  -V, --version       Print the version",
    "",
    "Run `dspy-agent COMMAND --help` for a command's options.",
    "Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 daemon not running,",
    "4 address in use, 5 Docker unavailable, 6 a required service failed, 130 interrupted.",
  ].join("\n");
}

/** The text of `dspy-agent COMMAND --help`. */
export function commandHelp(command: CommandSpec): string {
  return [
    command.summary,
    "",
    `Usage: dspy-agent ${command.usage}`,
    ...(command.description ? ["", ...command.description] : []),
    ...(Object.keys(command.options).length ? ["", "Options:", ...optionLines(command.options)] : []),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
  ].join("\n");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;
    return `  ${flag.padEnd(18)}  ${o.help}`;
  });
}
