import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { IllegalWorkflowTransitionError } from "./errors.ts";
import { isRunFinished, transitionRun, transitionStep } from "./state.ts";

Deno.test("transitionRun() follows pending -> running -> a finished state", () => {
  assertEquals(transitionRun("pending", "running"), "running");
  assertEquals(transitionRun("running", "succeeded"), "succeeded");
  assertEquals(isRunFinished("succeeded"), true);
  assertEquals(isRunFinished("running"), false);
});

Deno.test("transitionRun() and transitionStep() refuse to leave a finished state", () => {
  assertThrows(
    () => transitionRun("succeeded", "running"),
    IllegalWorkflowTransitionError,
    `Cannot move workflow run from "succeeded" to "running"`,
  );
  assertThrows(
    () => transitionStep("cancelled", "running"),
    IllegalWorkflowTransitionError,
  );
  assertThrows(
    () => transitionStep("waiting", "succeeded"),
    IllegalWorkflowTransitionError,
  );
});
