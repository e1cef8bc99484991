/** Checking ListWorkflowRuns requests and building the view of a listed run, without a store. @module */
import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { InvalidRunListingError } from "./errors.ts";
import { checkRunListing, DEFAULT_RUN_PAGE, MAX_RUN_PAGE, runPageToken, runView } from "./listing.ts";
import type { RunRecord } from "./store.ts";

const RUN: RunRecord = {
  id: "run-1",
  workflowId: "w",
  idempotencyKey: "",
  input: {},
  spec: {
    steps: [
      { id: "a", class: "cpu_short", payload: {}, dependsOn: [], maxAttempts: 1, timeoutSeconds: 0, priority: 0 },
      { id: "b", class: "gpu", payload: {}, dependsOn: ["a"], maxAttempts: 1, timeoutSeconds: 0, priority: 0 },
    ],
  },
  state: "running",
  error: "",
  output: {},
  createdAtMs: 1_700_000_000_123,
  finishedAtMs: 0,
};

Deno.test("checkRunListing() defaults the page size, merges repeated states and reads back its own token", () => {
  assertEquals(checkRunListing({}), {
    workflowId: "",
    runId: "",
    states: [],
    size: DEFAULT_RUN_PAGE,
    after: undefined,
  });
  const query = checkRunListing({ states: ["failed", "failed"], pageSize: MAX_RUN_PAGE, pageToken: runPageToken(RUN) });
  assertEquals(query.states, ["failed"]);
  assertEquals(query.size, MAX_RUN_PAGE);
  assertEquals(query.after, { createdAtMs: RUN.createdAtMs, id: "run-1" });
});

Deno.test("checkRunListing() refuses out-of-range sizes, foreign tokens, unknown states and malformed ids by field", () => {
  const field = (input: Parameters<typeof checkRunListing>[0]) =>
    assertThrows(() => checkRunListing(input), InvalidRunListingError).field;
  assertEquals(field({ pageSize: MAX_RUN_PAGE + 1 }), "page_size");
  assertEquals(field({ pageSize: 1.5 }), "page_size");
  assertEquals(field({ pageToken: "12345678901234567890:run-1" }), "page_token");
  assertEquals(field({ pageToken: "1:" }), "page_token");
  assertEquals(field({ states: ["completed"] }), "states");
  assertEquals(field({ workflowId: "x".repeat(129) }), "workflow_id");
  assertEquals(field({ runId: "run 1" }), "run_id");
});

Deno.test("runView() lists steps in spec order with their dependencies; a step without a record is waiting", () => {
  const view = runView({
    run: RUN,
    workflowName: "",
    steps: [{
      runId: "run-1",
      stepId: "a",
      state: "running",
      taskId: "run-1.a",
      output: undefined,
      error: "",
      startedAtMs: 5,
      finishedAtMs: 0,
    }],
  });
  assertEquals(view.workflowName, "w");
  assertEquals(view.steps.map((s) => [s.id, s.state, s.taskId, s.dependsOn, s.class]), [
    ["a", "running", "run-1.a", [], "cpu_short"],
    ["b", "waiting", "", ["a"], "gpu"],
  ]);
});
