/**
 * Names and create specs of the Docker resources of a stack: one network, one container per service, named
 * volumes — every one labelled.
 *
 * @module
 */
import type { ContainerCreateOptions, ContainerDetails } from "../engine/engine.ts";
import { ownedLabels } from "../labels.ts";
import type { ServiceDefinition } from "../registry/service_definition.ts";

/** The name of a service's container: `<project>-<service>`. */
export function containerName(project: string, service: string): string {
  return `${project}-${service}`;
}

/** The name of the stack's network: `<project>_default`. */
export function networkName(project: string): string {
  return `${project}_default`;
}

/** The engine name of a named volume of the stack: `<project>_<volume>`. */
export function volumeName(project: string, volume: string): string {
  return `${project}_${volume}`;
}

/** Options of {@linkcode containerSpec}. */
export interface ContainerSpecOptions {
  /** The project. */
  project: string;
  /** The definition hash, stored as a label. */
  definitionHash: string;
  /** Host port chosen for each published port, by index in `def.ports`. */
  hostPorts: (number | undefined)[];
  /** Extra labels (tests add `dspy-agent.test`). */
  extraLabels?: Record<string, string>;
}

/** Builds the Engine API create body of a service's container. */
export function containerSpec(def: ServiceDefinition, options: ContainerSpecOptions): ContainerCreateOptions {
  const labels = ownedLabels({
    project: options.project,
    kind: "service",
    service: def.name,
    definitionHash: options.definitionHash,
    extra: options.extraLabels,
  });
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  def.ports.forEach((port, i) => {
    const key = `${port.containerPort}/${port.protocol}`;
    exposed[key] = {};
    const hostPort = options.hostPorts[i];
    if (hostPort !== undefined) {
      (bindings[key] ??= []).push({ HostIp: port.hostIp.replace(/^\[|\]$/g, ""), HostPort: String(hostPort) });
    }
  });
  const binds = def.volumes.map((v) => {
    const source = v.kind === "volume" ? volumeName(options.project, v.source) : v.source;
    return `${source}:${v.target}${v.readOnly ? ":ro" : ""}`;
  });
  const network = networkName(options.project);
  return {
    name: containerName(options.project, def.name),
    Image: def.image,
    Cmd: def.command,
    Env: Object.entries(def.env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      Binds: binds,
      NetworkMode: network,
      // The supervisor restarts services itself, with backoff and events.
      RestartPolicy: { Name: "no" },
      DeviceRequests: def.gpu ? [{ Driver: "nvidia", Count: -1, Capabilities: [["gpu"]] }] : undefined,
      Memory: def.memoryMb ? def.memoryMb * 1024 * 1024 : undefined,
      MemorySwap: def.memoryMb ? def.memoryMb * 1024 * 1024 : undefined,
    },
    NetworkingConfig: {
      EndpointsConfig: { [network]: { Aliases: [def.name] } },
    },
  };
}

/**
 * The address the daemon probes a container port at. On Linux with a local engine, the container's own IP (the
 * bridge is reachable from the host, and probing it avoids docker-proxy, which accepts TCP connections on a
 * published port before the service listens). Otherwise the published port, on the engine's host.
 */
export function probeAddress(
  details: ContainerDetails,
  options: { project: string; containerPort: number | undefined; dockerHost: string },
): { hostname: string; port: number } | undefined {
  if (options.containerPort === undefined) return undefined;
  const remote = engineHostname(options.dockerHost);
  const ip = details.NetworkSettings?.Networks?.[networkName(options.project)]?.IPAddress;
  if (ip && remote === undefined && Deno.build.os === "linux") return { hostname: ip, port: options.containerPort };
  const bound = publishedPorts(details).find((p) => p.containerPort === options.containerPort);
  return bound ? { hostname: remote ?? "127.0.0.1", port: bound.hostPort } : undefined;
}

/** The host of a tcp:// engine that is not on this machine, else undefined. */
function engineHostname(dockerHost: string): string | undefined {
  const match = dockerHost.match(/^(?:tcp|https?):\/\/(\[[^\]]+\]|[^:/]+)/);
  if (!match) return undefined;
  const host = match[1].replace(/^\[|\]$/g, "");
  return ["127.0.0.1", "localhost", "::1"].includes(host) ? undefined : host;
}

/** The published ports of a container, from its inspect document. */
export function publishedPorts(
  details: ContainerDetails,
): { hostPort: number; containerPort: number; protocol: string }[] {
  const out: { hostPort: number; containerPort: number; protocol: string }[] = [];
  for (const [key, bindings] of Object.entries(details.NetworkSettings?.Ports ?? {})) {
    const [containerPort, protocol = "tcp"] = key.split("/");
    for (const binding of bindings ?? []) {
      const hostPort = Number(binding.HostPort);
      if (!out.some((p) => p.hostPort === hostPort && p.protocol === protocol)) {
        out.push({ hostPort, containerPort: Number(containerPort), protocol });
      }
    }
  }
  return out;
}
