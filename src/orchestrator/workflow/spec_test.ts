import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { WorkflowSpecError } from "./errors.ts";
import { ancestors, finalSteps, parseWorkflowSpec, referencedInputs } from "./spec.ts";

const spec = (steps: unknown[]) => JSON.stringify({ steps });

Deno.test("parseWorkflowSpec() fills defaults and keeps JSON payload values as text", () => {
  const parsed = parseWorkflowSpec(
    "w",
    spec([{
      id: "a",
      payload: { task_type: "sleep", sleep_ms: 5, cfg: { x: [1] } },
    }]),
  );
  assertEquals(parsed.steps, [{
    id: "a",
    class: "cpu_short",
    payload: { task_type: "sleep", sleep_ms: "5", cfg: '{"x":[1]}' },
    dependsOn: [],
    maxAttempts: 1,
    timeoutSeconds: 0,
    priority: 0,
  }]);
});

Deno.test("parseWorkflowSpec() names a two-step cycle", () => {
  assertThrows(
    () =>
      parseWorkflowSpec(
        "w",
        spec([{ id: "a", depends_on: ["b"] }, { id: "b", depends_on: ["a"] }]),
      ),
    WorkflowSpecError,
    `Cannot create workflow "w": steps form a cycle: a -> b -> a`,
  );
});

Deno.test("parseWorkflowSpec() names a longer cycle in run order", () => {
  assertThrows(
    () =>
      parseWorkflowSpec(
        "w",
        spec([
          { id: "start" },
          { id: "a", depends_on: ["start", "c"] },
          { id: "b", depends_on: ["a"] },
          { id: "c", depends_on: ["b"] },
        ]),
      ),
    WorkflowSpecError,
    "steps form a cycle: a -> b -> c -> a",
  );
});

Deno.test("parseWorkflowSpec() rejects a step depending on itself", () => {
  assertThrows(
    () => parseWorkflowSpec("w", spec([{ id: "a", depends_on: ["a"] }])),
    WorkflowSpecError,
    "steps form a cycle: a -> a",
  );
});

Deno.test("parseWorkflowSpec() rejects unknown dependencies and duplicate ids", () => {
  assertThrows(
    () => parseWorkflowSpec("w", spec([{ id: "a", depends_on: ["ghost"] }])),
    WorkflowSpecError,
    `step "a" depends on unknown step "ghost"`,
  );
  assertThrows(
    () => parseWorkflowSpec("w", spec([{ id: "a" }, { id: "a" }])),
    WorkflowSpecError,
    `step id "a" is used twice`,
  );
});

Deno.test("parseWorkflowSpec() rejects references to unknown or non-upstream steps", () => {
  assertThrows(
    () =>
      parseWorkflowSpec(
        "w",
        spec([{ id: "a", payload: { x: "${steps.ghost.output.y}" } }]),
      ),
    WorkflowSpecError,
    `step "a" payload "x" references unknown step "ghost"`,
  );
  assertThrows(
    () =>
      parseWorkflowSpec(
        "w",
        spec([{ id: "a" }, { id: "b", payload: { x: "${steps.a.output}" } }]),
      ),
    WorkflowSpecError,
    `references step "a", which is not upstream of it`,
  );
  assertThrows(
    () =>
      parseWorkflowSpec(
        "w",
        spec([{ id: "a", payload: { x: "${env.HOME}" } }]),
      ),
    WorkflowSpecError,
    `reference "\${env.HOME}" is neither`,
  );
});

Deno.test("parseWorkflowSpec() accepts references to transitive ancestors and input", () => {
  const parsed = parseWorkflowSpec(
    "w",
    spec([
      { id: "a", payload: { lr: "${input.lr}" } },
      { id: "b", depends_on: ["a"] },
      { id: "c", depends_on: ["b"], payload: { m: "${steps.a.output.model}" } },
    ]),
  );
  assertEquals(finalSteps(parsed), ["c"]);
  assertEquals([...ancestors(parsed, "c")].sort(), ["a", "b"]);
  assertEquals([...referencedInputs(parsed)], [["lr", ["a"]]]);
});

Deno.test("parseWorkflowSpec() rejects malformed specs with a reason", () => {
  const cases: [string, string][] = [
    ["{", "spec is not valid JSON"],
    ["[]", `spec must be an object with a "steps" array`],
    [spec([]), "spec has no steps"],
    [spec([{ id: "a b" }]), `step 1 has id "a b"`],
    [spec([{ id: "a", max_attempts: 0 }]), `step "a" max_attempts is 0`],
    [
      spec([{ id: "a", depends_on: "b" }]),
      `step "a" has depends_on that is not a list`,
    ],
    [
      spec([{ id: "a", payload: [1] }]),
      `step "a" has a payload that is not an object`,
    ],
  ];
  for (const [text, reason] of cases) {
    assertThrows(() => parseWorkflowSpec("w", text), WorkflowSpecError, reason);
  }
});
