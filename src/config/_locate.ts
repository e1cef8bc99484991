/**
 * Finds the 1-based line of a dotted key in TOML text, for error messages.
 * It follows `[table]` headers and `a.b = ...` keys; an inline-table member
 * resolves to the line of its enclosing key. Returns undefined when not found.
 */
export function locateKey(
  text: string,
  path: readonly string[],
): number | undefined {
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i]).trim();
    if (line === "") continue;
    const header = line.match(/^\[\[?\s*([^\]]+?)\s*\]\]?$/);
    if (header) {
      table = splitDotted(header[1]);
      consider(table, i + 1);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    consider([...table, ...splitDotted(line.slice(0, eq))], i + 1);
  }
  return best?.line;

  function consider(keyPath: string[], line: number): void {
    let depth = 0;
    while (
      depth < keyPath.length && depth < path.length &&
      keyPath[depth] === path[depth]
    ) depth++;
    // Only a full match of the key (or an enclosing key of it) counts.
    if (depth < keyPath.length) return;
    if (!best || depth > best.depth) best = { line, depth };
  }
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function splitDotted(key: string): string[] {
  const parts: string[] = [];
  for (
    const m of key.matchAll(/\s*("([^"]*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*(\.|$)/g)
  ) {
    parts.push(m[2] ?? m[3] ?? m[1]);
  }
  return parts;
}
