/**
 * The dependency graph of services: cycles, closures and orders.
 *
 * @module
 */

/** Service name to the names it depends on. */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/** Returns one dependency cycle as a path that ends where it starts (`a → b → a`), or undefined if none. */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const seen = state.get(name);
    if (seen === "done") return undefined;
    if (seen === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    path.push(name);
    for (const dep of graph.get(name) ?? []) {
      if (!graph.has(dep)) continue; // a missing dependency is reported separately
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of [...graph.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Returns the given names plus everything they depend on, transitively. */
export function dependencyClosure(graph: DependencyGraph, names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (out.has(name)) continue;
    out.add(name);
    for (const dep of graph.get(name) ?? []) stack.push(dep);
  }
  return out;
}

/** Returns the names in dependency order (dependencies first); ties keep alphabetical order. */
export function topologicalOrder(graph: DependencyGraph, names: Iterable<string>): string[] {
  const wanted = new Set(names);
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (done.has(name) || !wanted.has(name)) return;
    if (depth > graph.size) throw new Error(`Cannot order services: a dependency cycle passes through "${name}"`);
    for (const dep of [...(graph.get(name) ?? [])].sort()) visit(dep, depth + 1);
    if (!done.has(name)) {
      done.add(name);
      out.push(name);
    }
  };
  for (const name of [...wanted].sort()) visit(name, 0);
  return out;
}

/** Returns the services among `names` that depend on `name`, transitively. */
export function dependentsOf(graph: DependencyGraph, name: string, names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const candidates = [...names];
  let grew = true;
  while (grew) {
    grew = false;
    for (const candidate of candidates) {
      if (out.has(candidate)) continue;
      const deps = graph.get(candidate) ?? [];
      if (deps.includes(name) || deps.some((d) => out.has(d))) {
        out.add(candidate);
        grew = true;
      }
    }
  }
  return out;
}
