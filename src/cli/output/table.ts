/**
 * Aligned text tables, measured without colour codes, like `docker ps`.
 *
 * @module
 */

import { stripAnsi } from "./colors.ts";

/** Renders rows under headers, columns separated by two spaces; the last column is not padded. */
export function renderTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(stripAnsi(h).length, ...rows.map((r) => stripAnsi(r[i] ?? "").length)));
  const render = (cells: string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell + " ".repeat(widths[i] - stripAnsi(cell).length))
      .join("  ").trimEnd();
  return [render(headers), ...rows.map(render)];
}
