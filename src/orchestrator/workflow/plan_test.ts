import { assertEquals } from "../../../tests/support/assert.ts";
import { planRun } from "./plan.ts";
import { parseWorkflowSpec } from "./spec.ts";

const diamond = parseWorkflowSpec(
  "w",
  JSON.stringify({
    steps: [
      { id: "a" },
      { id: "b", depends_on: ["a"] },
      { id: "c", depends_on: ["a"] },
      { id: "d", depends_on: ["b", "c"] },
      { id: "e", depends_on: ["a"] },
    ],
  }),
);

Deno.test("planRun() starts roots first, then steps whose dependencies succeeded", () => {
  assertEquals(planRun(diamond, {}), { kind: "continue", ready: ["a"] });
  assertEquals(
    planRun(diamond, { a: { state: "succeeded" }, b: { state: "running" } }),
    { kind: "continue", ready: ["c", "e"] },
  );
  assertEquals(
    planRun(diamond, {
      a: { state: "succeeded" },
      b: { state: "succeeded" },
      c: { state: "running" },
      e: { state: "running" },
    }),
    { kind: "continue", ready: [] },
  );
});

Deno.test("planRun() fails the run on a failed step and cancels what is unfinished", () => {
  assertEquals(
    planRun(diamond, {
      a: { state: "succeeded" },
      b: { state: "failed" },
      c: { state: "running" },
      e: { state: "succeeded" },
    }),
    { kind: "failed", failedStep: "b", cancel: ["c", "d"] },
  );
});

Deno.test("planRun() succeeds with the outputs of the final steps", () => {
  const done = { state: "succeeded" as const };
  assertEquals(
    planRun(diamond, {
      a: done,
      b: done,
      c: done,
      d: { state: "succeeded", output: { score: 0.9, tag: "x" } },
      e: { state: "succeeded", output: [1, 2] },
    }),
    {
      kind: "succeeded",
      output: { "d.score": "0.9", "d.tag": "x", e: "[1,2]" },
    },
  );
});
