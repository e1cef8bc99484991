/**
 * The bearer token the daemon asks for on non-loopback addresses.
 *
 * @module
 */

/** Whether a `host:port` address is on the loopback interface (no token needed). */
export function isLoopback(address: string): boolean {
  const host = address.startsWith("[") ? address.slice(1, address.indexOf("]")) : address.split(":")[0];
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Options of {@linkcode readToken}. */
export interface ReadTokenOptions {
  /** The state folder holding `auth.token`. */
  home: string;
  /** DSPY_AGENT_TOKEN, which wins over the file. */
  envToken?: string;
  /** Aborts the read. */
  signal?: AbortSignal;
}

/** Returns the token from DSPY_AGENT_TOKEN or `<home>/auth.token`, or undefined when neither exists. */
export async function readToken(options: ReadTokenOptions): Promise<string | undefined> {
  if (options.envToken) return options.envToken.trim();
  try {
    const text = await Deno.readTextFile(`${options.home}/auth.token`, { signal: options.signal });
    return text.trim() || undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
