import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { IllegalServiceTransitionError, type ServiceState, statusOf, transition } from "./service_state.ts";

Deno.test("transition() walks a service from stopped to running and reports API statuses", () => {
  let state: ServiceState = { kind: "stopped" };
  const seen: string[] = [];
  for (
    const event of [
      { type: "wait" },
      { type: "pull" },
      { type: "create" },
      { type: "created", containerId: "c1" },
      { type: "probe" },
      { type: "healthy", at: 5 },
    ] as const
  ) {
    state = transition("redis", state, event);
    seen.push(statusOf(state));
  }
  assertEquals(state, { kind: "running", containerId: "c1", since: 5 });
  assertEquals(seen, ["starting", "starting", "starting", "starting", "starting", "running"]);
  state = transition("redis", state, { type: "died", reason: "exit 137" });
  assertEquals(statusOf(state), "failed");
  state = transition("redis", state, { type: "restart", attempt: 1 });
  assertEquals(state, { kind: "restarting", containerId: "c1", attempt: 1 });
});

Deno.test("transition() rejects illegal events instead of overwriting the state", () => {
  const error = assertThrows(
    () => transition("redis", { kind: "stopped" }, { type: "healthy", at: 1 }),
    IllegalServiceTransitionError,
  );
  assertEquals([error.service, error.from, error.event], ["redis", "stopped", "healthy"]);
  assertThrows(() => transition("redis", { kind: "waiting" }, { type: "probe" }), IllegalServiceTransitionError);
  assertThrows(() => transition("x", { kind: "skipped", reason: "" }, { type: "died", reason: "" }));
});
