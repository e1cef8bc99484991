/**
 * PullImages against a real registry on loopback (Debian's docker-registry):
 * the engine's real pull stream, layers aggregated into current/total.
 */
import { pullImages, type PullProgress } from "../src/env/mod.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { buildBusyboxImage, ensureDockerEngine, startRegistry } from "./support/docker.ts";

Deno.test("pullImages() reports real download and extraction progress from a registry", async () => {
  const engine = await ensureDockerEngine();
  await using registry = await startRegistry();
  const id = crypto.randomUUID().slice(0, 8);
  // A file of its own makes the layer unique, so the engine must download it (no layer shared with other images).
  const source = await buildBusyboxImage(engine, `dspy-agent-test/pull-source:${id}`, {
    files: { "/etc/dspy-agent-pull-test": `${id}\n${"x".repeat(512 * 1024)}\n` },
  });
  const remote = await registry.push(engine, source, `dspy-agent-test/pulled:${id}`);
  await engine.removeImage(remote);
  await engine.removeImage(source);
  try {
    assertEquals(await engine.findImage(remote), undefined);
    const updates: PullProgress[] = [];
    for await (const update of pullImages(engine, [remote], { throttleMs: 0 })) updates.push(update);
    const statuses = [...new Set(updates.map((u) => u.status))];
    assertEquals(statuses, ["downloading", "extracting", "complete"]);
    const last = updates.at(-1)!;
    assert(last.total > 1_000_000, `total ${last.total}`);
    assertEquals([last.current, last.percent], [last.total, 100]);
    // Progress only moves forward within a phase.
    for (const phase of ["downloading", "extracting"] as const) {
      const currents = updates.filter((u) => u.status === phase).map((u) => u.current);
      assertEquals(currents, [...currents].sort((a, b) => a - b), phase);
    }
    assert(await engine.findImage(remote), "the pulled image is present");
  } finally {
    await engine.removeImage(remote, { force: true });
  }
});
