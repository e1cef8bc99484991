/**
 * The interop suite: a real Python grpcio client calls every RPC of both
 * services against a daemon started under the production permission set —
 * unary calls, streams read to the end, streams cancelled mid-way — plus a
 * Connect JSON call over HTTP/1.1 and a /metrics scrape checked by promtool.
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import {
  assertNothingLeft,
  buildBusyboxImage,
  BUSYBOX_IMAGE,
  ensureDockerEngine,
  removeByLabel,
} from "./support/docker.ts";
import { runPythonJson } from "./support/python.ts";

const CLIENT = new URL("./interop_client.py", import.meta.url).pathname;
const PROJECT = `dspy-agent-interop-${Math.random().toString(36).slice(2, 8)}`;
const PROJECT_LABELS = { "dev.dspy-agent.project": PROJECT };

function configToml(): string {
  return `project = "${PROJECT}"
[services]
redis = false
[services.web]
image = "${BUSYBOX_IMAGE}"
command = ["sh", "-c", "echo web starting; exec httpd -f -v -p 8080"]
ports = ["8080"]
[services.web.health]
kind = "tcp"
port = 8080
`;
}

Deno.test("interop: a Python grpcio client calls every RPC of both services", async () => {
  const engine = await ensureDockerEngine();
  await buildBusyboxImage(engine);
  try {
    await using daemon = await startDaemonProcess({ configToml: configToml() });
    const script = await Deno.readTextFile(CLIENT);
    // deno-lint-ignore no-explicit-any
    const out = await runPythonJson<Record<string, any>>(script, { args: [daemon.grpcAddr, "web"] });

    assertEquals(out.health.healthy, true);
    assertEquals(out.submit, { success: true, has_id: true });
    assertEquals(out.status.status, "completed");
    for (const key of ["latency_ms", "class", "metadata", "data"]) assert(out.status.result_keys.includes(key), key);
    // The echo task returns its decoded payload (docs/compatibility.md §2.4 decoding rules).
    assertEquals(out.echo_data.n, 3);
    assertEquals(out.echo_data.flag, true);
    // docs/compatibility.md §2.4 decodes only `null`; Python's str(None) stays the string "None", as before.
    assertEquals(out.echo_data.none, "None");
    assertEquals(out.echo_data.nested, "{'a': 1}");
    assertEquals(out.status_empty_id, "INVALID_ARGUMENT");
    assertEquals(out.status_unknown_id, "NOT_FOUND");
    assertEquals(out.stream_results.at(-1), "completed");
    assertEquals(out.stream_cancelled_first, true);
    assertEquals(out.cancel, { success: true, status: "failed" });
    assertEquals(out.list, { count: 2, has_next: true });
    assertEquals(out.workflow_create, true);
    assertEquals(out.workflow_idempotent, true);
    assertEquals(out.workflow_final, "succeeded");
    assertEquals(out.workflow_listed, [["a", [], "succeeded"], ["b", ["a"], "succeeded"]]);
    for (const key of ["tasks_pending", "tasks_running", "tasks_completed", "concurrency_limit"]) {
      assert(out.metrics_keys.includes(key), key);
    }
    assertEquals(out.metrics_filtered, ["tasks_completed"]);
    assert(out.event_types.includes("task_completed"));
    assertEquals(out.start_last.status, "running");
    assertEquals(out.services_status, { status: "running", has_container: true });
    assertEquals(out.stream_health, { service: "web", healthy: true });
    assertEquals(out.logs_empty_name, "INVALID_ARGUMENT");
    assertEquals(out.logs_unknown, "NOT_FOUND");
    assertEquals(out.restart, true);
    assert(out.resources.cores > 0 && out.resources.memory);
    assertEquals(out.execute, { success: true, data: { ok: true } });
    assertEquals(out.pull_last, "error");
    assertEquals(out.stop.success, true);
    assertEquals(out.healthy_after, true);

    // Connect protocol, plain JSON over HTTP/1.1 (what curl and browsers use).
    const res = await fetch(`http://${daemon.httpAddr}/orchestrator.v1.OrchestratorService/SubmitTask`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "interop-json", payload: { task_type: "noop" } }),
    });
    assertEquals(await res.json(), { success: true, taskId: "interop-json" });

    // /metrics is valid Prometheus text and carries the contract's names.
    const metrics = await (await fetch(`http://${daemon.httpAddr}/metrics`)).text();
    for (
      const name of ["orchestrator_concurrency_limit", "queue_tasks_submitted_total", "env_manager_active_services"]
    ) {
      assertStringIncludes(metrics, name);
    }
    const promtool = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const writer = promtool.stdin.getWriter();
    await writer.write(new TextEncoder().encode(metrics));
    await writer.close();
    const checked = await promtool.output();
    const problems = new TextDecoder().decode(checked.stdout) + new TextDecoder().decode(checked.stderr);
    assertEquals(checked.code, 0, problems);
  } finally {
    await removeByLabel(engine, PROJECT_LABELS);
  }
  await assertNothingLeft(engine, PROJECT_LABELS);
});
