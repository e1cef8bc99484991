/**
 * Host hardware and capacity per workload class (GetResourceAvailability).
 * @module
 */

/** One GPU as nvidia-smi reports it. */
export interface GpuInfo {
  /** nvidia-smi's index. */
  index: number;
  /** Model name. */
  name: string;
  /** Total memory in bytes. */
  memoryBytes: number;
  /** Current utilization, 0–100. */
  utilizationPercent: number;
}

/** What the host has. */
export interface HardwareInfo {
  /** Logical CPU cores. */
  cpuCores: number;
  /** Total memory in bytes. */
  memoryBytes: number;
  /** GPUs; empty when nvidia-smi is absent or fails. */
  gpus: GpuInfo[];
}

/** Slots of a workload class: how many tasks may run and how many do. */
export interface ClassUsage {
  /** Tasks of the class that may run at once. */
  capacity: number;
  /** Tasks of the class running now. */
  inUse: number;
}

/** Reports a workload class's slots; the daemon wires it to the orchestrator's scheduler. */
export type UsageProbe = (workloadClass: string) => ClassUsage | Promise<ClassUsage>;

/** The answer to GetResourceAvailability. */
export interface ResourceAvailability extends ClassUsage {
  /** True when a task of the class could start now. */
  available: boolean;
  /** The host's hardware. */
  hardware: HardwareInfo;
}

/** Options for {@linkcode detectHardware} and {@linkcode resourceAvailability}. */
export interface HardwareOptions {
  /** The nvidia-smi program to run. @default "nvidia-smi" (found on PATH) */
  nvidiaSmi?: string;
  /** Stops a slow nvidia-smi. */
  signal?: AbortSignal;
}

const GPU_QUERY = [
  "--query-gpu=index,name,memory.total,utilization.gpu",
  "--format=csv,noheader,nounits",
];

/** The host's CPU cores, memory and GPUs. */
export async function detectHardware(options: HardwareOptions = {}): Promise<HardwareInfo> {
  return {
    cpuCores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    gpus: await detectGpus(options),
  };
}

/** GPUs from nvidia-smi; none when it is not installed or fails (a host without GPUs is normal). */
export async function detectGpus(options: HardwareOptions = {}): Promise<GpuInfo[]> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(options.nvidiaSmi ?? "nvidia-smi", {
      args: GPU_QUERY,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: options.signal,
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) return [];
    throw err;
  }
  if (!output.success) return [];
  return parseGpuCsv(new TextDecoder().decode(output.stdout));
}

/** Parses `index, name, memory.total [MiB], utilization.gpu [%]` lines. */
export function parseGpuCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length < 4 || fields[0] === "") continue;
    const [index, memoryMib, utilization] = [fields[0], fields.at(-2)!, fields.at(-1)!].map(Number);
    // A model name may itself contain commas: it is everything between the first and the last two fields.
    const name = fields.slice(1, -2).join(", ");
    gpus.push({
      index,
      name,
      memoryBytes: Number.isFinite(memoryMib) ? memoryMib * 1024 * 1024 : 0,
      utilizationPercent: Number.isFinite(utilization) ? utilization : 0,
    });
  }
  return gpus;
}

/** Options for {@linkcode resourceAvailability}. */
export interface ResourceAvailabilityOptions extends HardwareOptions {
  /** The class asked about (`cpu_short`, `gpu`, ...); empty means `cpu_short`. */
  workloadClass: string;
  /** Slots of the class from the scheduler. @default cores for CPU classes, GPUs for GPU classes, none in use */
  usage?: UsageProbe;
}

/** Hardware plus the class's slots; available when a slot is free (and, for GPU classes, a GPU exists). */
export async function resourceAvailability(
  options: ResourceAvailabilityOptions,
): Promise<ResourceAvailability> {
  const hardware = await detectHardware(options);
  const workloadClass = options.workloadClass || "cpu_short";
  const needsGpu = workloadClass.startsWith("gpu");
  const usage = options.usage
    ? await options.usage(workloadClass)
    : { capacity: needsGpu ? hardware.gpus.length : hardware.cpuCores, inUse: 0 };
  // gpu_slurm runs on a cluster, not on this host's GPUs.
  const hostGpuMissing = workloadClass === "gpu" && hardware.gpus.length === 0;
  return {
    ...usage,
    available: usage.inUse < usage.capacity && !hostGpuMissing,
    hardware,
  };
}
