/**
 * Runs an execution spec as a local process (docs/compatibility.md §4: no `image`).
 *
 * The command starts through `setsid` so it leads its own process group and
 * the time limit kills the whole tree: `sh -c "sleep 60"` would otherwise
 * leave `sleep` running and holding the output pipes open. Deno.Command (not
 * node:child_process) because it adds `env` to the inherited environment
 * without needing permission to read all of it.
 * @module
 */
import type { ExecutionOutcome } from "./execution.ts";
import { OutputCollector } from "./execution_output.ts";
import { ensureHostPaths } from "./execution_paths.ts";
import type { ExecutionSpec } from "./execution_spec.ts";

/** Exit code reported when the program could not be started at all (as a shell does). */
const NOT_STARTED = 127;

/** Spawns the command, captures its output, kills its process group at the time limit or on abort. */
export async function runLocalProcess(
  spec: ExecutionSpec,
  options: { signal?: AbortSignal },
): Promise<ExecutionOutcome> {
  const { signal } = options;
  const started = performance.now();
  const collector = new OutputCollector();
  let child: Deno.ChildProcess;
  try {
    await ensureHostPaths(spec, "process");
    child = spawn(spec);
  } catch (err) {
    collector.write("stderr", new TextEncoder().encode(`Cannot run "${spec.command[0]}": ${(err as Error).message}\n`));
    collector.end();
    return { ...collector.summary(), exitCode: NOT_STARTED, timedOut: false, latencyMs: performance.now() - started };
  }
  let timedOut = false;
  const killGroup = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, spec.timeoutSeconds * 1000);
  signal?.addEventListener("abort", killGroup);
  try {
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, (data) => collector.write("stdout", data)),
      pump(child.stderr, (data) => collector.write("stderr", data)),
    ]);
    collector.end();
    signal?.throwIfAborted();
    return {
      ...collector.summary(),
      exitCode: status.signal ? 128 + signalNumber(status.signal) : status.code,
      timedOut,
      latencyMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", killGroup);
  }
}

function spawn(spec: ExecutionSpec): Deno.ChildProcess {
  const options: Deno.CommandOptions = {
    env: spec.env,
    cwd: spec.workingDir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  };
  try {
    return new Deno.Command("setsid", { ...options, args: spec.command }).spawn();
  } catch (err) {
    // Without util-linux's setsid, run the program directly (the time limit then kills only it).
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    const [program, ...args] = spec.command;
    return new Deno.Command(program, { ...options, args }).spawn();
  }
}

async function pump(stream: ReadableStream<Uint8Array>, write: (data: Uint8Array) => void): Promise<void> {
  for await (const chunk of stream) write(chunk);
}

function signalNumber(name: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return numbers[name] ?? 0;
}
