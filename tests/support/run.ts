/**
 * Runs a program to its end and returns its exit code and decoded output.
 * @module
 */

/** What a finished program left. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** The working folder. @default {this process's} */
  cwd?: string;
  /** The environment, added to this process's. */
  env?: Record<string, string>;
  /** Killed after this long. @default {120000} */
  timeoutMs?: number;
}

/** Runs `command` with `args`, no input, and collects stdout and stderr as text. */
export async function runCommand(
  command: string,
  args: string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** The resident memory of a process, in KiB, as `ps` reports it (Deno reads `/proc` only with every permission). */
export async function residentKiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)], stdout: "piped" })
    .output();
  return Number(new TextDecoder().decode(stdout).trim());
}
