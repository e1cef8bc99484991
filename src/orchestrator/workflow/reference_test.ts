import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { findReferences, resolveReferences } from "./reference.ts";

const scope = {
  input: { lr: "0.1", name: "m" },
  outputs: { train: { model: "/m.bin", metrics: { loss: 0.5 } }, count: 3 },
};

Deno.test("findReferences() parses input and step references", () => {
  assertEquals(
    findReferences("${input.lr} and ${steps.train.output.metrics.loss}"),
    [
      { kind: "input", text: "${input.lr}", key: "lr" },
      {
        kind: "step",
        text: "${steps.train.output.metrics.loss}",
        stepId: "train",
        path: ["metrics", "loss"],
      },
    ],
  );
});

Deno.test("resolveReferences() inserts strings as they are and other values as JSON", () => {
  assertEquals(resolveReferences("${input.lr}", scope), "0.1");
  assertEquals(
    resolveReferences("${steps.train.output.metrics}", scope),
    '{"loss":0.5}',
  );
  assertEquals(resolveReferences("n=${steps.count.output}", scope), "n=3");
  assertEquals(resolveReferences("$${input.name}$", scope), "$m$");
  assertEquals(resolveReferences("plain", scope), "plain");
});

Deno.test("resolveReferences() names a reference without a value", () => {
  assertThrows(
    () => resolveReferences("${steps.train.output.nope}", scope),
    Error,
    `the output of step "train" has no key "nope"`,
  );
  assertThrows(
    () => resolveReferences("${input.x}", scope),
    Error,
    `has no key "x"`,
  );
  assertThrows(
    () => resolveReferences("${steps.b.output}", scope),
    Error,
    `step "b" has no output`,
  );
});
