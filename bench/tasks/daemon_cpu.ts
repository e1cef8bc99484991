/**
 * The daemon's CPU time per call under the bench/tasks load, read from
 * /proc/<pid>/stat around each phase: `Health` (the transport alone) and
 * `SubmitTask` of noop tasks (transport, store, scheduling and the run), from
 * 4 Python grpcio processes. Throughput on 2 cores swings with whatever else
 * runs; CPU per call is the steadier figure for comparing two versions.
 *
 *   deno run -P=test bench/tasks/daemon_cpu.ts [--calls 8000] [--rounds 3]
 *
 * Linux only (/proc).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startDaemonProcess } from "../../tests/support/daemon.ts";
import { pythonEnv, runParallel } from "./processes.ts";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "8000" }, rounds: { type: "string", default: "3" } },
});
const calls = Number(values.calls);
const PROCESSES = 4;

/** User plus system CPU time of a process, in microseconds (clock ticks of 10 ms). */
async function cpuMicros(pid: number): Promise<number> {
  // /proc needs --allow-all to read directly in Deno; cat is allowed by the test permission set.
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  const fields = new TextDecoder().decode(stdout).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

await using daemon = await startDaemonProcess({});
const env = await pythonEnv("redis://unused");
const results: Record<string, number[]> = { health: [], submit: [] };
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const mode of ["health", "submit"] as const) {
    const before = await cpuMicros(daemon.pid);
    const load = await runParallel(PROCESSES, (startAt) => [
      "grpc_client.py",
      daemon.grpcAddr,
      mode,
      String(calls / PROCESSES),
      String(startAt),
    ], env);
    // Let the last completions of the phase finish before reading the clock.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const perCall = (await cpuMicros(daemon.pid) - before) / load.total;
    results[mode].push(perCall);
    console.log(
      `round ${round} ${mode.padEnd(6)} ${load.perSecond.toFixed(0).padStart(6)} calls/s  ` +
        `daemon ${perCall.toFixed(0).padStart(4)} µs CPU per call`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median daemon CPU per call: Health ${median(results.health).toFixed(0)} µs, ` +
    `SubmitTask ${median(results.submit).toFixed(0)} µs (each includes the warm-up call of every process)`,
);
