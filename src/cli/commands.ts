/**
 * The table of commands: name, summary, usage, options, and a loader that
 * imports the command's module only when it runs. Loaders use static string
 * specifiers so `deno compile` bundles them, and `--help` and `version` stay
 * free of the Connect, protobuf and Docker modules.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";

/** One option of a command, in node:util parseArgs form plus help text. */
export interface OptionSpec {
  /** `string` takes a value, `boolean` is a switch. */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** May be given more than once. */
  multiple?: boolean;
  /** Help text. */
  help: string;
  /** Value placeholder for help, e.g. `S`. */
  value?: string;
}

/** A command module: one exported `run` that returns the exit code. */
export interface CommandModule {
  /** Runs the command. */
  run(ctx: CommandContext): Promise<number>;
}

/** One CLI command. */
export interface CommandSpec {
  /** The word typed after `dspy-agent`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line after `dspy-agent `. */
  usage: string;
  /** Longer help lines. */
  description?: string[];
  /** The command's options. */
  options: Record<string, OptionSpec>;
  /** Subcommand words, for help and completions. */
  subcommands?: string[];
  /** Imports the command's module. */
  load(): Promise<CommandModule>;
}

const timeout: OptionSpec = {
  type: "string",
  value: "S",
  help: "Seconds to wait (default: 120 for start, 10 for stop)",
};
const json: OptionSpec = { type: "boolean", help: "Print JSON" };

/** Every command, in the order `--help` lists them. */
export const COMMANDS: CommandSpec[] = [
  {
    name: "start",
    summary: "Start the daemon (if needed) and the services, then return",
    usage: "start [SERVICE...] [--gpu] [--timeout S] [--foreground] [--json]",
    description: [
      "Starts the daemon in the background when it is not running, waits until it is",
      "healthy, starts every enabled service (or the ones named, with their dependencies)",
      "and exits 0 once every required service is healthy.",
    ],
    options: {
      gpu: { type: "boolean", help: "Also start services that need a GPU" },
      timeout,
      foreground: { type: "boolean", help: "Run the daemon in this process (Ctrl-C stops it)" },
      json,
    },
    load: () => import("./commands/start.ts"),
  },
  {
    name: "workers",
    summary: "List the workers connected to the daemon",
    usage: "workers [--json]",
    description: ["Each worker's name, state, slots in use, the task types it handles and its last heartbeat."],
    options: { json },
    load: () => import("./commands/workers.ts"),
  },
  {
    name: "store",
    summary: "Back up, check or migrate the task store",
    usage: "store backup PATH | store check | store migrate --to URL [--json]",
    description: [
      "backup PATH  copies the task store into a new file, while the daemon runs (online) or not;",
      "             restore by stopping the daemon and putting the copy at <home>/orchestrator.db.",
      "check        checks the store's integrity (SQLite quick_check; PostgreSQL: answers, schema version).",
      "migrate      moves a stopped daemon's SQLite store (tasks, events, workflows) into an empty",
      "             PostgreSQL database: --to postgres://user@host:port/database.",
    ],
    options: { json, to: { type: "string", help: "The PostgreSQL URL `store migrate` moves the store to" } },
    subcommands: ["backup", "check", "migrate"],
    load: () => import("./commands/store.ts"),
  },
  {
    name: "down",
    summary: "Stop and remove this folder's containers and network, then stop the daemon",
    usage: "down [--volumes] [--timeout S]",
    description: [
      "Like stop, and removes the service containers and the stack's network afterwards (never another state",
      "folder's). Named volumes stay unless --volumes is given. Starts the daemon for the job if it is not running.",
    ],
    options: {
      volumes: { type: "boolean", help: "Also remove the stack's named volumes (their data is lost)" },
      timeout,
      json,
    },
    load: () => import("./commands/down.ts"),
  },
  {
    name: "stop",
    summary: "Stop services, then the daemon",
    usage: "stop [SERVICE...] [--timeout S] [--force] [--remove]",
    description: ["Stops services in reverse dependency order, then the daemon unless services were named."],
    options: {
      timeout,
      force: { type: "boolean", help: "Kill what does not stop in time" },
      remove: { type: "boolean", help: "Remove the service containers" },
      json,
    },
    load: () => import("./commands/stop.ts"),
  },
  {
    name: "status",
    summary: "Show the daemon, the services and task counts",
    usage: "status [--json] [--watch]",
    options: {
      json,
      watch: { type: "boolean", short: "w", help: "Refresh every 2 seconds" },
      all: { type: "boolean", short: "a", help: "Also list disabled services" },
    },
    load: () => import("./commands/status.ts"),
  },
  {
    name: "dashboard",
    summary: "Open the dashboard in a browser (and print its URL)",
    usage: "dashboard [--print] [--json]",
    description: [
      "Prints the URL of the dashboard the daemon serves on its HTTP address (the one `start` prints) and opens it",
      "with $BROWSER, `open` (macOS) or `xdg-open` (with a display). Over SSH or without a display it only prints it.",
    ],
    options: { print: { type: "boolean", help: "Only print the URL" }, json },
    load: () => import("./commands/dashboard.ts"),
  },
  {
    name: "logs",
    summary: "Show service logs (or the daemon's)",
    usage: "logs [SERVICE...|daemon] [-f] [-n N] [--since T] [--timestamps]",
    options: {
      follow: { type: "boolean", short: "f", help: "Keep printing new lines (Ctrl-C ends)" },
      tail: { type: "string", short: "n", value: "N", help: "Only the last N lines of each" },
      since: { type: "string", value: "T", help: "Only lines since T (10m, 2h, unix seconds, ISO date)" },
      timestamps: { type: "boolean", short: "t", help: "Show timestamps" },
    },
    load: () => import("./commands/logs.ts"),
  },
  {
    name: "config",
    summary: "Create, show, read, change or validate the configuration",
    usage: "config init|show|get KEY|set KEY VALUE|path|validate [--force] [--json]",
    subcommands: ["init", "show", "get", "set", "path", "validate"],
    options: { force: { type: "boolean", help: "init: overwrite an existing file" }, json },
    load: () => import("./commands/config.ts"),
  },
  {
    name: "pull",
    summary: "Pull the images of the services",
    usage: "pull [SERVICE...] [--json]",
    options: { json },
    load: () => import("./commands/pull.ts"),
  },
  {
    name: "doctor",
    summary: "Check the machine: Docker, ports, GPU, disk, state folder",
    usage: "doctor [--json]",
    options: { json },
    load: () => import("./commands/doctor.ts"),
  },
  {
    name: "tasks",
    summary: "Submit, inspect, list, cancel and watch tasks",
    usage: "tasks submit|get|list|cancel|watch ...",
    description: [
      "tasks submit [--class C] [--priority N] [--payload K=V]... [--id ID] [--wait]",
      "tasks get ID",
      "tasks list [--state S]... [--class C] [--limit N]",
      "tasks cancel ID [--reason TEXT]",
      "tasks watch [ID...]",
    ],
    subcommands: ["submit", "get", "list", "cancel", "watch"],
    options: {
      class: { type: "string", value: "C", help: "Task class (cpu_short, cpu_long, gpu, gpu_slurm)" },
      priority: { type: "string", value: "N", help: "Priority; higher runs first" },
      payload: { type: "string", short: "p", multiple: true, value: "K=V", help: "A payload entry" },
      id: { type: "string", value: "ID", help: "Task id (default: made by the daemon)" },
      wait: { type: "boolean", help: "submit: wait until the task finishes" },
      state: { type: "string", multiple: true, value: "S", help: "list: only tasks in this state" },
      limit: { type: "string", value: "N", help: "list: at most N tasks (default 50)" },
      reason: { type: "string", value: "TEXT", help: "cancel: why" },
      json,
    },
    load: () => import("./commands/tasks.ts"),
  },
  {
    name: "version",
    summary: "Print the version",
    usage: "version [--json]",
    options: { json },
    load: () => import("./commands/version.ts"),
  },
  {
    name: "completions",
    summary: "Print a shell completion script",
    usage: "completions bash|zsh|fish",
    subcommands: ["bash", "zsh", "fish"],
    options: {},
    load: () => import("./commands/completions.ts"),
  },
  {
    name: "serve",
    summary: "Run the daemon in the foreground (for systemd and containers)",
    usage: "serve",
    options: {},
    load: () => import("./commands/serve.ts"),
  },
];

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  config: { type: "string", short: "c", value: "FILE", help: "Config file (default: ~/.dspy-agent/config.toml)" },
  debug: { type: "boolean", help: "Show stack traces" },
  "no-color": { type: "boolean", help: "No colours (also NO_COLOR=1)" },
  help: { type: "boolean", short: "h", help: "Show help" },
};

/** Finds a command by name. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
