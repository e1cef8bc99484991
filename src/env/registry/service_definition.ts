/**
 * The resolved definition of one service: what the environment manager turns into a container.
 *
 * @module
 */
import type { HealthKind, RestartPolicy } from "../../config/mod.ts";

/** One published or exposed container port. */
export interface PortSpec {
  /** The host address the port binds to; 127.0.0.1 unless the config names one (docs/compatibility.md §6). */
  hostIp: string;
  /** The wanted host port; undefined when the port is only exposed on the stack's network. */
  hostPort?: number;
  /** The port inside the container. */
  containerPort: number;
  /** The transport protocol. */
  protocol: "tcp" | "udp";
}

/** One volume: a named volume of the stack or a host folder. */
export interface VolumeSpec {
  /** `volume` for a named volume (created and labelled by us), `bind` for a host path. */
  kind: "volume" | "bind";
  /** The volume name (without the project prefix) or the absolute host path. */
  source: string;
  /** The path inside the container. */
  target: string;
  /** Whether the container sees it read-only. */
  readOnly: boolean;
}

/** How the daemon decides that a service is healthy. */
export interface HealthCheck {
  /** The probe kind. */
  kind: HealthKind;
  /** The container port probed (http, tcp, redis). */
  port?: number;
  /** The HTTP path probed (http). @default {"/"} */
  path?: string;
  /** The command run in the container (exec); exit code 0 means healthy. */
  command?: string[];
  /** Seconds the service may take to become healthy. */
  timeoutSeconds: number;
}

/** A fully resolved service: built-in definition, overridden by config. */
export interface ServiceDefinition {
  /** The service name; also the container's network alias. */
  name: string;
  /** The image reference. */
  image: string;
  /** The command (argv) replacing the image's default, if any. */
  command?: string[];
  /** Environment variables. */
  env: Record<string, string>;
  /** Ports, published or not. */
  ports: PortSpec[];
  /** Volumes. */
  volumes: VolumeSpec[];
  /** Services that must be healthy before this one starts. */
  dependsOn: string[];
  /** Whether a start without names includes this service. */
  enabled: boolean;
  /** Whether the stack fails when this service fails. */
  required: boolean;
  /** What the supervisor does when the container dies or turns unhealthy. */
  restart: RestartPolicy;
  /** Whether the service needs a GPU. */
  gpu: boolean;
  /** The memory limit in MiB (swap included); undefined = none. */
  memoryMb?: number;
  /** The health check. */
  health: HealthCheck;
  /** How a user provides the image when it is built by their own project, if so. */
  imageHint?: string;
}

/** Parses `HOST:CONTAINER`, `ADDR:HOST:CONTAINER` or `CONTAINER`, each optionally followed by `/tcp` or `/udp`. */
export function parsePortSpec(text: string): PortSpec {
  const [body, proto = "tcp"] = text.trim().split("/");
  if (proto !== "tcp" && proto !== "udp") {
    throw new Error(`Cannot parse port "${text}": protocol must be tcp or udp`);
  }
  // An IPv6 address is written in brackets: [::1]:8080:80.
  const v6 = body.match(/^\[([^\]]+)\]:(\d+):(\d+)$/);
  const parts = v6 ? [v6[1], v6[2], v6[3]] : body.split(":");
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new Error(`Cannot parse port "${text}": expected HOST:CONTAINER, ADDR:HOST:CONTAINER or CONTAINER`);
  }
  const containerPort = parsePortNumber(parts[parts.length - 1], text);
  if (parts.length === 1) return { hostIp: "127.0.0.1", containerPort, protocol: proto };
  const hostPort = parsePortNumber(parts[parts.length - 2], text);
  const hostIp = parts.length === 3 ? parts[0] : "127.0.0.1";
  return { hostIp, hostPort, containerPort, protocol: proto };
}

/** Parses `NAME:/path[:ro]` (a named volume) or `/abs/host/path:/path[:ro|:rw]`. */
export function parseVolumeSpec(text: string): VolumeSpec {
  const parts = text.trim().split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new Error(`Cannot parse volume "${text}": expected SOURCE:/path[:ro]`);
  }
  const [source, target, mode = "rw"] = parts;
  if (mode !== "ro" && mode !== "rw") {
    throw new Error(`Cannot parse volume "${text}": mode must be ro or rw`);
  }
  if (!target.startsWith("/")) {
    throw new Error(`Cannot parse volume "${text}": the container path must be absolute`);
  }
  const isPath = source.startsWith("/") || source.startsWith(".") || source.startsWith("~");
  if (!isPath && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) {
    throw new Error(`Cannot parse volume "${text}": "${source}" is neither an absolute path nor a volume name`);
  }
  if (isPath && !source.startsWith("/")) {
    throw new Error(`Cannot parse volume "${text}": host paths must be absolute`);
  }
  return { kind: isPath ? "bind" : "volume", source, target, readOnly: mode === "ro" };
}

/** Formats a published port as `HOST->CONTAINER/tcp` (the `port_mappings` field of the API). */
export function formatPortMapping(hostPort: number, port: PortSpec): string {
  return `${hostPort}->${port.containerPort}/${port.protocol}`;
}

function parsePortNumber(text: string, whole: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) {
    throw new Error(`Cannot parse port "${whole}": "${text}" is not a port number (1-65535)`);
  }
  return n;
}
