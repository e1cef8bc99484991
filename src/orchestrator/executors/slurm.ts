/**
 * The gpu_slurm executor: submits `payload.execution.command` as a batch job
 * with sbatch, follows it with sacct and reads its output file. Only used
 * when sbatch, squeue and sacct are on PATH (checked at submission).
 *
 * @module
 */

import { TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import { abortableSleep } from "./builtin.ts";
import { parseResultLine, tail } from "./output.ts";
import type { ExecutionContext, ExecutionResult, TaskExecutor } from "./types.ts";

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
];

/**
 * Returns an executor that runs each task as a Slurm batch job, polling
 * every `pollMs`. Scripts and logs go to a fresh folder under `workDir`,
 * which compute nodes must see (the state folder is usually on a shared
 * file system; the system temp folder usually is not).
 */
export function slurmExecutor(options: { pollMs?: number; workDir?: string } = {}): TaskExecutor {
  const pollMs = options.pollMs ?? 2000;
  return async (task: Task, context: ExecutionContext): Promise<ExecutionResult> => {
    const execution = (task.payload.execution ?? {}) as Record<string, unknown>;
    const command = execution.command;
    if (!Array.isArray(command) || command.length === 0) {
      throw new TaskExecutionError(
        task.id,
        "slurm",
        "payload.execution.command must be a non-empty list for class gpu_slurm",
      );
    }
    // The task id is never used in a path: the script and log live in a fresh temp folder.
    if (options.workDir) await Deno.mkdir(options.workDir, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: options.workDir, prefix: "dspy-agent-slurm-" });
    try {
      const gpus = Number((execution.resources as Record<string, unknown> | undefined)?.gpu_count ?? 1);
      const script = [
        "#!/bin/sh",
        `#SBATCH --job-name=dspy-agent`,
        `#SBATCH --output=${dir}/job.out`,
        `#SBATCH --error=${dir}/job.err`,
        ...(gpus > 0 ? [`#SBATCH --gres=gpu:${gpus}`] : []),
        `exec ${command.map((part) => shellQuote(String(part))).join(" ")}`,
      ].join("\n");
      await Deno.writeTextFile(`${dir}/job.sh`, script + "\n");
      const submitted = await run(["sbatch", "--parsable", `${dir}/job.sh`], context.signal);
      const jobId = submitted.split(";")[0].trim();
      if (!/^\d+$/.test(jobId)) {
        throw new TaskExecutionError(task.id, "slurm", `sbatch answered "${submitted.trim()}" instead of a job id`);
      }
      context.publish("slurm_job_submitted", { job_id: jobId });
      const onAbort = () => void run(["scancel", jobId]).catch(() => {});
      context.signal.addEventListener("abort", onAbort, { once: true });
      let state = "PENDING";
      let exitCode = "0:0";
      while (!DONE_STATES.includes(state)) {
        await abortableSleep(pollMs, context.signal);
        const line =
          (await run(["sacct", "-j", jobId, "-n", "-P", "-X", "-o", "State,ExitCode"], context.signal)).trim().split(
            "\n",
          )[0] ?? "";
        if (line) [state, exitCode] = [line.split("|")[0].split(" ")[0], line.split("|")[1] ?? "0:0"];
      }
      context.signal.removeEventListener("abort", onAbort);
      const stdout = await Deno.readTextFile(`${dir}/job.out`).catch(() => "");
      const stderr = await Deno.readTextFile(`${dir}/job.err`).catch(() => "");
      const code = Number(exitCode.split(":")[0]);
      context.publish("slurm_job_completed", { job_id: jobId, state, exit_code: code });
      const metadata = {
        slurm_job_id: jobId,
        slurm_state: state,
        exit_code: code,
        logs: { stdout_tail: tail(stdout), stderr_tail: tail(stderr) },
      };
      if (state !== "COMPLETED" || code !== 0) {
        throw new TaskExecutionError(task.id, "slurm", `Slurm job ${jobId} ended ${state} with exit code ${code}`, {
          metadata,
        });
      }
      return {
        executor: "slurm",
        output: parseResultLine(stdout) ?? null,
        stdoutTail: tail(stdout),
        stderrTail: tail(stderr),
        exitCode: code,
        extra: { slurm_job_id: jobId },
      };
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
}

async function run(argv: string[], signal?: AbortSignal): Promise<string> {
  const output = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped", signal })
    .output();
  if (!output.success) {
    throw new Error(`${argv[0]} exited with code ${output.code}: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return new TextDecoder().decode(output.stdout);
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
