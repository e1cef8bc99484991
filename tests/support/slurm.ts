/**
 * A real single-node Slurm cluster for tests: Debian's munged, slurmctld and
 * slurmd (scripts/ensure-system-deps installs them), started in the
 * foreground from a generated slurm.conf in a temp folder. Nothing in
 * /etc/slurm or /etc/munge is used: Slurm commands find this cluster through
 * `SLURM_CONF`.
 *
 * The node has no GPU, so it offers two fake ones: gres.conf names two
 * character devices made in the temp folder (same numbers as /dev/null).
 * Slurm 22.05 drops a GPU without a `File`, and refuses a regular file as
 * one; with these it schedules `--gres=gpu:N` for real, refuses N > 2, and
 * sets CUDA_VISIBLE_DEVICES in the job.
 *
 * There is no slurmdbd (it would need a MariaDB server):
 * AccountingStorageType=accounting_storage/none, so `sacct` answers "Slurm
 * accounting storage is disabled". Job completions are kept by jobcomp/filetxt
 * in `<dir>/log/jobcomp.txt`, shown by {@linkcode SlurmCluster.logs}.
 * @module
 */
import { freePort } from "./daemon.ts";
import { type CommandResult, runCommand } from "./run.ts";

/** A running cluster; dispose to cancel its jobs, stop its daemons and remove its folder. */
export interface SlurmCluster extends AsyncDisposable {
  /** The environment Slurm commands need to reach this cluster (SLURM_CONF and PATH). */
  env: { SLURM_CONF: string; PATH: string };
  /** The only partition (the default one). */
  partition: string;
  /** How many fake GPUs the node offers. */
  gpus: number;
  /** Runs a Slurm client command (squeue, scancel, sacct...) against this cluster. */
  run(command: string, args: string[]): Promise<CommandResult>;
  /** The job's state as the controller knows it (`RUNNING`, `CANCELLED`...), or undefined if it does not. */
  jobState(jobId: string): Promise<string | undefined>;
  /** The daemons' logs and the job completion records, for failure messages. */
  logs(): Promise<string>;
}

/** Options of {@linkcode startSlurmCluster}. */
export interface SlurmClusterOptions {
  /** Milliseconds to wait for the node to be idle. @default {30000} */
  readyTimeoutMs?: number;
}

const PACKAGES = "munge, slurmctld, slurmd and slurm-client";
const NODE = "dspy-test-node";
const PARTITION = "dspy-test";
const GPUS = 2;

/**
 * Starts munged, slurmctld and slurmd on free loopback ports and waits until
 * the node is idle. Throws, naming what to install, when Slurm is missing.
 */
export async function startSlurmCluster(options: SlurmClusterOptions = {}): Promise<SlurmCluster> {
  const programs = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sacct", "scancel", "sinfo"] as const;
  const binaries = await locate([...programs]);
  const missing = programs.filter((name) => !binaries[name]);
  if (missing.length > 0) {
    throw new Error(
      `Cannot start a Slurm cluster: ${missing.join(", ")} not found; run scripts/ensure-system-deps as root ` +
        `(it installs ${PACKAGES})`,
    );
  }
  if (Deno.uid() !== 0) {
    throw new Error("Cannot start a Slurm cluster: slurmd runs jobs as their owner, so it needs root");
  }
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-slurm-cluster-" });
  const path = (name: string) => `${dir}/${name}`;
  const env = { SLURM_CONF: path("etc/slurm.conf"), PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  const daemons: Deno.ChildProcess[] = [];
  let exited = "";
  const start = (name: string, program: string, args: string[]) => {
    const child = spawn(program, args, env, path(`log/${name}.out`));
    child.status.then((status) => exited ||= `${name} exited with code ${status.code}`);
    daemons.push(child);
  };
  const run = (command: string, args: string[]) => runCommand(command, args, { env, timeoutMs: 30_000 });
  const logs = async () => {
    const parts = [];
    const names = ["munged.out", "munged.log", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"];
    for (const name of [...names, "jobcomp.txt"]) {
      const text = await Deno.readTextFile(path(`log/${name}`)).catch(() => "(none)");
      parts.push(`--- ${name}\n${text.split("\n").slice(-40).join("\n")}`);
    }
    return parts.join("\n");
  };
  const stop = async () => {
    // slurmstepd (one per job) outlives slurmd: end every job first.
    if (daemons.length >= 2) {
      await run("scancel", [`--partition=${PARTITION}`]).catch(() => {});
      for (let i = 0; i < 100; i++) {
        const queue = await run("squeue", ["--noheader", `--partition=${PARTITION}`]).catch(() => undefined);
        if (!queue || queue.code !== 0 || queue.stdout.trim() === "") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    for (const child of daemons.reverse()) await terminate(child);
    await Deno.remove(dir, { recursive: true });
  };
  try {
    for (const folder of ["etc", "state", "spool", "run", "log", "gpu"]) {
      await Deno.mkdir(path(folder), { mode: 0o755 });
    }
    // munged refuses a key others can read and a socket folder others cannot enter.
    await Deno.chmod(dir, 0o755);
    await Deno.mkdir(path("munge"), { mode: 0o700 });
    await Deno.writeFile(path("munge/munge.key"), crypto.getRandomValues(new Uint8Array(128)), { mode: 0o600 });
    for (let i = 0; i < GPUS; i++) await mustRun("mknod", [path(`gpu/gpu${i}`), "c", "1", "3"]);
    const [controllerPort, nodePort] = [await freePort(), await freePort()];
    await Deno.writeTextFile(
      env.SLURM_CONF,
      slurmConf({ dir, controllerPort, nodePort, cpus: Math.max(1, Math.min(2, navigator.hardwareConcurrency)) }),
    );
    await Deno.writeTextFile(path("etc/plugstack.conf"), "");
    await Deno.writeTextFile(
      path("etc/gres.conf"),
      `NodeName=${NODE} Name=gpu File=${path("gpu/gpu")}[0-${GPUS - 1}]\n`,
    );
    start("munged", binaries.munged!, [
      "--foreground",
      `--key-file=${path("munge/munge.key")}`,
      `--socket=${path("run/munge.socket")}`,
      `--pid-file=${path("run/munged.pid")}`,
      `--seed-file=${path("munge/munged.seed")}`,
      `--log-file=${path("log/munged.log")}`,
    ]);
    const failed = () => exited;
    await waitFor(() => exists(path("run/munge.socket")), 10_000, "munged to create its socket", logs, failed);
    start("slurmctld", binaries.slurmctld!, ["-D"]);
    start("slurmd", binaries.slurmd!, ["-D", "-N", NODE]);
    await waitFor(
      async () => (await run("sinfo", ["--noheader", `--nodes=${NODE}`, "--format=%T"])).stdout.trim() === "idle",
      options.readyTimeoutMs ?? 30_000,
      `node ${NODE} to be idle`,
      logs,
      failed,
    );
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return {
    env,
    partition: PARTITION,
    gpus: GPUS,
    run,
    async jobState(jobId) {
      const result = await run("squeue", ["--noheader", "--states=all", `--jobs=${jobId}`, "--format=%T"]);
      return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : undefined;
    },
    logs,
    [Symbol.asyncDispose]: stop,
  };
}

/** slurm.conf of one node with two fake GPUs; no cgroups, no accounting database (see the module doc). */
function slurmConf(o: { dir: string; controllerPort: number; nodePort: number; cpus: number }): string {
  return [
    "ClusterName=dspytest",
    "SlurmctldHost=localhost(127.0.0.1)",
    `SlurmctldPort=${o.controllerPort}`,
    `SlurmdPort=${o.nodePort}`,
    "SlurmUser=root",
    "SlurmdUser=root",
    "AuthType=auth/munge",
    "CredType=cred/munge",
    `AuthInfo=socket=${o.dir}/run/munge.socket`,
    `StateSaveLocation=${o.dir}/state`,
    `SlurmdSpoolDir=${o.dir}/spool`,
    `SlurmctldPidFile=${o.dir}/run/slurmctld.pid`,
    `SlurmdPidFile=${o.dir}/run/slurmd.pid`,
    `SlurmctldLogFile=${o.dir}/log/slurmctld.log`,
    `SlurmdLogFile=${o.dir}/log/slurmd.log`,
    "MailProg=/bin/true",
    `PlugStackConfig=${o.dir}/etc/plugstack.conf`,
    "MpiDefault=none",
    // No cgroups on a CI machine: processes are tracked through /proc, tasks are not confined.
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "JobCompType=jobcomp/filetxt",
    `JobCompLoc=${o.dir}/log/jobcomp.txt`,
    "SchedulerType=sched/builtin",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_Core",
    "GresTypes=gpu",
    "ReturnToService=2",
    // A cancelled job's processes get SIGKILL 2 s after SIGTERM (default 30 s).
    "KillWait=2",
    `NodeName=${NODE} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=${o.cpus} RealMemory=500 Gres=gpu:${GPUS} ` +
    "State=UNKNOWN",
    `PartitionName=${PARTITION} Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP`,
    "",
  ].join("\n");
}

/** Finds each program on PATH or in the sbin folders (the daemons live in /usr/sbin). */
async function locate<T extends string>(names: T[]): Promise<Record<T, string | undefined>> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  const found = {} as Record<T, string | undefined>;
  for (const name of names) {
    for (const dir of dirs) {
      if (await exists(`${dir}/${name}`)) {
        found[name] = `${dir}/${name}`;
        break;
      }
    }
  }
  return found;
}

function exists(path: string): Promise<boolean> {
  return Deno.stat(path).then(() => true, () => false);
}

/** Starts a daemon in the foreground, its stdout and stderr appended to `log` (errors before its own log opens). */
function spawn(program: string, args: string[], env: Record<string, string>, log: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", 'log="$1"; shift; exec "$@" >>"$log" 2>&1', "sh", log, program, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** SIGTERM, then SIGKILL after 10 s; waits for the exit. */
async function terminate(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already exited */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, 10_000);
  await child.status;
  clearTimeout(timer);
}

async function mustRun(command: string, args: string[]): Promise<void> {
  const result = await runCommand(command, args);
  if (result.code !== 0) throw new Error(`Cannot run ${command} ${args.join(" ")}: ${result.stderr.trim()}`);
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  logs: () => Promise<string>,
  failed: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline || failed()) {
      const why = failed() || `not done after ${timeoutMs} ms`;
      throw new Error(`Cannot start a Slurm cluster: waiting for ${what}: ${why}\n${await logs()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
