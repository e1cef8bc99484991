/**
 * The gpu_slurm executor against a real single-node Slurm (munged, slurmctld
 * and slurmd from Debian, started by tests/support/slurm.ts): submission with
 * sbatch, state from squeue, scancel on cancel. The node's two GPUs are fake
 * device files, but `--gres=gpu:N` is really scheduled: Slurm sets
 * CUDA_VISIBLE_DEVICES in the job and refuses more GPUs than the node has.
 * SubmitTask's FAILED_PRECONDITION mapping without Slurm is tested in
 * tests/orchestrator_api_test.ts; here, the PATH lookup that decides it.
 */
import type { SqliteOrchestrator, Task } from "../src/orchestrator/mod.ts";
import { openTestOrchestrator } from "./support/orchestrator.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./support/assert.ts";
import { type SlurmCluster, startSlurmCluster } from "./support/slurm.ts";

/** Resolves with the task once `until` holds; fails with the cluster's logs after `timeoutMs`. */
function waitForTask(
  orchestrator: SqliteOrchestrator,
  cluster: SlurmCluster,
  id: string,
  until = (t: Task) => t.finishedAtMs > 0,
  timeoutMs = 30_000,
): Promise<Task> {
  return new Promise((resolve, reject) => {
    const check = (task: Task) => {
      if (task.id === id && until(task)) done(() => resolve(task));
    };
    const timer = setTimeout(async () => {
      const task = orchestrator.tasks.get(id);
      const logs = await cluster.logs();
      done(() => reject(new Error(`Task "${id}" is still ${task.state} after ${timeoutMs} ms\n${logs}`)));
    }, timeoutMs);
    const unsubscribe = orchestrator.tasks.subscribe(check);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      unsubscribe();
      settle();
    };
    check(orchestrator.tasks.get(id));
  });
}

/** Polls until `read` returns something `accept` takes; fails with the cluster's logs after 30 s. */
async function eventually<T>(
  cluster: SlurmCluster,
  what: string,
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`Gave up waiting for ${what} (last: ${JSON.stringify(value)})\n${await cluster.logs()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test("gpu_slurm tasks run as batch jobs on a real single-node Slurm cluster", async (t) => {
  await using cluster = await startSlurmCluster();
  // No `slurm` option: the orchestrator finds sbatch, squeue and sacct on the cluster's PATH itself.
  // slurm: undefined overrides the test default (false): Slurm is found on slurmEnv's PATH.
  await using orchestrator = await openTestOrchestrator({ slurm: undefined, slurmEnv: cluster.env, slurmPollMs: 100 });

  await t.step("a job's __DSPY_RESULT__ line is the output, its job id is in the metadata, it got a GPU", async () => {
    orchestrator.tasks.submit({
      id: "slurm-ok",
      class: "gpu_slurm",
      payload: {
        execution: JSON.stringify({
          command: ["sh", "-c", 'echo "hello $WHO on gpu $CUDA_VISIBLE_DEVICES"; echo \'__DSPY_RESULT__:{"x":1}\''],
          env: { WHO: "slurm" },
        }),
      },
    });
    const task = await waitForTask(orchestrator, cluster, "slurm-ok");
    assertEquals(task.state, "completed", task.error);
    assertEquals(JSON.parse(task.result.data), { x: 1 });
    const metadata = JSON.parse(task.result.metadata);
    assertEquals([metadata.executor, metadata.exit_code, metadata.slurm_state], ["slurm", 0, "COMPLETED"]);
    assertMatch(metadata.slurm_job_id, /^\d+$/);
    // gpu_count defaults to 1: Slurm allocated one of the node's (fake) GPUs and exported its index.
    assertStringIncludes(metadata.logs.stdout_tail, "hello slurm on gpu 0");
    assertEquals(await cluster.jobState(metadata.slurm_job_id), "COMPLETED");
    const submitted = orchestrator.events.replay({ types: ["slurm_job_submitted"] });
    assertEquals(submitted.map((e) => [e.resourceId, e.data.job_id]), [["slurm-ok", metadata.slurm_job_id]]);
  });

  await t.step("a command exiting 3 fails the task with the job's state and exit code", async () => {
    orchestrator.tasks.submit({
      id: "slurm-fail",
      class: "gpu_slurm",
      // Python repr text, as v1 clients send every payload value (docs/compatibility.md §2.4); no GPU asked for.
      payload: { execution: "{'command': ['sh', '-c', 'echo broken >&2; exit 3'], 'resources': {'gpu_count': 0}}" },
    });
    const task = await waitForTask(orchestrator, cluster, "slurm-fail");
    assertEquals(task.state, "failed");
    assertMatch(task.error, /Slurm job \d+ ended FAILED with exit code 3/);
    const metadata = JSON.parse(task.result.metadata);
    assertEquals([metadata.executor, metadata.exit_code, metadata.slurm_state], ["slurm", 3, "FAILED"]);
    assertStringIncludes(metadata.logs.stderr_tail, "broken");
  });

  await t.step("asking for more GPUs than the cluster has is refused by sbatch", async () => {
    orchestrator.tasks.submit({
      id: "slurm-too-many-gpus",
      class: "gpu_slurm",
      payload: { execution: JSON.stringify({ command: ["true"], resources: { gpu_count: cluster.gpus + 1 } }) },
    });
    const task = await waitForTask(orchestrator, cluster, "slurm-too-many-gpus");
    assertEquals(task.state, "failed");
    assertStringIncludes(task.error, "Cannot submit the Slurm job: sbatch exited with code 1");
    assertStringIncludes(task.error, "Requested node configuration is not available");
  });

  await t.step("cancelling a running task cancels its job: Slurm records it CANCELLED", async () => {
    orchestrator.tasks.submit({
      id: "slurm-cancel",
      class: "gpu_slurm",
      payload: { execution: JSON.stringify({ command: ["sleep", "300"] }) },
    });
    const event = await eventually(
      cluster,
      "the slurm_job_submitted event",
      () => orchestrator.events.replay({ types: ["slurm_job_submitted"] }).find((e) => e.resourceId === "slurm-cancel"),
      (found) => found !== undefined,
    );
    const jobId = event!.data.job_id;
    await eventually(cluster, `job ${jobId} to run`, () => cluster.jobState(jobId), (state) => state === "RUNNING");
    assert(orchestrator.tasks.cancel("slurm-cancel", "no longer needed").cancelled);
    const task = await waitForTask(orchestrator, cluster, "slurm-cancel");
    assertEquals(task.state, "cancelled");
    await eventually(cluster, `job ${jobId} to be cancelled`, () => cluster.jobState(jobId), (s) => s === "CANCELLED");
  });
});

Deno.test("without sbatch, squeue and sacct on PATH a gpu_slurm task is refused at submission", async () => {
  const emptyDir = await Deno.makeTempDir({ prefix: "dspy-no-slurm-" });
  try {
    await using orchestrator = await openTestOrchestrator({ slurm: undefined, slurmEnv: { PATH: emptyDir } });
    let error: Error | undefined;
    try {
      orchestrator.tasks.submit({ id: "no-slurm", class: "gpu_slurm", payload: { task_type: "noop" } });
    } catch (e) {
      error = e as Error;
    }
    // The API maps this error to FAILED_PRECONDITION (tests/orchestrator_api_test.ts).
    assertEquals(error?.name, "SlurmUnavailableError");
    assertStringIncludes(error!.message, "sbatch, squeue, sacct not found on PATH");
  } finally {
    await Deno.remove(emptyDir, { recursive: true });
  }
});
