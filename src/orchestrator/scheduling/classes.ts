/**
 * Task classes and their defaults: concurrency from the host (cpu_short =
 * cores × 2, cpu_long = cores, gpu = GPUs detected, gpu_slurm = what Slurm
 * takes), a default attempt timeout, and classes added in config.toml
 * (`[tasks.classes.NAME]`).
 *
 * @module
 */

/** The classes existing clients use (docs/compatibility.md §2.4). */
export const BUILTIN_CLASSES = ["cpu_short", "cpu_long", "gpu", "gpu_slurm"] as const;

/** The class of a task submitted without one. */
export const DEFAULT_CLASS = "cpu_short";

/** How one class is scheduled. */
export interface ClassSettings {
  name: string;
  /** The starting concurrency limit. */
  limit: number;
  /** Bounds the adaptive limit moves within. */
  minLimit: number;
  maxLimit: number;
  /** The attempt timeout when a task gives none; 0 = none. */
  timeoutSeconds: number;
  /** Why tasks of the class wait when its limit is 0. */
  blockedReason: string;
  /** Interruptions (the daemon stopped during an attempt) a task survives before it fails; 0 = at-most-once. */
  maxInterruptions: number;
}

/** Interruptions a task survives by default: a crash of the daemon, not of the task, is retried. */
export const DEFAULT_MAX_INTERRUPTIONS = 3;

/** What the host offers. */
export interface Hardware {
  cpuCores: number;
  gpus: number;
}

/** `[tasks.classes.NAME]` settings (src/config). */
export type ClassOverrides = Record<
  string,
  { concurrency?: number; timeoutSeconds?: number; maxInterruptions?: number }
>;

/** Builds the settings of every known class. */
export function classSettings(
  hardware: Hardware,
  overrides: ClassOverrides = {},
  slurm = false,
): Map<string, ClassSettings> {
  const cores = Math.max(1, hardware.cpuCores);
  const defaults: Record<string, { limit: number; timeoutSeconds: number; blockedReason?: string }> = {
    cpu_short: { limit: cores * 2, timeoutSeconds: 1800 },
    cpu_long: { limit: cores, timeoutSeconds: 86400 },
    gpu: {
      limit: Math.max(0, hardware.gpus),
      timeoutSeconds: 86400,
      blockedReason: "no GPU detected on this host: gpu tasks wait until one is available",
    },
    gpu_slurm: {
      limit: slurm ? 64 : 0,
      timeoutSeconds: 0,
      blockedReason: "Slurm is not available on this host",
    },
  };
  const settings = new Map<string, ClassSettings>();
  const names = new Set([...Object.keys(defaults), ...Object.keys(overrides)]);
  for (const name of names) {
    const base = defaults[name] ?? { limit: cores, timeoutSeconds: 1800 };
    const override = overrides[name] ?? {};
    const configured = override.concurrency !== undefined;
    const limit = configured ? Math.max(0, override.concurrency!) : base.limit;
    // A configured limit is a ceiling the adaptive limit never passes; a
    // host default may grow up to twice itself while the class is healthy.
    // The gpu limit never passes the number of GPUs.
    const maxLimit = configured || name === "gpu" ? limit : limit * 2;
    settings.set(name, {
      name,
      limit,
      minLimit: Math.min(1, limit),
      maxLimit,
      timeoutSeconds: override.timeoutSeconds ?? base.timeoutSeconds,
      blockedReason: base.blockedReason ?? `class "${name}" has a concurrency limit of 0`,
      maxInterruptions: override.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS,
    });
  }
  return settings;
}
