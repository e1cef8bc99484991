/**
 * Host port allocation: a busy configured port moves to the next free one, and the choice is remembered in
 * `<home>/ports.json` so the same stack keeps the same ports across restarts.
 *
 * @module
 */
import { joinPath } from "../../config/mod.ts";
import type { PortSpec } from "../registry/service_definition.ts";

/** Options of {@linkcode createPortAllocator}. */
export interface PortAllocatorOptions {
  /** The state folder; the mapping lives in `<home>/ports.json`. */
  home: string;
  /** The project whose mappings are read and written. */
  project: string;
  /** How far past the wanted port to search. @default {100} */
  searchLimit?: number;
}

/** The host port chosen for one container port. */
export interface PortChoice {
  /** The host port the config asked for. */
  wanted: number;
  /** The host port to publish. */
  hostPort: number;
  /** Whether it differs from the wanted one. */
  remapped: boolean;
}

/** Chooses host ports and remembers the choices. */
export interface PortAllocator {
  /** Marks host ports as taken by this stack, so no remap lands on a port another service wants. */
  reserve(ports: Iterable<number>): void;
  /** Chooses the host port of one published port of a service and persists the choice. */
  allocate(service: string, port: PortSpec & { hostPort: number }, signal?: AbortSignal): Promise<PortChoice>;
  /** Returns the remembered host port, if any, without checking it. */
  remembered(service: string, port: PortSpec): Promise<number | undefined>;
}

/** No free port was found near the wanted one. */
export class NoFreePortError extends Error {
  /** The service. */
  readonly service: string;
  /** The wanted port. */
  readonly wanted: number;

  /** Creates the error. */
  constructor(facts: { service: string; wanted: number; searched: number }) {
    super(
      `Cannot publish a port of service "${facts.service}": port ${facts.wanted} and the next ${facts.searched} ports are in use`,
    );
    this.name = "NoFreePortError";
    this.service = facts.service;
    this.wanted = facts.wanted;
  }
}

type PortsFile = Record<string, Record<string, Record<string, { wanted: number; host: number }>>>;

/** Creates an allocator backed by `<home>/ports.json`. */
export function createPortAllocator(options: PortAllocatorOptions): PortAllocator {
  const file = joinPath(options.home, "ports.json");
  const limit = options.searchLimit ?? 100;
  const reserved = new Set<number>();
  // Host port to the service port it was handed to, during this process's life.
  const handedOut = new Map<number, string>();
  // Writes are chained so two services never overwrite each other's entry.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };

  return {
    reserve(ports) {
      for (const port of ports) reserved.add(port);
    },
    async remembered(service, port) {
      const data = await readPortsFile(file);
      return data[options.project]?.[service]?.[portKey(port)]?.host;
    },
    allocate(service, port, signal) {
      return serial(async () => {
        signal?.throwIfAborted();
        const data = await readPortsFile(file);
        const key = `${service}|${portKey(port)}`;
        const entry = data[options.project]?.[service]?.[portKey(port)];
        const candidates: number[] = [];
        // Stability first: the remembered choice, while the config still wants the same port.
        if (entry && entry.wanted === port.hostPort) candidates.push(entry.host);
        candidates.push(port.hostPort);
        for (let p = port.hostPort + 1; p <= Math.min(65535, port.hostPort + limit); p++) candidates.push(p);
        for (const candidate of candidates) {
          const owner = handedOut.get(candidate);
          if (owner !== undefined && owner !== key) continue;
          if (candidate !== port.hostPort && owner === undefined && reserved.has(candidate)) continue;
          if (!isPortFree(port.hostIp, candidate, port.protocol)) continue;
          handedOut.set(candidate, key);
          const project = data[options.project] ??= {};
          const svc = project[service] ??= {};
          svc[portKey(port)] = { wanted: port.hostPort, host: candidate };
          await writePortsFile(file, data);
          return { wanted: port.hostPort, hostPort: candidate, remapped: candidate !== port.hostPort };
        }
        throw new NoFreePortError({ service, wanted: port.hostPort, searched: limit });
      });
    },
  };
}

/** Returns whether a host port can be bound now (TCP only; UDP ports are assumed free). */
export function isPortFree(hostIp: string, port: number, protocol: "tcp" | "udp" = "tcp"): boolean {
  if (protocol === "udp") return true;
  const hostname = hostIp === "" ? "0.0.0.0" : hostIp.replace(/^\[|\]$/g, "");
  try {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    listener.close();
    return true;
  } catch {
    return false;
  }
}

function portKey(port: PortSpec): string {
  return `${port.hostIp}:${port.containerPort}/${port.protocol}`;
}

async function readPortsFile(file: string): Promise<PortsFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(file));
    return typeof parsed === "object" && parsed !== null ? parsed as PortsFile : {};
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    // A damaged file only costs stability, never a start.
    if (error instanceof SyntaxError) return {};
    throw error;
  }
}

async function writePortsFile(file: string, data: PortsFile): Promise<void> {
  const dir = file.slice(0, file.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(data, null, 2) + "\n");
  await Deno.rename(tmp, file);
}
