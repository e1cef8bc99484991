/**
 * The benchmark stack: five services of dependency depth three with known readiness delays, a real Redis among
 * them, described once and rendered both as dspy-agent config and as a docker-compose file.
 *
 * @module
 */
import type { ServiceConfig } from "../../src/config/mod.ts";

/** One service of the benchmark stack. */
export interface BenchService {
  name: string;
  /** Seconds from process start until the service answers its health check. */
  readySeconds: number;
  dependsOn: string[];
  redis?: boolean;
}

/** The stack: redis → api → router and cache → worker → router. */
export const BENCH_STACK: BenchService[] = [
  { name: "redis", readySeconds: 0, dependsOn: [], redis: true },
  { name: "cache", readySeconds: 0.5, dependsOn: [] },
  { name: "api", readySeconds: 2, dependsOn: ["redis"] },
  { name: "worker", readySeconds: 1, dependsOn: ["cache"] },
  { name: "router", readySeconds: 1, dependsOn: ["api", "worker"] },
];

function httpCommand(s: BenchService): string[] {
  return [
    "sh",
    "-c",
    `sleep ${s.readySeconds}; mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www`,
  ];
}

const REDIS_COMMAND = ["/usr/bin/redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no"];

/** The stack as `[services.NAME]` tables. */
export function stackServices(images: { busybox: string; redis: string }): Record<string, ServiceConfig> {
  const out: Record<string, ServiceConfig> = {};
  for (const s of BENCH_STACK) {
    out[s.name] = s.redis
      ? { image: images.redis, command: REDIS_COMMAND, ports: ["6379"], health: { kind: "redis", port: 6379 } }
      : {
        image: images.busybox,
        command: httpCommand(s),
        ports: ["8080"],
        dependsOn: s.dependsOn,
        health: { kind: "http", port: 8080, path: "/health" },
      };
  }
  return out;
}

/**
 * The equivalent compose file (format 2.4, which has `depends_on: condition: service_healthy` in compose 1.29):
 * health checks every second, run inside the containers with the tools the images carry.
 */
export function composeFile(images: { busybox: string; redis: string }, labels: Record<string, string>): string {
  const services: Record<string, unknown> = {};
  for (const s of BENCH_STACK) {
    const test = s.redis
      ? ["CMD-SHELL", "printf 'PING\\r\\n' | nc -w 1 127.0.0.1 6379 | grep -q PONG"]
      : ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"];
    services[s.name] = {
      image: s.redis ? images.redis : images.busybox,
      command: s.redis ? REDIS_COMMAND : httpCommand(s),
      labels,
      healthcheck: { test, interval: "1s", timeout: "1s", retries: 120, start_period: "0s" },
      depends_on: Object.fromEntries(s.dependsOn.map((d) => [d, { condition: "service_healthy" }])),
    };
  }
  // JSON is YAML; compose reads it as is.
  return JSON.stringify({ version: "2.4", services, networks: { default: { labels } } }, null, 2);
}

/** The critical path: the longest chain of (create-and-start latency + readiness) through the dependencies. */
export function criticalPath(engineSeconds: number): { seconds: number; chain: string[] } {
  const memo = new Map<string, { seconds: number; chain: string[] }>();
  const longest = (name: string): { seconds: number; chain: string[] } => {
    const hit = memo.get(name);
    if (hit) return hit;
    const s = BENCH_STACK.find((x) => x.name === name)!;
    const before = s.dependsOn.map(longest).sort((a, b) => b.seconds - a.seconds)[0] ?? { seconds: 0, chain: [] };
    const result = { seconds: before.seconds + engineSeconds + s.readySeconds, chain: [...before.chain, name] };
    memo.set(name, result);
    return result;
  };
  return BENCH_STACK.map((s) => longest(s.name)).sort((a, b) => b.seconds - a.seconds)[0];
}
