import { assertEquals } from "../../../../tests/support/assert.ts";
import type { ServiceStatusUpdate } from "../../../client/mod.ts";
import { followStart, rowOfUpdate } from "./start_progress.ts";

function update(fields: Partial<ServiceStatusUpdate>): ServiceStatusUpdate {
  return {
    serviceName: "web",
    status: "starting",
    message: "",
    progress: 0,
    phase: "creating",
    portMappings: [],
    logTail: [],
    required: true,
    elapsedMs: 0,
    ...fields,
  };
}

async function* stream(updates: ServiceStatusUpdate[]): AsyncGenerator<ServiceStatusUpdate> {
  for (const u of updates) yield u;
}

Deno.test("rowOfUpdate() shows progress while starting, ✓ when running, ✗ with the log tail when failed", () => {
  assertEquals(rowOfUpdate(update({ phase: "probing" })).state, "active");
  assertEquals(rowOfUpdate(update({ phase: "probing" })).text, "waiting for health check");
  const ok = rowOfUpdate(update({ status: "running", phase: "healthy", portMappings: ["6379->6379/tcp"] }));
  assertEquals([ok.state, ok.text], ["ok", "healthy  6379->6379/tcp"]);
  assertEquals(rowOfUpdate(update({ status: "running", phase: "adopted" })).text, "already running");
  const failed = rowOfUpdate(update({ status: "failed", phase: "failed", message: "exited 3", logTail: ["a", "b"] }));
  assertEquals([failed.state, failed.text, failed.details], ["failed", "exited 3", ["a", "b"]]);
});

Deno.test("followStart() fails on a required service, not on an optional one", async () => {
  const result = await followStart(stream([
    update({ serviceName: "web", status: "running", phase: "healthy" }),
    update({ serviceName: "extra", status: "failed", phase: "failed", message: "no image", required: false }),
    update({ serviceName: "db", status: "failed", phase: "failed", message: "port 5432 is in use" }),
    update({ serviceName: "", status: "failed", phase: "done", message: "required services failed: db" }),
  ]));
  assertEquals(result.outcomes.map((o) => [o.name, o.ok]), [["web", true], ["extra", false], ["db", false]]);
  assertEquals(result.failures, [{ service: "db", reason: "port 5432 is in use" }]);
});

Deno.test("followStart() trusts the daemon's final verdict when no service says why", async () => {
  const result = await followStart(stream([
    update({ serviceName: "api", status: "failed", phase: "skipped", message: "dependency failed", required: false }),
    update({ serviceName: "", status: "failed", phase: "done", message: "required services failed: db" }),
  ]));
  assertEquals(result.failures, [{ service: "stack", reason: "required services failed: db" }]);
});
