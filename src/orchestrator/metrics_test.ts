import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { openTestOrchestrator, waitForTask } from "../../tests/support/orchestrator.ts";
import { Registry } from "prom-client";

Deno.test("the registry carries the docs/compatibility.md §7 orchestrator metrics with real values", async () => {
  const registry = new Registry();
  await using orch = await openTestOrchestrator({ registry });
  orch.tasks.submit({ id: "a", payload: { task_type: "noop" } });
  orch.tasks.submit({ id: "b", payload: { task_type: "fail" } });
  orch.tasks.submit({ id: "g", class: "gpu", payload: { task_type: "noop" } });
  await waitForTask(orch.tasks, "a");
  await waitForTask(orch.tasks, "b");
  const text = await registry.metrics();
  for (
    const name of [
      "orchestrator_concurrency_limit",
      "orchestrator_inflight_tasks",
      "orchestrator_task_errors_total",
      "env_queue_depth",
      "gpu_wait_seconds",
      "env_error_rate",
      "queue_tasks_submitted_total",
      "queue_tasks_completed_total",
      "events_published_total",
      "orchestrator_task_duration_seconds_bucket",
      "orchestrator_task_queue_wait_seconds_bucket",
    ]
  ) assertStringIncludes(text, `\n${name}`);
  assertStringIncludes(text, 'orchestrator_concurrency_limit{class="cpu_short"} 4');
  assertStringIncludes(text, 'env_queue_depth{class="gpu"} 1');
  assertStringIncludes(text, 'orchestrator_task_errors_total{class="cpu_short"} 1');
  assertStringIncludes(text, 'queue_tasks_completed_total{class="cpu_short"} 1');
  assertStringIncludes(text, 'orchestrator_task_duration_seconds_count{class="cpu_short",outcome="completed"} 1');
  const promtool = await new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const writer = promtool.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const result = await promtool.output();
  // promtool exits 0, or 3 for lint warnings only (not errors).
  assert(result.code === 0 || result.code === 3, new TextDecoder().decode(result.stderr));
  assertEquals(new TextDecoder().decode(result.stderr).includes("error"), false);
  orch.tasks.cancel("g");
});
