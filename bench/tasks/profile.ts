/**
 * Where the daemon's time goes under the bench/tasks submit load: starts the
 * daemon with the V8 inspector, samples its CPU through the Chrome DevTools
 * protocol while 4 Python grpcio clients call SubmitTask, and prints the
 * share of samples per layer (our HTTP/2 server, Connect/protobuf, handlers,
 * orchestrator, SQLite, GC, idle) and the hottest functions.
 *
 *   deno run -P=test bench/tasks/profile.ts [--submits 4000] [--processes 4] [--save profile.cpuprofile]
 *
 * `--save` also writes the raw profile (Chrome DevTools format) for a closer look.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cliCommand, freePort } from "../../tests/support/daemon.ts";
import { pythonEnv, runParallel } from "./processes.ts";

const { values } = parseArgs({
  options: {
    submits: { type: "string", default: "4000" },
    processes: { type: "string", default: "4" },
    save: { type: "string" },
  },
});
const submits = Number(values.submits);
const processes = Number(values.processes);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const home = await Deno.makeTempDir({ prefix: "dspy-agent-profile-" });
const [grpcPort, httpPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
const { cmd, args } = cliCommand();
const daemon = new Deno.Command(cmd, {
  args: [args[0], `--inspect=127.0.0.1:${inspectPort}`, ...args.slice(1), "serve"],
  env: {
    DSPY_AGENT_HOME: home,
    ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${grpcPort}`,
    ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${httpPort}`,
  },
  stdin: "null",
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok);
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const devtools = await openDevtools(targets[0].webSocketDebuggerUrl);
  await devtools.call("Profiler.enable");
  await devtools.call("Profiler.setSamplingInterval", { interval: 250 });
  const env = await pythonEnv("redis://unused");
  const floor = await runParallel(processes, (startAt) => [
    "grpc_client.py",
    `127.0.0.1:${grpcPort}`,
    "health",
    String(submits / processes),
    String(startAt),
  ], env);
  console.log(
    `Health load (transport floor: no store, no task): ${processes} processes, ${
      floor.perSecond.toFixed(0)
    } calls/s, ` +
      `p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms`,
  );
  await devtools.call("Profiler.start");
  const load = await runParallel(processes, (startAt) => [
    "grpc_client.py",
    `127.0.0.1:${grpcPort}`,
    "submit",
    String(submits / processes),
    String(startAt),
  ], env);
  const { profile } = await devtools.call("Profiler.stop") as { profile: Profile };
  devtools.close();
  console.log(
    `SubmitTask load: ${processes} processes, ${load.total} tasks, ${load.perSecond.toFixed(0)} tasks/s, ` +
      `p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms`,
  );
  if (values.save) await Deno.writeTextFile(values.save, JSON.stringify(profile));
  report(profile);
} finally {
  daemon.kill("SIGTERM");
  await daemon.status;
  await Deno.remove(home, { recursive: true }).catch(() => {});
}

/** The layer a stack belongs to: the first frame from the leaf up that names one. */
function layerOf(stack: ProfileNode[]): string {
  const leaf = stack[0].callFrame;
  if (["(idle)", "(program)", "(garbage collector)"].includes(leaf.functionName)) return leaf.functionName;
  for (const { callFrame: { url, functionName } } of stack) {
    if (url === "" && ["run", "get", "all", "exec", "prepare", "iterate"].includes(functionName)) {
      return "SQLite (node:sqlite)";
    }
    if (url.includes("/src/orchestrator/workflow/")) return "workflow engine";
    if (url.includes("/src/orchestrator/")) return "orchestrator (tasks, store, scheduler, events)";
    if (url.includes("/src/api/")) return "RPC handlers (src/api)";
    if (url.includes("@connectrpc")) return "Connect (gRPC protocol)";
    if (url.includes("@bufbuild")) return "protobuf encode/decode";
    // The socket ops (op_read/op_write) have no URL; they count under the first frame that has one,
    // usually our HTTP/2 server.
    if (url.includes("/src/daemon/h2/") || url.includes("/src/daemon/grpc_")) {
      return "HTTP/2 and gRPC framing (src/daemon)";
    }
    if (url.includes("http2") || url.includes("node:net") || url.includes("stream")) {
      return "node streams (HTTP/1.1 port)";
    }
    if (url.includes("prom-client")) return "metrics (prom-client)";
  }
  return "other (runtime, timers, promises)";
}

function report(profile: Profile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const layers = new Map<string, number>();
  const selfTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    total += micros;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    const layer = layerOf(stack);
    layers.set(layer, (layers.get(layer) ?? 0) + micros);
    const frame = stack[0].callFrame;
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|src)\//, "$1/")}:${
      frame.lineNumber + 1
    }`;
    selfTime.set(name, (selfTime.get(name) ?? 0) + micros);
  });
  const busy = total - (layers.get("(idle)") ?? 0);
  console.log(`\nCPU samples of the daemon: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy`);
  console.log(`${"layer".padEnd(50)}${"% of busy".padStart(10)}`);
  for (const [layer, micros] of [...layers].sort((a, b) => b[1] - a[1])) {
    if (layer === "(idle)") continue;
    console.log(`${layer.padEnd(50)}${(micros / busy * 100).toFixed(1).padStart(9)}%`);
  }
  console.log(`\nhottest functions (self time, % of busy)`);
  for (
    const [name, micros] of [...selfTime].sort((a, b) => b[1] - a[1]).filter(([n]) => !n.startsWith("(idle)")).slice(
      0,
      15,
    )
  ) {
    console.log(`${(micros / busy * 100).toFixed(1).padStart(6)}%  ${name}`);
  }
}

async function openDevtools(url: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.id !== undefined) waiting.get(data.id)?.(data.result);
  };
  return {
    call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => socket.close(),
  };
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The daemon was not healthy within 30 s");
}
