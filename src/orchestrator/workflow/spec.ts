/**
 * The workflow spec: parsing the JSON of `CreateWorkflowRequest.spec` into
 * checked steps. Every rule failure throws a
 * {@linkcode WorkflowSpecError} whose message names the offending step,
 * reference or cycle.
 *
 * @module
 */

import { WorkflowSpecError } from "./errors.ts";
import { findReferences } from "./reference.ts";

/** One step of a workflow: a task template plus the steps it waits for. */
export interface WorkflowStep {
  /** Unique within the workflow: 1–64 of [A-Za-z0-9_-]. */
  id: string;
  /** The task class. @default "cpu_short" */
  class: string;
  /** Task payload; values may hold `${...}` references. Non-string JSON values are kept as JSON text. */
  payload: Record<string, string>;
  /** Steps that must succeed first. */
  dependsOn: string[];
  /** Attempts before the step fails for good. @default 1 */
  maxAttempts: number;
  /** A limit on one attempt; 0 = the class default. @default 0 */
  timeoutSeconds: number;
  /** Task priority; higher runs first. @default 0 */
  priority: number;
}

/** A parsed, validated workflow spec. */
export interface WorkflowSpec {
  /** Steps in the order the spec lists them. */
  steps: WorkflowStep[];
}

const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CLASS = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_STEPS = 500;

/**
 * Parses and validates a workflow spec: unique step ids, known dependencies,
 * no cycles, and references only to the run input or to upstream steps.
 */
export function parseWorkflowSpec(
  workflowId: string,
  spec: Uint8Array | string,
): WorkflowSpec {
  const fail = (reason: string, cause?: unknown): never => {
    throw new WorkflowSpecError(
      workflowId,
      reason,
      cause ? { cause } : undefined,
    );
  };
  let json: unknown;
  try {
    json = JSON.parse(
      typeof spec === "string" ? spec : new TextDecoder().decode(spec),
    );
  } catch (error) {
    fail(`spec is not valid JSON (${(error as Error).message})`, error);
  }
  if (!isObject(json) || !Array.isArray(json.steps)) {
    fail(`spec must be an object with a "steps" array`);
  }
  const rawSteps = (json as { steps: unknown[] }).steps;
  if (rawSteps.length === 0) fail("spec has no steps");
  if (rawSteps.length > MAX_STEPS) {
    fail(`spec has ${rawSteps.length} steps; at most ${MAX_STEPS} are allowed`);
  }

  const steps = rawSteps.map((raw, index) => parseStep(raw, index, fail));
  const byId = new Map<string, WorkflowStep>();
  for (const step of steps) {
    if (byId.has(step.id)) fail(`step id "${step.id}" is used twice`);
    byId.set(step.id, step);
  }
  for (const step of steps) {
    for (const dependency of step.dependsOn) {
      if (!byId.has(dependency)) {
        fail(`step "${step.id}" depends on unknown step "${dependency}"`);
      }
      if (dependency === step.id) {
        fail(`steps form a cycle: ${step.id} -> ${step.id}`);
      }
    }
  }
  const cycle = findCycle(steps);
  if (cycle) fail(`steps form a cycle: ${cycle.join(" -> ")}`);
  for (const step of steps) checkReferences(step, byId, fail);
  return { steps };
}

/** The ids of steps no other step depends on: their outputs form the run's output. */
export function finalSteps(spec: WorkflowSpec): string[] {
  const needed = new Set(spec.steps.flatMap((step) => step.dependsOn));
  return spec.steps.filter((step) => !needed.has(step.id)).map((step) => step.id);
}

/** Every step upstream of `stepId` (its dependencies, transitively). */
export function ancestors(spec: WorkflowSpec, stepId: string): Set<string> {
  const byId = new Map(spec.steps.map((step) => [step.id, step]));
  const seen = new Set<string>();
  const stack = [...(byId.get(stepId)?.dependsOn ?? [])];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.dependsOn ?? []));
  }
  return seen;
}

/** The input keys the spec's payloads reference. */
export function referencedInputs(spec: WorkflowSpec): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const step of spec.steps) {
    for (const value of Object.values(step.payload)) {
      for (const reference of findReferences(value)) {
        if (reference.kind !== "input") continue;
        keys.set(reference.key, [...(keys.get(reference.key) ?? []), step.id]);
      }
    }
  }
  return keys;
}

function parseStep(
  raw: unknown,
  index: number,
  fail: (reason: string) => never,
): WorkflowStep {
  if (!isObject(raw)) return fail(`step ${index + 1} is not an object`);
  const id = raw.id;
  if (typeof id !== "string" || !STEP_ID.test(id)) {
    return fail(
      `step ${index + 1} has id ${JSON.stringify(id)}; ids are 1-64 of A-Z a-z 0-9 _ -`,
    );
  }
  const taskClass = raw.class ?? "cpu_short";
  if (typeof taskClass !== "string" || !CLASS.test(taskClass)) {
    fail(
      `step "${id}" has class ${JSON.stringify(taskClass)}; expected a class name such as "cpu_short"`,
    );
  }
  const payload = raw.payload ?? {};
  if (!isObject(payload)) {
    fail(`step "${id}" has a payload that is not an object`);
  }
  const dependsOn = raw.depends_on ?? [];
  if (
    !Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== "string")
  ) {
    fail(`step "${id}" has depends_on that is not a list of step ids`);
  }
  return {
    id,
    class: taskClass as string,
    payload: Object.fromEntries(
      Object.entries(payload as Record<string, unknown>).map(([key, value]) => [
        key,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
    dependsOn: [...new Set(dependsOn as string[])],
    maxAttempts: integer(
      raw.max_attempts,
      1,
      1,
      100,
      `step "${id}" max_attempts`,
      fail,
    ),
    timeoutSeconds: integer(
      raw.timeout_seconds,
      0,
      0,
      7 * 24 * 3600,
      `step "${id}" timeout_seconds`,
      fail,
    ),
    priority: integer(
      raw.priority,
      0,
      -(2 ** 31),
      2 ** 31 - 1,
      `step "${id}" priority`,
      fail,
    ),
  };
}

function integer(
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  what: string,
  fail: (reason: string) => never,
): number {
  if (value === undefined || value === null) return fallback;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    value > max
  ) {
    return fail(
      `${what} is ${JSON.stringify(value)}; expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** Depth-first search; returns the first cycle as a closed path (a -> b -> a). */
function findCycle(steps: WorkflowStep[]): string[] | undefined {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "visiting") {
      return [...path.slice(path.indexOf(id)), id];
    }
    state.set(id, "visiting");
    path.push(id);
    for (const next of byId.get(id)!.dependsOn) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

function checkReferences(
  step: WorkflowStep,
  byId: Map<string, WorkflowStep>,
  fail: (reason: string, cause?: unknown) => never,
): void {
  const upstream = ancestors({ steps: [...byId.values()] }, step.id);
  for (const [key, value] of Object.entries(step.payload)) {
    let references;
    try {
      references = findReferences(value);
    } catch (error) {
      return fail(
        `step "${step.id}" payload "${key}": ${(error as Error).message}`,
        error,
      );
    }
    for (const reference of references) {
      if (reference.kind !== "step") continue;
      if (!byId.has(reference.stepId)) {
        fail(
          `step "${step.id}" payload "${key}" references unknown step "${reference.stepId}"`,
        );
      }
      if (!upstream.has(reference.stepId)) {
        fail(
          `step "${step.id}" payload "${key}" references step "${reference.stepId}", which is not upstream of it (add it to depends_on)`,
        );
      }
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
