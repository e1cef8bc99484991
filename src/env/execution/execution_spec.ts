/**
 * The `execution` payload of a task (docs/compatibility.md §4), parsed and validated.
 * @module
 */
import { InvalidExecutionSpecError } from "../errors.ts";
import { parsePythonLiteral } from "./execution_literal.ts";

/** Default time limit of an execution, in seconds (docs/compatibility.md §4). */
export const DEFAULT_TIMEOUT_SECONDS = 1800;

/** A host folder or file made visible inside the task's container. */
export interface ExecutionMount {
  /** Absolute path on the host. */
  hostPath: string;
  /** Absolute path inside the container. */
  mountPath: string;
  /** Mount read-only. @default false */
  readOnly: boolean;
}

/** Limits asked for by the task; unset fields mean no limit. */
export interface ExecutionResources {
  /** CPU in thousandths of a core (1500 = 1.5 cores). */
  cpuMillicores?: number;
  /** Memory limit in bytes. */
  memBytes?: number;
  /** GPUs to attach (through the engine's `nvidia` device requests). */
  gpuCount?: number;
}

/** What to run and how: a command, in a container of `image` or as a local process. */
export interface ExecutionSpec {
  /** The argv list; the first element is the program. */
  command: string[];
  /** Run in a one-off container of this image; absent means a local process. */
  image?: string;
  /** Extra environment variables. */
  env: Record<string, string>;
  /** Host paths to mount (containers only). */
  mounts: ExecutionMount[];
  /** Limits (containers only). */
  resources: ExecutionResources;
  /** Kill the command after this many seconds. @default 1800 */
  timeoutSeconds: number;
  /** Working directory (inside the container, or on the host for a local process). */
  workingDir?: string;
}

/**
 * Parses an execution spec from an object or from its JSON text (Python repr
 * text such as `{'command': ['echo', 'hi']}` is accepted too, since Python
 * clients `str()` every payload value). Throws {@linkcode InvalidExecutionSpecError}.
 */
export function parseExecutionSpec(value: unknown): ExecutionSpec {
  const raw = typeof value === "string" ? parseText(value) : value;
  if (!isRecord(raw)) throw new InvalidExecutionSpecError("execution", "must be an object");
  return {
    command: parseCommand(raw.command),
    image: optionalString(raw.image, "image"),
    env: parseEnv(raw.env),
    mounts: parseMounts(raw.mounts),
    resources: parseResources(raw.resources),
    timeoutSeconds: optionalNumber(raw.timeout_seconds, "timeout_seconds", { positive: true }) ??
      DEFAULT_TIMEOUT_SECONDS,
    workingDir: optionalString(raw.working_dir, "working_dir"),
  };
}

function parseText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") throw new InvalidExecutionSpecError("execution", "is empty");
  try {
    return JSON.parse(trimmed);
  } catch (jsonError) {
    try {
      return parsePythonLiteral(trimmed);
    } catch {
      throw new InvalidExecutionSpecError(
        "execution",
        `is not valid JSON (${(jsonError as Error).message})`,
        { cause: jsonError },
      );
    }
  }
}

function parseCommand(value: unknown): string[] {
  if (value === undefined || value === null) {
    throw new InvalidExecutionSpecError("command", "is required (an argv list of strings)");
  }
  if (!Array.isArray(value)) {
    throw new InvalidExecutionSpecError(
      "command",
      `must be an argv list of strings, not ${typeName(value)}`,
    );
  }
  if (value.length === 0) throw new InvalidExecutionSpecError("command", "is an empty list");
  return value.map((item, index) => {
    if (typeof item === "number" || typeof item === "boolean") return String(item);
    if (typeof item !== "string") {
      throw new InvalidExecutionSpecError(`command[${index}]`, `must be a string, not ${typeName(item)}`);
    }
    return item;
  });
}

function parseEnv(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new InvalidExecutionSpecError("env", "must be a map of names to values");
  const env: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      throw new InvalidExecutionSpecError(`env.${name}`, "is not a valid variable name");
    }
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      env[name] = String(item);
    } else {
      throw new InvalidExecutionSpecError(`env.${name}`, `must be a string, not ${typeName(item)}`);
    }
  }
  return env;
}

function parseMounts(value: unknown): ExecutionMount[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidExecutionSpecError("mounts", "must be a list");
  return value.map((item, index) => {
    const field = `mounts[${index}]`;
    if (!isRecord(item)) {
      throw new InvalidExecutionSpecError(field, "must be {host_path, mount_path, read_only}");
    }
    const hostPath = optionalString(item.host_path, `${field}.host_path`);
    const mountPath = optionalString(item.mount_path, `${field}.mount_path`);
    if (!hostPath?.startsWith("/")) {
      throw new InvalidExecutionSpecError(`${field}.host_path`, "must be an absolute path");
    }
    if (!mountPath?.startsWith("/")) {
      throw new InvalidExecutionSpecError(`${field}.mount_path`, "must be an absolute path");
    }
    const readOnly = item.read_only ?? false;
    if (typeof readOnly !== "boolean") {
      throw new InvalidExecutionSpecError(`${field}.read_only`, "must be true or false");
    }
    return { hostPath, mountPath, readOnly };
  });
}

function parseResources(value: unknown): ExecutionResources {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new InvalidExecutionSpecError("resources", "must be a map");
  return {
    cpuMillicores: optionalNumber(value.cpu_millicores, "resources.cpu_millicores", {
      positive: true,
    }),
    memBytes: optionalNumber(value.mem_bytes, "resources.mem_bytes", { positive: true }),
    gpuCount: optionalNumber(value.gpu_count, "resources.gpu_count", { integer: true }),
  };
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new InvalidExecutionSpecError(field, `must be a string, not ${typeName(value)}`);
  }
  return value;
}

function optionalNumber(
  value: unknown,
  field: string,
  rules: { positive?: boolean; integer?: boolean },
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw new InvalidExecutionSpecError(field, `must be a number, not ${typeName(value)}`);
  }
  if (number < 0 || (rules.positive && number === 0)) {
    throw new InvalidExecutionSpecError(field, `must be ${rules.positive ? "positive" : "zero or more"}`);
  }
  if (rules.integer && !Number.isInteger(number)) {
    throw new InvalidExecutionSpecError(field, "must be a whole number");
  }
  return number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
