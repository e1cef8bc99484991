/**
 * The service registry: built-in definitions merged with config, validated before any container is touched.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Config, ConfigError, ConfigErrors, type ServiceConfig } from "../../config/mod.ts";
import { dependencyClosure, type DependencyGraph, findCycle, topologicalOrder } from "./graph.ts";
import { builtinServices } from "./registry_builtin.ts";
import { parsePortSpec, parseVolumeSpec, type PortSpec, type ServiceDefinition } from "./service_definition.ts";
import { UnknownServiceError } from "../stack/stack_errors.ts";

/** The validated set of services of one stack. */
export interface ServiceRegistry {
  /** The project that labels and prefixes every Docker resource. */
  readonly project: string;
  /** Every defined service by name, enabled or not. */
  readonly services: ReadonlyMap<string, ServiceDefinition>;
  /** Service name to its dependencies. */
  readonly graph: DependencyGraph;
  /** Returns a service, or throws {@linkcode UnknownServiceError}. */
  get(name: string): ServiceDefinition;
  /**
   * Returns the services a start brings up, dependencies first: the named ones plus their dependencies, or
   * every enabled service when no name is given. GPU services are left out unless `gpu` is set.
   */
  select(names: readonly string[], options?: { gpu?: boolean }): ServiceDefinition[];
}

/**
 * Builds the registry from the built-ins and `config.services` / `config.ports`.
 *
 * Throws {@linkcode ConfigErrors} listing every problem found: unknown service, dependency cycle (naming it),
 * missing dependency, duplicate host port, malformed port or volume.
 */
export function resolveRegistry(config: Config): ServiceRegistry {
  const errors: ConfigError[] = [];
  const where = (key: string) => ({ file: config.configFile, key });
  const builtins = builtinServices();
  const services = new Map<string, ServiceDefinition>();
  const names = new Set([...Object.keys(builtins), ...Object.keys(config.services)]);
  for (const name of [...names].sort()) {
    const base = builtins[name];
    const override: ServiceConfig = config.services[name] ?? {};
    const image = override.image ?? base?.image;
    if (!image) {
      errors.push(
        new ConfigError(
          `unknown service "${name}": it is not built in, so it needs an image`,
          where(`services.${name}.image`),
        ),
      );
      continue;
    }
    const def = mergeService(name, image, base, override, config, (detail, key) => {
      errors.push(new ConfigError(detail, where(`services.${name}.${key}`)));
    });
    services.set(name, def);
  }
  for (const [name, port] of Object.entries(config.ports)) {
    const def = services.get(name);
    if (!def) {
      errors.push(new ConfigError(`unknown service "${name}"`, where(`ports.${name}`)));
    } else if (!def.ports[0]) {
      errors.push(new ConfigError(`service "${name}" has no port to publish`, where(`ports.${name}`)));
    } else {
      def.ports[0] = { ...def.ports[0], hostPort: port };
    }
  }
  const graph = new Map([...services].map(([name, def]) => [name, def.dependsOn] as const));
  for (const def of services.values()) {
    for (const dep of def.dependsOn) {
      if (!services.has(dep)) {
        errors.push(
          new ConfigError(
            `service "${def.name}" depends on "${dep}", which is not defined`,
            where(`services.${def.name}.depends_on`),
          ),
        );
      }
    }
  }
  const cycle = findCycle(graph);
  if (cycle) {
    errors.push(
      new ConfigError(`dependency cycle: ${cycle.join(" -> ")}`, where(`services.${cycle[0]}.depends_on`)),
    );
  }
  const enabled = [...services.values()].filter((d) => d.enabled);
  if (!cycle) errors.push(...duplicatePorts(enabled, config.configFile));
  if (errors.length > 0) throw new ConfigErrors(errors);
  return makeRegistry(config.project, services, graph, config.configFile);
}

/** Returns a stable hash of everything that shapes a service's container; a change means "recreate it". */
export function definitionHash(def: ServiceDefinition): string {
  const canonical = JSON.stringify({
    image: def.image,
    command: def.command ?? null,
    env: Object.entries(def.env).sort(([a], [b]) => a.localeCompare(b)),
    ports: def.ports.map((p) => [p.hostIp, p.hostPort ?? null, p.containerPort, p.protocol]),
    volumes: def.volumes.map((v) => [v.kind, v.source, v.target, v.readOnly]),
    gpu: def.gpu,
    // Only when set: stacks made before the key existed keep their hash, and so their containers.
    ...(def.memoryMb ? { memoryMb: def.memoryMb } : {}),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

function makeRegistry(
  project: string,
  services: Map<string, ServiceDefinition>,
  graph: DependencyGraph,
  configFile: string,
): ServiceRegistry {
  const get = (name: string): ServiceDefinition => {
    const def = services.get(name);
    if (!def) throw new UnknownServiceError({ service: name, known: [...services.keys()] });
    return def;
  };
  return {
    project,
    services,
    graph,
    get,
    select(names, options = {}) {
      for (const name of names) get(name);
      const roots = names.length > 0 ? names : [...services.values()].filter((d) => d.enabled).map((d) => d.name);
      const chosen = [...dependencyClosure(graph, roots)]
        .map(get)
        .filter((d) => options.gpu || !d.gpu || names.includes(d.name));
      const duplicates = duplicatePorts(chosen, configFile);
      if (duplicates.length > 0) throw new ConfigErrors(duplicates);
      const order = topologicalOrder(graph, chosen.map((d) => d.name));
      return order.map(get);
    },
  };
}

function mergeService(
  name: string,
  image: string,
  base: ServiceConfig & { imageHint?: string } | undefined,
  override: ServiceConfig,
  config: Config,
  report: (detail: string, key: string) => void,
): ServiceDefinition {
  const pick = <K extends keyof ServiceConfig>(key: K): ServiceConfig[K] => override[key] ?? base?.[key];
  const ports: PortSpec[] = [];
  for (const text of pick("ports") ?? []) {
    try {
      ports.push(parsePortSpec(text));
    } catch (error) {
      report((error as Error).message, "ports");
    }
  }
  const volumes = [];
  for (const text of pick("volumes") ?? []) {
    try {
      volumes.push(parseVolumeSpec(text));
    } catch (error) {
      report((error as Error).message, "volumes");
    }
  }
  const health = { ...base?.health, ...override.health };
  const kind = health.kind ?? "none";
  if ((kind === "http" || kind === "tcp" || kind === "redis") && health.port === undefined) {
    const first = ports[0]?.containerPort;
    if (first === undefined) report(`a ${kind} health check needs a port`, "health.port");
    health.port = first;
  }
  if (kind === "exec" && !(health.command && health.command.length > 0)) {
    report("an exec health check needs a command", "health.command");
  }
  const restart = pick("restart") ?? "on-failure";
  if (!["no", "on-failure", "always"].includes(restart)) {
    report(`restart must be no, on-failure or always, not "${restart}"`, "restart");
  }
  // A user-built image loses its hint once the config names another image.
  const imageHint = override.image ? undefined : base?.imageHint;
  return {
    name,
    image,
    command: pick("command"),
    env: { ...base?.env, ...override.env },
    ports,
    volumes,
    dependsOn: [...(pick("dependsOn") ?? [])],
    enabled: pick("enabled") ?? (base ? false : true),
    required: pick("required") ?? true,
    restart,
    gpu: pick("gpu") ?? false,
    memoryMb: pick("memoryMb"),
    health: {
      kind,
      port: health.port,
      path: health.path,
      command: health.command,
      timeoutSeconds: health.timeoutSeconds ?? config.healthTimeoutSeconds,
    },
    imageHint,
  };
}

function duplicatePorts(defs: ServiceDefinition[], file: string): ConfigError[] {
  const seen = new Map<string, string>();
  const errors: ConfigError[] = [];
  for (const def of defs) {
    for (const port of def.ports) {
      if (port.hostPort === undefined) continue;
      const key = `${port.hostPort}/${port.protocol}`;
      const other = seen.get(key);
      if (other !== undefined && other !== def.name) {
        errors.push(
          new ConfigError(
            `host port ${port.hostPort}/${port.protocol} is used by both "${other}" and "${def.name}"`,
            { file, key: `services.${def.name}.ports` },
          ),
        );
      }
      seen.set(key, def.name);
    }
  }
  return errors;
}
