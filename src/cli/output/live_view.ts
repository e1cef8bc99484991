/**
 * A block of lines, one per item (service or image), redrawn in place on a
 * terminal with a spinner, a progress bar and the elapsed time, then ✓ or ✗.
 * When stdout is not a terminal the same changes come out as plain lines,
 * one per change, so logs and pipes read well.
 *
 * @module
 */

import type { Output } from "./terminal.ts";
import { formatDuration } from "./format.ts";

/** Where one item is. */
export type RowState = "waiting" | "active" | "ok" | "failed" | "skipped";

/** One line of the view. */
export interface Row {
  /** Where the item is. */
  state: RowState;
  /** What happens now, or the result (for example `healthy`, `port 6379 is in use`). */
  text: string;
  /** 0 to 100 when a bar helps (image pulls). */
  progress?: number;
  /** Milliseconds since the item began; measured by the view when absent. */
  elapsedMs?: number;
  /** Lines shown under a failed item (its last log lines). */
  details?: string[];
}

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Options of {@linkcode LiveView}. */
export interface LiveViewOptions {
  /** Where to draw. */
  output: Output;
  /** Redraw interval on a terminal in milliseconds. @default {80} */
  intervalMs?: number;
  /** The clock, for tests. @default {Date.now} */
  now?: () => number;
}

/** The live block of lines; call {@linkcode LiveView.close} when done. */
export class LiveView {
  #output: Output;
  #rows = new Map<string, Row & { since: number; endedMs?: number }>();
  #drawnLines = 0;
  #frame = 0;
  #timer?: ReturnType<typeof setInterval>;
  #now: () => number;
  #lastPlain = new Map<string, string>();

  /** Creates the view; on a terminal it starts redrawing. */
  constructor(options: LiveViewOptions) {
    this.#output = options.output;
    this.#now = options.now ?? Date.now;
    if (this.#output.isTerminal && !this.#output.json) {
      this.#output.write("\x1b[?25l"); // hide the cursor while redrawing
      this.#timer = setInterval(() => this.#draw(), options.intervalMs ?? 80);
    }
  }

  /** Sets or updates one item's line. */
  set(name: string, row: Row): void {
    const previous = this.#rows.get(name);
    const since = previous?.since ?? this.#now() - (row.elapsedMs ?? 0);
    const finished = row.state === "ok" || row.state === "failed" || row.state === "skipped";
    const endedMs = finished ? previous?.endedMs ?? (row.elapsedMs ?? this.#now() - since) : undefined;
    this.#rows.set(name, { ...row, since, endedMs });
    if (!this.#output.isTerminal && !this.#output.json) this.#plain(name);
  }

  /** Returns a copy of every row, in insertion order. */
  rows(): [string, Row][] {
    return [...this.#rows].map(([name, row]) => [name, { ...row }]);
  }

  /** Stops redrawing and leaves the final lines on screen. */
  close(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#draw();
      this.#output.write("\x1b[?25h");
    }
  }

  #width(): number {
    return Math.max(8, ...[...this.#rows.keys()].map((n) => n.length));
  }

  #plain(name: string): void {
    const row = this.#rows.get(name)!;
    const key = `${row.state} ${row.text}`;
    if (this.#lastPlain.get(name) === key) return;
    this.#lastPlain.set(name, key);
    const c = this.#output.colors;
    const mark = { waiting: "·", active: "…", ok: c.green("✓"), failed: c.red("✗"), skipped: "-" }[row.state];
    const time = row.endedMs ? ` (${formatDuration(row.endedMs)})` : "";
    this.#output.line(`${mark} ${name.padEnd(this.#width())}  ${row.text}${time}`);
    if (row.state === "failed") { for (const d of row.details ?? []) this.#output.line(`    ${c.dim(d)}`); }
  }

  #draw(): void {
    const c = this.#output.colors;
    const columns = this.#output.columns();
    this.#frame = (this.#frame + 1) % spinnerFrames.length;
    const lines: string[] = [];
    for (const [name, row] of this.#rows) {
      const elapsed = row.endedMs ?? this.#now() - row.since;
      const mark = {
        waiting: c.dim("·"),
        active: c.yellow(spinnerFrames[this.#frame]),
        ok: c.green("✓"),
        failed: c.red("✗"),
        skipped: c.dim("-"),
      }[row.state];
      const bar = row.state === "active" && row.progress !== undefined ? ` ${progressBar(row.progress, 20)}` : "";
      const text = row.state === "failed" ? c.red(row.text) : row.text;
      const line = `${mark} ${c.bold(name.padEnd(this.#width()))} ${
        c.dim(formatDuration(elapsed).padStart(7))
      }${bar}  ${text}`;
      lines.push(truncate(line, columns));
      if (row.state === "failed") {
        for (const d of row.details ?? []) lines.push(truncate(`    ${c.dim(d)}`, columns));
      }
    }
    let text = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A` : "";
    for (const line of lines) text += `\r\x1b[2K${line}\n`;
    this.#output.write(text);
    this.#drawnLines = lines.length;
  }
}

/** Renders a bar like `[########------------] 40%`. */
export function progressBar(percent: number, width: number): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const filled = Math.round(p / 100 * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(p).padStart(3)}%`;
}

function truncate(line: string, columns: number): string {
  // Counting visible characters only; escape codes pass through untouched.
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= columns - 1) return out + (out.includes("\x1b[") ? "\x1b[0m" : ""); // close any open colour
    out += line[i];
    visible++;
  }
  return out;
}
