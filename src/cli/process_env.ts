/**
 * Node's `process.env` as npm libraries see it, narrowed to the variables the program is granted.
 *
 * Deno grants `env` by name (deno.json's `dspy-agent` set lists them), and refuses to list the whole environment
 * without every name granted. npm's `debug`, which dockerode loads, lists it (`Object.keys(process.env)`) when it
 * loads, so under the scoped grant it would fail. Before any npm library loads, `process.env` becomes a plain object
 * holding the granted variables that are set: libraries read what they are allowed to, and nothing else. Child
 * processes are unaffected: they inherit the real environment from the operating system.
 *
 * @module
 */
import process from "node:process";

/** Variables npm libraries we load read at load time, besides our own (docs/security.md). */
export const LIBRARY_ENV_NAMES = [
  "DEBUG",
  "DEBUG_DEPTH",
  "READABLE_STREAM",
  "GRPC_NODE_VERBOSITY",
  "GRPC_VERBOSITY",
  "GRPC_NODE_TRACE",
  "GRPC_TRACE",
  "GRPC_SSL_CIPHER_SUITES",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
  "GRPC_NODE_USE_ALTERNATIVE_RESOLVER",
  "GRPC_NODE_DEBUG_SEND_ERROR_DETAILS",
  "GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION",
] as const;

/**
 * Replaces `process.env` with the granted variables among `names` that are set. Does nothing when the whole
 * environment is granted (tests run with it), so libraries then see it all as usual.
 */
export function scopeProcessEnv(names: readonly string[]): void {
  if (Deno.permissions.querySync({ name: "env" }).state === "granted") return;
  const granted: Record<string, string> = {};
  for (const name of names) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
    const value = Deno.env.get(name);
    if (value !== undefined) granted[name] = value;
  }
  Object.defineProperty(process, "env", { value: granted, writable: true, configurable: true, enumerable: true });
}
