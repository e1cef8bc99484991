/**
 * Decoding of task payload values. Python clients call `str()` on every value
 * before sending it, so the server decodes each string the way the earlier
 * orchestrator did (docs/compatibility.md §2.4).
 *
 * @module
 */

/** A decoded payload value. */
export type PayloadValue =
  | string
  | number
  | boolean
  | null
  | PayloadValue[]
  | { [key: string]: PayloadValue };

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Decodes one payload string per docs/compatibility.md §2.4: trimmed; `true`/`false` in any
 * case → boolean; `null` → null; a base-10 integer → number; a number with
 * `.`, `e` or `E` → number; `{...}` or `[...]` that parses as JSON → object or
 * array; anything else stays the (untrimmed) string.
 */
export function decodePayloadValue(raw: string): PayloadValue {
  const text = raw.trim();
  const lower = text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (text === "null") return null;
  if (INTEGER.test(text)) {
    const value = Number(text);
    // Integers beyond 2^53 would lose digits: keep them as text.
    return Number.isSafeInteger(value) ? value : raw;
  }
  if (/[.eE]/.test(text) && FLOAT.test(text)) return Number(text);
  if (
    (text.startsWith("{") && text.endsWith("}")) ||
    (text.startsWith("[") && text.endsWith("]"))
  ) {
    try {
      return JSON.parse(text) as PayloadValue;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** Decodes every value of a payload map (see {@linkcode decodePayloadValue}). */
export function decodePayload(
  raw: Readonly<Record<string, string>>,
): Record<string, PayloadValue> {
  const out: Record<string, PayloadValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    out[key] = decodePayloadValue(value);
  }
  return out;
}

/**
 * Turns a JSON value into a payload string the way a client would send it:
 * strings stay as they are, everything else becomes JSON text. Used by the
 * legacy HTTP API, whose payload is JSON rather than a string map.
 */
export function encodePayloadValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? "null";
}
