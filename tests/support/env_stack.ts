/**
 * Helpers for environment-manager tests and the stack-start benchmark: a config for a throwaway project, and a
 * way to run a start to its end.
 *
 * @module
 */
import { type Config, defaultConfig, type ServiceConfig } from "../../src/config/mod.ts";
import type { EnvEvent, EnvManager, StartUpdate } from "../../src/env/mod.ts";

/** A config for a unique test project in a fresh state folder, with only the given services enabled. */
export async function testStackConfig(
  name: string,
  services: Record<string, ServiceConfig>,
  overrides: Partial<Config> = {},
): Promise<Config> {
  const home = await Deno.makeTempDir({ prefix: `dspy-agent-${name}-` });
  const config = defaultConfig({ home });
  // Built-ins stay defined but disabled, so a test starts only its own services.
  const disabled: Record<string, ServiceConfig> = { redis: { enabled: false } };
  return {
    ...config,
    project: `dspy-agent-test-${name}-${crypto.randomUUID().slice(0, 6)}`,
    services: { ...disabled, ...services },
    healthTimeoutSeconds: 30,
    ...overrides,
  };
}

/** Runs a start to its end and returns every update. */
export async function drainStart(
  manager: EnvManager,
  options: { names?: string[]; signal?: AbortSignal } = {},
): Promise<StartUpdate[]> {
  const updates: StartUpdate[] = [];
  const signal = options.signal ?? AbortSignal.timeout(120_000);
  for await (const update of manager.start({ names: options.names ?? [], signal })) updates.push(update);
  return updates;
}

/** Collects events and lets a test wait for one. */
export function eventRecorder(): {
  events: EnvEvent[];
  onEvent: (event: EnvEvent) => void;
  waitFor: (pred: (e: EnvEvent) => boolean, timeoutMs: number) => Promise<EnvEvent>;
} {
  const events: EnvEvent[] = [];
  const waiters: { pred: (e: EnvEvent) => boolean; resolve: (e: EnvEvent) => void }[] = [];
  return {
    events,
    onEvent(event) {
      events.push(event);
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    },
    waitFor(pred, timeoutMs) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

/** A busybox service that serves HTTP `/health` on 8080 after `delaySeconds`. */
export function httpService(image: string, delaySeconds: number, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    image,
    command: [
      "sh",
      "-c",
      `sleep ${delaySeconds}; mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www`,
    ],
    health: { kind: "http", port: 8080, path: "/health" },
    ...extra,
  };
}
