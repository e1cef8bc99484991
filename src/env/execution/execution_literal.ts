/**
 * A parser for the Python literal text that `str(dict)` produces.
 *
 * Python clients call `str()` on every payload value (docs/compatibility.md §2.4), so an
 * execution spec sent as a dict arrives as `{'command': ['echo', 'hi'], 'env': None}`.
 * Supports dicts, lists, tuples, single- or double-quoted strings with
 * backslash escapes, numbers, True, False and None.
 * @module
 */

/** Parses Python literal text into JSON values; throws `SyntaxError` with the offset. */
export function parsePythonLiteral(text: string): unknown {
  const parser = new LiteralParser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.done()) parser.fail("unexpected text after the value");
  return value;
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

class LiteralParser {
  #pos = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.#pos >= this.text.length;
  }

  fail(reason: string): never {
    throw new SyntaxError(`Cannot parse Python literal at offset ${this.#pos}: ${reason}`);
  }

  skipSpace(): void {
    while (/\s/.test(this.text[this.#pos] ?? "")) this.#pos++;
  }

  value(): unknown {
    this.skipSpace();
    const char = this.text[this.#pos];
    if (char === "{") return this.#dict();
    if (char === "[" || char === "(") return this.#list(char === "[" ? "]" : ")");
    if (char === "'" || char === '"') return this.#string(char);
    const word = /^(True|False|None|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(this.text.slice(this.#pos));
    if (!word) this.fail("expected a value");
    this.#pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number(word[0]);
  }

  #dict(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.#pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.#pos] === "}") break;
      const key = this.value();
      this.skipSpace();
      if (this.text[this.#pos++] !== ":") this.fail("expected ':'");
      result[String(key)] = this.value();
      if (!this.#separator("}")) break;
    }
    this.#pos++;
    return result;
  }

  #list(close: string): unknown[] {
    const result: unknown[] = [];
    this.#pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.#pos] === close) break;
      result.push(this.value());
      if (!this.#separator(close)) break;
    }
    this.#pos++;
    return result;
  }

  /** Consumes `,` (true: more may follow) or stops before `close` (false). */
  #separator(close: string): boolean {
    this.skipSpace();
    const char = this.text[this.#pos];
    if (char === ",") {
      this.#pos++;
      return true;
    }
    if (char !== close) this.fail(`expected ',' or '${close}'`);
    return false;
  }

  #string(quote: string): string {
    let result = "";
    this.#pos++;
    while (this.#pos < this.text.length) {
      const char = this.text[this.#pos++];
      if (char === quote) return result;
      if (char !== "\\") {
        result += char;
        continue;
      }
      const next = this.text[this.#pos++] ?? "";
      if (next === "x" || next === "u") {
        const size = next === "x" ? 2 : 4;
        result += String.fromCharCode(parseInt(this.text.slice(this.#pos, this.#pos + size), 16));
        this.#pos += size;
      } else {
        result += ESCAPES[next] ?? `\\${next}`;
      }
    }
    return this.fail("unterminated string");
  }
}
