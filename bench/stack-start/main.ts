/**
 * bench/stack-start: time from StartServices until every service of a five-service, depth-3
 * stack is healthy, beside (a) the critical path from the services' readiness times plus the engine's measured
 * create-and-start latency and (b) `docker-compose up -d` of an equivalent compose file, timed in the same run.
 *
 * Run: deno run -P=test bench/stack-start/main.ts [--runs 3]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { createEnvManager, type Engine, ownedLabels, type StartUpdate } from "../../src/env/mod.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  buildRedisImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "../../tests/support/docker.ts";
import { drainStart, testStackConfig } from "../../tests/support/env_stack.ts";
import { BENCH_STACK, composeFile, criticalPath, stackServices } from "./stack.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string", default: "3" } } });
const runs = Math.max(1, Number(values.runs));
const engine = await ensureDockerEngine();
const images = { busybox: await buildBusyboxImage(engine), redis: await buildRedisImage(engine) };
const labels = testLabels("bench-stack-start");
/** The updates of the last dspy-agent run, for the breakdown. */
let lastUpdates: StartUpdate[] = [];

try {
  const ours: number[] = [];
  const compose: number[] = [];
  const latencies: number[] = [];
  const paths: number[] = [];
  for (let i = 0; i < runs; i++) {
    // The engine's latency swings with the machine's load, so it is measured afresh beside every run.
    latencies.push(await engineLatency(engine, images.busybox, labels));
    paths.push(criticalPath(latencies.at(-1)!).seconds);
    // Alternate the order so neither side always runs on a warmer engine.
    if (i % 2 === 0) {
      ours.push(await runOurs(engine, labels));
      compose.push(await runCompose(engine, labels));
    } else {
      compose.push(await runCompose(engine, labels));
      ours.push(await runOurs(engine, labels));
    }
    console.error(
      `run ${i + 1}/${runs}: critical path ${fmt(paths.at(-1)!)}, dspy-agent ${fmt(ours.at(-1)!)}, docker-compose ${
        fmt(compose.at(-1)!)
      }`,
    );
  }
  const latency = median(latencies);
  const path = criticalPath(latency);
  await assertNothingLeft(engine, labels);
  const o = median(ours);
  const c = median(compose);
  console.log(
    `stack-start: ${BENCH_STACK.length} services, dependency depth 3, readiness ${
      BENCH_STACK.map((s) => `${s.name} ${s.readySeconds}s`).join(", ")
    }; median of ${runs} runs`,
  );
  const pathRatios = ours.map((x, i) => x / paths[i]);
  console.log(`  engine create+start latency (median):        ${fmt(latency)}`);
  console.log(`  (a) critical path ${path.chain.join(" -> ")}:  ${fmt(path.seconds)}`);
  console.log(
    `  dspy-agent StartServices -> all healthy:     ${fmt(o)}   ${
      median(pathRatios).toFixed(2)
    }x critical path (median of per-run ratios; target <= 1.15x)`,
  );
  const composeRatios = compose.map((x, i) => x / ours[i]);
  console.log(
    `  (b) docker-compose up -d -> all healthy:     ${fmt(c)}   dspy-agent is ${
      median(composeRatios).toFixed(2)
    }x faster (median of per-run ratios; target >= 1.5x)`,
  );
  console.log(
    `  all runs: critical path [${paths.map(fmt).join(", ")}], dspy-agent [${
      ours.map(fmt).join(", ")
    }], docker-compose [${compose.map(fmt).join(", ")}]`,
  );
  printBreakdown(lastUpdates);
} finally {
  await removeByLabel(engine, labels);
}

/** Where the time of the last dspy-agent run went, per service: engine start, then the wait for health. */
function printBreakdown(updates: StartUpdate[]): void {
  const at = (service: string, phase: string) =>
    updates.find((u) => u.service === service && u.phase === phase)?.elapsedMs ?? NaN;
  console.log(`  where the time went (last dspy-agent run, ms since StartServices):`);
  for (const s of BENCH_STACK) {
    const starting = at(s.name, "starting");
    const probing = at(s.name, "probing");
    const healthy = at(s.name, "healthy");
    console.log(
      `    ${s.name.padEnd(7)} creating at ${String(at(s.name, "creating")).padStart(5)}, start ${
        String(starting).padStart(5)
      } (+${probing - starting} engine start), healthy ${String(healthy).padStart(5)} (+${
        healthy - probing
      } waiting; readiness ${s.readySeconds * 1000})`,
    );
  }
}

async function runOurs(engine: Engine, labels: Record<string, string>): Promise<number> {
  const config = await testStackConfig("bench", stackServices(images));
  await using manager = createEnvManager({ config, engine, registry: new Registry(), extraLabels: labels });
  const started = performance.now();
  const updates = await drainStart(manager);
  const seconds = (performance.now() - started) / 1000;
  lastUpdates = updates;
  const done = updates.at(-1)!;
  if (done.status !== "running") throw new Error(`dspy-agent start failed: ${JSON.stringify(updates, null, 1)}`);
  await manager.stop({
    names: [],
    remove: true,
    removeVolumes: true,
    timeoutSeconds: 0,
    signal: AbortSignal.timeout(60_000),
  });
  await Deno.remove(config.home, { recursive: true });
  return seconds;
}

async function runCompose(engine: Engine, labels: Record<string, string>): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-bench-compose-" });
  const project = `dspyagentbench${crypto.randomUUID().slice(0, 6)}`;
  const file = `${dir}/docker-compose.yml`;
  await Deno.writeTextFile(file, composeFile(images, labels));
  const compose = (...args: string[]) =>
    new Deno.Command("docker-compose", { args: ["-p", project, "-f", file, ...args], stdout: "piped", stderr: "piped" })
      .output();
  // Health is read from the engine's event stream: polling would load the engine while compose works.
  const watch = new AbortController();
  const healthy = new Set<string>();
  let allHealthy!: () => void;
  const done = new Promise<void>((resolve) => allHealthy = resolve);
  const events = (async () => {
    const selector = { "com.docker.compose.project": project };
    for await (const event of engine.events({ selector, types: ["container"], signal: watch.signal })) {
      if (event.Action === "health_status: healthy") healthy.add(event.Actor.ID);
      if (healthy.size === BENCH_STACK.length) allHealthy();
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 100)); // let the event stream connect
    const started = performance.now();
    const up = await compose("up", "-d");
    if (!up.success) throw new Error(`docker-compose up failed: ${new TextDecoder().decode(up.stderr)}`);
    const timeout = AbortSignal.timeout(120_000);
    await Promise.race([
      done,
      new Promise((_, reject) =>
        timeout.addEventListener("abort", () => reject(new Error("compose stack not healthy")))
      ),
    ]);
    return (performance.now() - started) / 1000;
  } finally {
    watch.abort();
    await events.catch(() => {});
    await compose("down", "-v", "-t", "0");
    await Deno.remove(dir, { recursive: true });
  }
}

/** Median time to create and start a container like the stack's (network, published port), in seconds. */
async function engineLatency(engine: Engine, image: string, labels: Record<string, string>): Promise<number> {
  const network = `dspy-agent-bench-${crypto.randomUUID().slice(0, 6)}`;
  const project = network;
  const netId = await engine.createNetwork({
    Name: network,
    Labels: ownedLabels({ project, kind: "network", extra: labels }),
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const id = await engine.createContainer({
        name: `${network}-${i}`,
        Image: image,
        Cmd: ["sleep", "3600"],
        Labels: ownedLabels({ project, kind: "service", service: `s${i}`, extra: labels }),
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: { NetworkMode: network },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [`s${i}`] } } },
      });
      await engine.startContainer(id);
      samples.push((performance.now() - started) / 1000);
      await engine.removeContainer(id, { force: true });
    }
  } finally {
    await engine.removeNetwork(netId);
  }
  return median(samples);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(seconds: number): string {
  return `${seconds.toFixed(2)} s`;
}
