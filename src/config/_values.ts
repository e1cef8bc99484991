/**
 * Readers of single config values. Each checks a value's type (and range or
 * pattern), records a located problem when it does not fit, and otherwise
 * hands the value to `set`.
 * @module
 */
import type { SchemaProblem } from "./schema.ts";

/** Checks an address `HOST:PORT` (an empty host means 127.0.0.1) and returns it normalised. */
export function parseAddr(value: string): string | undefined {
  const m = value.trim().match(
    /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/,
  );
  if (!m || Number(m[2]) > 65535) return undefined;
  // The old Go servers read ":50052" as every interface; we keep loopback unless a host is named (secure by default).
  return `${m[1] === "" ? "127.0.0.1" : m[1]}:${m[2]}`;
}

type Problems = SchemaProblem[];

/** Reads one value; see the module doc. */
export function str(
  v: unknown,
  p: string[],
  e: Problems,
  set: (s: string) => void,
  re?: RegExp,
): void {
  if (typeof v !== "string") {
    return void e.push({
      path: p,
      detail: `expected a string, got ${kind(v)}`,
    });
  }
  if (re && !re.test(v)) {
    return void e.push({ path: p, detail: `"${clip(String(v))}" is not a valid value` });
  }
  set(v);
}

/** Reads one value; see the module doc. */
export function addr(
  v: unknown,
  p: string[],
  e: Problems,
  set: (s: string) => void,
): void {
  str(v, p, e, (s) => {
    const a = parseAddr(s);
    if (a) set(a);
    else {e.push({
        path: p,
        detail: `"${clip(s)}" is not an address of the form HOST:PORT`,
      });}
  });
}

/** Reads one value; see the module doc. */
export function bool(
  v: unknown,
  p: string[],
  e: Problems,
  set: (b: boolean) => void,
): void {
  if (typeof v !== "boolean") {
    return void e.push({
      path: p,
      detail: `expected true or false, got ${kind(v)}`,
    });
  }
  set(v);
}

/** Reads one value; see the module doc. */
export function int(
  v: unknown,
  p: string[],
  e: Problems,
  min: number,
  max: number,
  set: (n: number) => void,
): void {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    return void e.push({
      path: p,
      detail: `expected a whole number, got ${kind(v)}`,
    });
  }
  if (n < min || n > max) {
    return void e.push({
      path: p,
      detail: `${n} is out of range ${min}..${max}`,
    });
  }
  set(n);
}

/** Reads one value; see the module doc. */
export function oneOf<T extends string>(
  v: unknown,
  p: string[],
  e: Problems,
  allowed: readonly T[],
  set: (s: T) => void,
): void {
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    return void e.push({
      path: p,
      detail: `expected one of ${allowed.join(", ")}, got ${clip(JSON.stringify(v) ?? String(v))}`,
    });
  }
  set(v as T);
}

/** Reads one value; see the module doc. */
export function table(
  v: unknown,
  p: string[],
  e: Problems,
  use: (t: Record<string, unknown>) => void,
  expected = "a table",
): void {
  if (
    typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date
  ) {
    return void e.push({
      path: p,
      detail: `expected ${expected}, got ${kind(v)}`,
    });
  }
  use(v as Record<string, unknown>);
}

/** Reads one value; see the module doc. */
export function strList(
  v: unknown,
  p: string[],
  e: Problems,
  set: (s: string[]) => void,
  re?: RegExp,
  hint?: string,
): void {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    return void e.push({
      path: p,
      detail: `expected a list of strings, got ${kind(v)}`,
    });
  }
  const bad = re ? v.find((x) => !re.test(x)) : undefined;
  if (bad !== undefined) {
    return void e.push({
      path: p,
      detail: `"${clip(bad)}" is not valid${hint ? `; write it ${hint}` : ""}`,
    });
  }
  set(v as string[]);
}

/** Reads one value; see the module doc. */
export function strMap(
  v: unknown,
  p: string[],
  e: Problems,
  set: (m: Record<string, string>) => void,
): void {
  table(v, p, e, (t) => {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(t)) {
      if (typeof x === "string") out[k] = x;
      else if (typeof x === "number" || typeof x === "boolean") {
        out[k] = String(x);
      } else {e.push({
          path: [...p, k],
          detail: `expected a string, got ${kind(x)}`,
        });}
    }
    set(out);
  });
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null || v === undefined) return "nothing";
  if (v instanceof Date) return "a date";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return `the string ${clip(JSON.stringify(v))}`;
  return `${typeof v} ${clip(String(v))}`;
}

/** A value as an error message shows it: at most 80 characters, with the full length named when cut. */
export function clip(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 80)}… (${text.length.toLocaleString("en")} characters)`;
}

/** A PostgreSQL URL: `postgres://` or `postgresql://`, then a host. */
export const STORE_URL = /^postgres(ql)?:\/\/[^\s/]+(\/[^\s]*)?$/;

/** The URL with its password replaced by `****`, for every place a URL is shown (config show, messages, logs). */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/i, "$1:****@");
}
