/**
 * The gpu_slurm executor: submits `payload.execution.command` as a batch job
 * with sbatch, follows it with squeue (sacct once the controller has
 * forgotten it) and reads its output file. Only used when sbatch, squeue and
 * sacct are on PATH (checked at submission). Tested against a real
 * single-node Slurm in tests/orchestrator_slurm_test.ts.
 *
 * @module
 */

import { delay } from "../../async/mod.ts";
import { TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import { type ExecutionSpec, parseExecutionSpec } from "../../env/mod.ts";
import { parseResultLine, tail } from "./output.ts";
import type { AttemptContext, AttemptResult, AttemptRunner } from "./types.ts";

/** The commands the Slurm executor needs. */
export const SLURM_COMMANDS = ["sbatch", "squeue", "sacct"] as const;

/** Returns the Slurm commands missing from PATH (empty: Slurm is usable). */
export async function missingSlurmCommands(path = Deno.env.get("PATH") ?? ""): Promise<string[]> {
  const missing: string[] = [];
  for (const command of SLURM_COMMANDS) {
    let found = false;
    for (const dir of path.split(":").filter(Boolean)) {
      try {
        if ((await Deno.stat(`${dir}/${command}`)).isFile) found = true;
      } catch { /* not in this folder */ }
      if (found) break;
    }
    if (!found) missing.push(command);
  }
  return missing;
}

/*
 * A Slurm job honours these fields of the execution spec (docs/compatibility.md §4): `command`, `env`,
 * `resources.gpuCount` (`--gres=gpu:N`) and `workingDir` (`--chdir`). `image` and `mounts` do not apply (the job is a
 * process on a compute node). `timeoutSeconds` is not turned into `--time`: the parsed spec holds 1800 when the task
 * gave none, which would cut long GPU jobs; the task's own timeout still cancels the job.
 */

/** Options of {@linkcode slurmExecutor}. */
export interface SlurmExecutorOptions {
  /** How often to ask Slurm for the job's state, in milliseconds. @default {2000} */
  pollMs?: number;
  /** Where job scripts and logs go; compute nodes must see it. @default {the system temp folder} */
  workDir?: string;
  /** Added to this process's environment for every Slurm command (SLURM_CONF, PATH). @default {{}} */
  env?: Record<string, string>;
  /**
   * Parses `payload.execution` (it also reads the Python repr text v1 clients send, docs/compatibility.md §2.4).
   * @default {parseExecutionSpec}
   */
  parse?: (value: unknown) => ExecutionSpec;
}

/** Job states after which Slurm runs nothing more for the job. */
const DONE_STATES = [
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "REVOKED",
];

/** How a job stands: its state and, once it has ended, how its batch script ended. */
interface JobStatus {
  state: string;
  exitCode: number;
  /** The signal that ended it, 0 if none. */
  signal: number;
}

/**
 * Returns an executor that runs each task as a Slurm batch job, polling
 * every `pollMs`. Scripts and logs go to a fresh folder under `workDir`,
 * which compute nodes must see (the state folder is usually on a shared
 * file system; the system temp folder usually is not).
 */
export function slurmExecutor(options: SlurmExecutorOptions = {}): AttemptRunner {
  const pollMs = options.pollMs ?? 2000;
  const env = options.env ?? {};
  const parse = options.parse ?? parseExecutionSpec;
  return async (task: Task, context: AttemptContext): Promise<AttemptResult> => {
    let spec: ExecutionSpec;
    try {
      spec = parse(task.payload.execution);
    } catch (error) {
      throw new TaskExecutionError(task.id, "slurm", (error as Error).message, { cause: error });
    }
    const gpus = spec.resources?.gpuCount ?? 1;
    if (!Number.isInteger(gpus) || gpus < 0) {
      throw new TaskExecutionError(task.id, "slurm", `resources.gpu_count must be a whole number, not ${gpus}`);
    }
    // The task id is never used in a path: the script and log live in a fresh temp folder.
    if (options.workDir) await Deno.mkdir(options.workDir, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: options.workDir, prefix: "dspy-agent-slurm-" });
    try {
      // `env NAME=value` rather than `export`: docs/compatibility.md §4 allows names such as `a.b` that sh cannot export.
      const assignments = Object.entries(spec.env ?? {}).map(([name, value]) => shellQuote(`${name}=${value}`));
      const argv = [...(assignments.length > 0 ? ["env", ...assignments] : []), ...spec.command.map(shellQuote)];
      await Deno.writeTextFile(`${dir}/job.sh`, `#!/bin/sh\nexec ${argv.join(" ")}\n`);
      // Options go on sbatch's command line, not in #SBATCH lines, so a state folder with spaces works; `%`
      // would start a file name pattern (%j), `%%` is a literal one.
      const logPath = (name: string) => `${dir.replaceAll("%", "%%")}/${name}`;
      const submitted = await run(
        [
          "sbatch",
          "--parsable",
          "--job-name=dspy-agent",
          `--output=${logPath("job.out")}`,
          `--error=${logPath("job.err")}`,
          ...(gpus > 0 ? [`--gres=gpu:${gpus}`] : []),
          ...(spec.workingDir ? [`--chdir=${spec.workingDir}`] : []),
          `${dir}/job.sh`,
        ],
        env,
        context.signal,
      ).catch((error) => {
        if (context.signal.aborted) throw error;
        throw new TaskExecutionError(task.id, "slurm", `Cannot submit the Slurm job: ${error.message}`, {
          cause: error,
        });
      });
      // --parsable prints "<job id>" or "<job id>;<cluster>".
      const jobId = submitted.split(";")[0].trim();
      if (!/^\d+$/.test(jobId)) {
        throw new TaskExecutionError(task.id, "slurm", `sbatch answered "${submitted.trim()}" instead of a job id`);
      }
      context.publish("slurm_job_submitted", { job_id: jobId });
      let status: JobStatus | undefined;
      try {
        while (!status || !DONE_STATES.includes(status.state)) {
          await delay(pollMs, context.signal);
          status = await jobStatus(jobId, env, context.signal) ?? status;
        }
      } finally {
        // A cancelled, timed-out or stopping attempt (or one that lost track of its job) must not leave the
        // job running on the cluster.
        if (!status || !DONE_STATES.includes(status.state)) {
          await run(["scancel", jobId], env, AbortSignal.timeout(30_000)).catch(() => {});
        }
      }
      const stdout = await Deno.readTextFile(`${dir}/job.out`).catch(() => "");
      const stderr = await Deno.readTextFile(`${dir}/job.err`).catch(() => "");
      const { state, exitCode, signal } = status;
      context.publish("slurm_job_completed", { job_id: jobId, state, exit_code: exitCode });
      const metadata = {
        slurm_job_id: jobId,
        slurm_state: state,
        exit_code: exitCode,
        logs: { stdout_tail: tail(stdout), stderr_tail: tail(stderr) },
      };
      if (state !== "COMPLETED" || exitCode !== 0) {
        const how = `exit code ${exitCode}${signal ? ` (signal ${signal})` : ""}`;
        throw new TaskExecutionError(task.id, "slurm", `Slurm job ${jobId} ended ${state} with ${how}`, { metadata });
      }
      return {
        executor: "slurm",
        output: parseResultLine(stdout) ?? null,
        stdoutTail: tail(stdout),
        stderrTail: tail(stderr),
        exitCode,
        extra: { slurm_job_id: jobId, slurm_state: state },
      };
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
}

/**
 * The job's state, or undefined when Slurm has no record of it yet.
 *
 * The controller is asked first: squeue knows a job from submission until MinJobAge (300 s by default) after it
 * ends, with the wait status of its batch script, and needs no accounting. Only a job the controller has
 * forgotten (polls further apart than MinJobAge, a controller restart) is looked up with sacct, which reads
 * slurmdbd. Production clusters run slurmdbd; a small cluster may not (AccountingStorageType=
 * accounting_storage/none, as in the single-node cluster of tests/support/slurm.ts), and there sacct answers
 * "Slurm accounting storage is disabled", which the attempt fails with. Polling sacct alone, as this executor
 * first did, failed every job on such a cluster, and lags behind the controller where slurmdbd is slow.
 */
async function jobStatus(
  jobId: string,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<JobStatus | undefined> {
  // --states=all: with --jobs alone, squeue hides jobs that have ended. `:|` ends each field with "|".
  const queue = await runCommand(
    ["squeue", "--noheader", "--states=all", `--jobs=${jobId}`, "--Format=State:|,exit_code:|"],
    env,
    signal,
  );
  if (queue.success) {
    const [state, waitStatus] = queue.stdout.trim().split("|");
    if (!state) return undefined;
    // squeue's exit_code is the raw wait status: exit code in the high byte, signal in the low bits.
    const status = Number(waitStatus) || 0;
    return { state, exitCode: (status >> 8) & 0xff, signal: status & 0x7f };
  }
  if (!/invalid job id/i.test(queue.stderr)) {
    throw new Error(`Cannot read the state of Slurm job ${jobId}: squeue failed: ${queue.stderr.trim()}`);
  }
  const accounting = await runCommand(
    ["sacct", "--noheader", "--parsable2", "--allocations", `--jobs=${jobId}`, "--format=State,ExitCode"],
    env,
    signal,
  );
  if (!accounting.success) {
    throw new Error(
      `Cannot read the state of Slurm job ${jobId}: the controller no longer knows it and sacct failed: ${accounting.stderr.trim()}`,
    );
  }
  // "CANCELLED by 1000|0:15": the state's first word; the exit code and signal.
  const [state, exit] = (accounting.stdout.trim().split("\n")[0] ?? "").split("|");
  if (!state) return undefined;
  const [exitCode, exitSignal] = (exit ?? "0:0").split(":").map((part) => Number(part) || 0);
  return { state: state.split(" ")[0], exitCode, signal: exitSignal ?? 0 };
}

async function runCommand(
  argv: string[],
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ success: boolean; code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const decoder = new TextDecoder();
  return {
    success: output.success,
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function run(argv: string[], env: Record<string, string>, signal?: AbortSignal): Promise<string> {
  const output = await runCommand(argv, env, signal);
  if (!output.success) throw new Error(`${argv[0]} exited with code ${output.code}: ${output.stderr.trim()}`);
  return output.stdout;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
