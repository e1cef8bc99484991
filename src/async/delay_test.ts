import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { delay } from "./mod.ts";

Deno.test("delay() resolves after the time, and rejects with the signal's own reason when it aborts", async () => {
  await delay(1);
  const controller = new AbortController();
  const reason = new Error("stop");
  const waiting = delay(60_000, controller.signal);
  controller.abort(reason);
  assertEquals(await waiting.catch((error) => error), reason);
  await assertRejects(() => delay(1, AbortSignal.abort(reason)), Error, "stop");
});
