/**
 * `dspy-agent version`: the version and commit of this binary.
 *
 * @module
 */

import type { CommandContext } from "../context.ts";
import { COMMIT, VERSION } from "../../version.ts";

/** Prints the version, the commit and the Deno runtime. */
export function run(ctx: CommandContext): Promise<number> {
  const info = { version: VERSION, commit: COMMIT, deno: Deno.version.deno, os: Deno.build.os, arch: Deno.build.arch };
  if (ctx.globals.json || ctx.output.json) ctx.output.writeJson(info);
  else ctx.output.line(`dspy-agent ${VERSION} (${COMMIT}) deno ${info.deno} ${info.os}/${info.arch}`);
  return Promise.resolve(0);
}
