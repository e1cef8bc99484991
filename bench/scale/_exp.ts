import { startDaemonProcess } from "../../tests/support/daemon.ts";
import { startPostgres } from "../../tests/support/postgres.ts";
import { pythonEnv, runParallel } from "../tasks/processes.ts";
import { connectStore } from "../../src/orchestrator/postgres/schema.ts";

async function cpu(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  const f = new TextDecoder().decode(stdout).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}
async function pgCpu(): Promise<number> {
  const { stdout } = await new Deno.Command("pgrep", { args: ["-f", "postgres"] }).output();
  let total = 0;
  for (const p of new TextDecoder().decode(stdout).trim().split("\n")) {
    try {
      total += await cpu(Number(p));
    } catch { /* gone */ }
  }
  return total;
}
const calls = Number(Deno.args[0] ?? 8000);
const mode = Deno.args[1] ?? "queue";
await using pg = await startPostgres();
const url = await pg.createDatabase("exp");
await using daemon = await startDaemonProcess({
  configToml: "[services]\nredis = false\n",
  env: Deno.env.get("SQLITE") ? {} : { DSPY_AGENT_STORE_URL: url },
});
const probe = await connectStore(url, { max: 1 });
const xacts = async () =>
  Number((await probe`SELECT xact_commit + 0 AS n FROM pg_stat_database WHERE datname = current_database()`)[0].n);
const env = { ...(await pythonEnv("redis://unused")), BENCH_IN_FLIGHT: Deno.env.get("INFL") ?? "1" };
for (let round = 0; round < Number(Deno.env.get("ROUNDS") ?? 3); round++) {
  const d0 = await cpu(daemon.pid), p0 = await pgCpu(), x0 = await xacts();
  const load = await runParallel(
    Number(Deno.env.get("PROCS") ?? 4),
    (startAt) => ["grpc_client.py", daemon.grpcAddr, mode, String(calls / 4), String(startAt)],
    env,
  );
  await new Promise((r) => setTimeout(r, 300));
  const d = (await cpu(daemon.pid) - d0) / load.total, p = (await pgCpu() - p0) / load.total;
  const x = ((await xacts()) - x0) / load.total;
  console.log(
    `xacts/call ${x.toFixed(2)} ${mode} ${load.perSecond.toFixed(0)}/s daemon ${d.toFixed(0)} µs/call, postgres ${
      p.toFixed(0)
    } µs/call`,
  );
}

await probe.end();
