import { Code } from "@connectrpc/connect";
import { assertEquals } from "../../tests/support/assert.ts";
import * as config from "../config/mod.ts";
import * as env from "../env/mod.ts";
import * as orchestrator from "../orchestrator/mod.ts";
import { codeForError, toConnectError } from "./errors.ts";

/**
 * Error classes that answer INTERNAL on purpose: each is a fault of the daemon or its machine that a client cannot
 * act on, and its message stays in the daemon's log.
 */
const INTERNAL_ON_PURPOSE = new Set([
  "DockerError", // an engine failure with no more specific class: logged, the client told to look at the log
  "TaskExecutionError", // recorded on the task as its error, never thrown to a client
  "ServiceStartError", // reported in the StartServices stream, not as a status
  "AttemptInterruptedError", // turned into an interruption of the task by the scheduler, never thrown to a client
]);

Deno.test("every error class the domain folders export maps to a gRPC code (or is listed as internal on purpose)", () => {
  const unmapped: string[] = [];
  for (const [folder, exports] of Object.entries({ config, env, orchestrator })) {
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
      if (codeForError(name) === undefined && !INTERNAL_ON_PURPOSE.has(name)) unmapped.push(`${folder}/${name}`);
    }
  }
  assertEquals(unmapped, [], "add each to CODES in src/api/errors.ts, or to INTERNAL_ON_PURPOSE with the reason");
});

Deno.test("toConnectError() maps by the class's name and keeps the original as the cause", () => {
  const error = new orchestrator.TaskNotFoundError("t1");
  const mapped = toConnectError(error);
  assertEquals([mapped.code, mapped.cause], [Code.NotFound, error]);
  assertEquals(toConnectError(new Error("boom")).code, Code.Internal);
});
