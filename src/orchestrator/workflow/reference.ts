/**
 * References inside step payload strings: `${input.KEY}` reads the run's
 * input, `${steps.STEP.output.KEY}` (or `${steps.STEP.output}`, or a deeper
 * `.A.B` path) reads an upstream step's output (the step task's `data` JSON).
 *
 * @module
 */

/** One `${...}` reference found in a payload string. */
export type Reference =
  | { kind: "input"; text: string; key: string }
  | { kind: "step"; text: string; stepId: string; path: string[] };

/** What references resolve against when a step is about to run. */
export interface ReferenceScope {
  /** The run's input map. */
  input: Record<string, string>;
  /** Outputs of finished steps, by step id. */
  outputs: Record<string, unknown>;
}

const REFERENCE = /\$\{([^}]*)\}/g;
const INPUT = /^input\.([A-Za-z0-9_.-]+)$/;
const STEP = /^steps\.([A-Za-z0-9_-]+)\.output((?:\.[A-Za-z0-9_-]+)*)$/;

/**
 * Lists the references in a string; throws a plain Error naming the first
 * one that is neither an input nor a step-output reference.
 */
export function findReferences(value: string): Reference[] {
  const found: Reference[] = [];
  for (const match of value.matchAll(REFERENCE)) {
    const body = match[1].trim();
    const input = INPUT.exec(body);
    if (input) {
      found.push({ kind: "input", text: match[0], key: input[1] });
      continue;
    }
    const step = STEP.exec(body);
    if (step) {
      const path = step[2] === "" ? [] : step[2].slice(1).split(".");
      found.push({ kind: "step", text: match[0], stepId: step[1], path });
      continue;
    }
    throw new Error(
      `reference "${match[0]}" is neither \${input.KEY} nor \${steps.STEP.output.KEY}`,
    );
  }
  return found;
}

/**
 * Replaces every reference in `value` with its value from `scope`. Strings
 * are inserted as they are, anything else as JSON text, so that a whole-value
 * reference to a number or object decodes back to it (docs/compatibility.md §2.4).
 * Throws a plain Error naming the reference that has no value.
 */
export function resolveReferences(
  value: string,
  scope: ReferenceScope,
): string {
  const references = findReferences(value);
  if (references.length === 0) return value;
  let resolved = value;
  for (const reference of references) {
    const replacement = asText(lookUp(reference, scope));
    resolved = resolved.replace(reference.text, () => replacement);
  }
  return resolved;
}

function lookUp(reference: Reference, scope: ReferenceScope): unknown {
  if (reference.kind === "input") {
    if (!Object.hasOwn(scope.input, reference.key)) {
      throw new Error(
        `reference "${reference.text}": the run input has no key "${reference.key}"`,
      );
    }
    return scope.input[reference.key];
  }
  if (!Object.hasOwn(scope.outputs, reference.stepId)) {
    throw new Error(
      `reference "${reference.text}": step "${reference.stepId}" has no output yet`,
    );
  }
  let current: unknown = scope.outputs[reference.stepId];
  for (const key of reference.path) {
    if (
      current === null || typeof current !== "object" ||
      !Object.hasOwn(current, key)
    ) {
      throw new Error(
        `reference "${reference.text}": the output of step "${reference.stepId}" has no key "${
          reference.path.join(".")
        }"`,
      );
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "null";
  return JSON.stringify(value);
}
