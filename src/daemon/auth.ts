/**
 * The daemon's bearer token (`<home>/auth.token`) and the rule that every non-loopback caller must present it.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";

/** The token file's name in the state folder. */
export const TOKEN_FILE = "auth.token";

/**
 * Returns the daemon's bearer token, creating `<home>/auth.token` (mode 0600)
 * on first use. Clients on loopback need no token; any other client must send
 * `authorization: Bearer <token>`, because the API can start containers.
 */
export async function loadOrCreateToken(
  home: string,
  signal?: AbortSignal,
): Promise<string> {
  const path = `${home}/${TOKEN_FILE}`;
  try {
    const token = (await Deno.readTextFile(path, { signal })).trim();
    if (token.length >= 32) return token;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const token = randomHex(32);
  await Deno.writeTextFile(path, token + "\n", { mode: 0o600, signal });
  return token;
}

/** `bytes` random bytes as hex: the daemon's secrets (the token, the page token). */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when an address (as node reports a peer) is on the loopback interface. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/, "");
  return a === "::1" || a.startsWith("127.");
}

/** True when a request may proceed: it comes from loopback, or carries the token. */
export function authorized(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  token: string,
): boolean {
  if (isLoopback(remoteAddress)) return true;
  const m = authorization?.match(/^Bearer\s+(\S+)$/i);
  if (!m) return false;
  const given = new TextEncoder().encode(m[1]);
  const expected = new TextEncoder().encode(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
