/**
 * Reading a task process's output: the `__DSPY_RESULT__:` line (docs/compatibility.md §4)
 * and the tail kept in the result metadata.
 *
 * @module
 */

const RESULT_PREFIX = "__DSPY_RESULT__:";

/** The JSON after the last stdout line starting with `__DSPY_RESULT__:`, if any parses. */
export function parseResultLine(stdout: string): unknown {
  const lines = stdout.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].replace(/\r$/, "");
    if (!line.startsWith(RESULT_PREFIX)) continue;
    try {
      return JSON.parse(line.slice(RESULT_PREFIX.length));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The last `maxChars` characters of a text, cut at a line start when possible. */
export function tail(text: string, maxChars = 4096): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(-maxChars);
  const newline = cut.indexOf("\n");
  return newline >= 0 && newline < cut.length - 1 ? cut.slice(newline + 1) : cut;
}
