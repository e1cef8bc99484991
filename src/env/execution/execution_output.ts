/**
 * Capture of a task's output: bounded tails of stdout and stderr, and the
 * result line `__DSPY_RESULT__:<json>` (docs/compatibility.md §4: the output is the JSON
 * after the last stdout line that starts with the marker).
 * @module
 */

/** The prefix of the stdout line that carries a task's output. */
export const RESULT_MARKER = "__DSPY_RESULT__:";
/** At most this many characters are kept of each stream's tail. */
export const TAIL_CHARS = 4096;
/** At most this many lines are kept of each stream's tail. */
export const TAIL_LINES = 50;

/** Longest stdout line kept whole while looking for the result marker. */
const MAX_LINE = 1 << 20;

/** Keeps the end of a text stream, bounded in characters and lines. */
export class TailBuffer {
  #text = "";

  /** Appends text, dropping what falls out of the character bound. */
  push(text: string): void {
    this.#text += text;
    // Keep twice the bound while streaming so the line bound can still be applied at the end.
    if (this.#text.length > TAIL_CHARS * 2) this.#text = this.#text.slice(-TAIL_CHARS);
  }

  /** The last {@linkcode TAIL_LINES} lines, at most {@linkcode TAIL_CHARS} characters. */
  toString(): string {
    let text = this.#text.length > TAIL_CHARS ? this.#text.slice(-TAIL_CHARS) : this.#text;
    const lines = text.split("\n");
    const trailingNewline = text.endsWith("\n");
    const limit = TAIL_LINES + (trailingNewline ? 1 : 0);
    if (lines.length > limit) text = lines.slice(-limit).join("\n");
    return text;
  }
}

/** Collects a task's stdout and stderr as they arrive. */
export class OutputCollector {
  /** The tail of stdout. */
  readonly stdout: TailBuffer = new TailBuffer();
  /** The tail of stderr. */
  readonly stderr: TailBuffer = new TailBuffer();
  #partial = "";
  #resultLine?: string;
  readonly #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** Adds bytes written to one of the streams. */
  write(stream: "stdout" | "stderr", data: Uint8Array): void {
    const text = this.#decoders[stream].decode(data, { stream: true });
    this[stream].push(text);
    if (stream === "stdout") this.#scan(text);
  }

  /** Flushes partial characters and lines; call once the process ended. */
  end(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#decoders[stream].decode();
      this[stream].push(rest);
      if (stream === "stdout") this.#scan(rest);
    }
    this.#checkLine(this.#partial);
    this.#partial = "";
  }

  /**
   * The parsed output of the last result line, or undefined when there was none.
   * Throws a `SyntaxError` naming the marker when the JSON does not parse.
   */
  output(): unknown {
    if (this.#resultLine === undefined) return undefined;
    const json = this.#resultLine.slice(RESULT_MARKER.length).trim();
    try {
      return JSON.parse(json);
    } catch (err) {
      throw new SyntaxError(
        `Cannot parse the task output after "${RESULT_MARKER}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** The tails and the output; a result line that does not parse is reported in `outputError`. */
  summary(): { stdoutTail: string; stderrTail: string; output?: unknown; outputError?: string } {
    const tails = { stdoutTail: this.stdout.toString(), stderrTail: this.stderr.toString() };
    try {
      return { ...tails, output: this.output() };
    } catch (err) {
      return { ...tails, outputError: (err as Error).message };
    }
  }

  #scan(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#checkLine(line);
    // A stream without newlines must not grow without bound: only a result line is worth keeping whole.
    if (this.#partial.length > MAX_LINE && !this.#partial.startsWith(RESULT_MARKER)) {
      this.#partial = "";
    }
  }

  #checkLine(line: string): void {
    const trimmed = line.replace(/\r$/, "");
    if (trimmed.startsWith(RESULT_MARKER)) this.#resultLine = trimmed;
  }
}
