import { assert, assertEquals } from "../../../tests/support/assert.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  ensureDockerEngine,
  removeByLabel,
  testLabels,
} from "../../../tests/support/docker.ts";
import type { ContainerStatsSample } from "./engine.ts";
import { containerStats, usageFromSamples } from "./stats.ts";

function sample(cpu: number, system: number, memory: Record<string, number>): ContainerStatsSample {
  return {
    cpu_stats: { cpu_usage: { total_usage: cpu }, system_cpu_usage: system, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0 },
    memory_stats: { usage: 1000, stats: memory },
    networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
  } as unknown as ContainerStatsSample;
}

Deno.test("usageFromSamples() computes CPU like docker stats and leaves the page cache out", () => {
  const v2 = usageFromSamples(sample(100, 1000, {}), sample(300, 2000, { inactive_file: 400 }));
  assertEquals(v2, { cpuPercent: 40, memoryBytes: 600, networkRxBytes: 11, networkTxBytes: 22 });
  const v1 = usageFromSamples(undefined, sample(50, 100, { total_inactive_file: 100, cache: 900 }));
  assertEquals([v1.cpuPercent, v1.memoryBytes], [100, 900]);
});

Deno.test("containerStats() sees a busy container's CPU and memory", async () => {
  const engine = await ensureDockerEngine();
  const labels = testLabels("stats");
  try {
    const id = await engine.createContainer({
      Image: await buildBusyboxImage(engine),
      Cmd: ["sh", "-c", "while :; do :; done"],
      Labels: labels,
      HostConfig: { NetworkMode: "none" },
    });
    await engine.startContainer(id);
    const usage = await containerStats(engine, id, { sampleMs: 300 });
    assert(usage.cpuPercent > 1, `cpu ${usage.cpuPercent}%`);
    assert(usage.memoryBytes > 0, "memory");
  } finally {
    await removeByLabel(engine, labels);
  }
  await assertNothingLeft(engine, labels);
});
