/**
 * The orchestrator alone, without the transport: 4 in-process submitters
 * each submit a noop task and wait for its commit, as 4 client processes do
 * in bench/tasks, and every task runs to completion. Prints the submit rate
 * and the CPU time per task (submit, schedule, run, complete, commit) — the
 * share of a SubmitTask the daemon spends outside HTTP/2 and Connect.
 *
 *   deno run -P=test bench/tasks/in_process.ts [--tasks 20000] [--rounds 3]
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { openOrchestrator } from "../../src/orchestrator/mod.ts";

const { values } = parseArgs({
  options: { tasks: { type: "string", default: "20000" }, rounds: { type: "string", default: "3" } },
});
const count = Number(values.tasks);
const SUBMITTERS = 4;

for (let round = 1; round <= Number(values.rounds); round++) {
  const home = await Deno.makeTempDir({ prefix: "dspy-agent-bench-in-process-" });
  const orchestrator = await openOrchestrator({
    stateDir: home,
    registry: new Registry(),
    hardware: { cpuCores: navigator.hardwareConcurrency, gpus: 0 },
    slurm: false,
  });
  let completed = 0;
  const allCompleted = Promise.withResolvers<void>();
  orchestrator.tasks.subscribe((task) => {
    if (task.state === "completed" && ++completed === count) allCompleted.resolve();
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: SUBMITTERS }, async (_, submitter) => {
    for (let i = 0; i < count / SUBMITTERS; i++) {
      orchestrator.tasks.submit({ id: `t-${submitter}-${i}`, payload: { task_type: "noop", i: String(i) } });
      await orchestrator.flushed();
    }
  }));
  const submitted = performance.now();
  await allCompleted.promise;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    `round ${round}: ${(count / ((submitted - started) / 1000)).toFixed(0)} submits/s; ` +
      `${((cpu.user + cpu.system) / count).toFixed(1)} µs CPU per task, submit to completed`,
  );
  await orchestrator[Symbol.asyncDispose]();
  await Deno.remove(home, { recursive: true });
}
