/**
 * The `dspy-agent` binary: runs the CLI and exits with its code.
 *
 * @module
 */

import { main } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
