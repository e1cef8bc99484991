/**
 * The Docker engine layer: every Docker call dspy-agent makes goes through an {@linkcode Engine}.
 *
 * Wraps dockerode; each failure is rethrown as a `DockerError` naming the
 * action, or a `DockerUnavailableError` naming the socket and the fix.
 * @module
 */
// @ts-types="@types/dockerode"
import Docker from "dockerode";
import type { Readable } from "node:stream";
import { DockerodeEngine } from "./engine_dockerode.ts";
import { type EngineAddress, parseDockerHost } from "./engine_host.ts";
import type { LabelSelector } from "../labels.ts";
import type { OutputFrame } from "./logs_frames.ts";

export type { EngineAddress, OutputFrame };
/** Options to create a container (the Engine API body, plus `name`). */
export type ContainerCreateOptions = Docker.ContainerCreateOptions;
/** One row of a container listing. */
export type ContainerSummary = Docker.ContainerInfo;
/** A container's full inspect document. */
export type ContainerDetails = Docker.ContainerInspectInfo;
/** A network's inspect document. */
export type NetworkDetails = Docker.NetworkInspectInfo;
/** Options to create a network. */
export type NetworkCreateOptions = Docker.NetworkCreateOptions;
/** A volume's inspect document. */
export type VolumeDetails = Docker.VolumeInspectInfo;
/** Options to create a volume. */
export type VolumeCreateOptions = Docker.VolumeCreateOptions;
/** An image's inspect document. */
export type ImageDetails = Docker.ImageInspectInfo;
/** One stats sample of a container. */
export type ContainerStatsSample = Docker.ContainerStats;

/** Every call takes an optional signal; long or streaming calls stop when it aborts. */
export interface CallOptions {
  /** Aborts the call (streams end quietly, other calls reject with the abort reason). */
  signal?: AbortSignal;
}

/** Options of the list calls. */
export interface ListOptions extends CallOptions {
  /** Only resources carrying these labels. @default every resource */
  selector?: LabelSelector;
}

/** One message of the engine's event stream (`GET /events`). */
export interface EngineEvent {
  /** `container`, `network`, `volume`, `image`, ... */
  Type: string;
  /** `start`, `die`, `health_status: healthy`, `destroy`, ... */
  Action: string;
  /** The object and its attributes (labels included for containers; `exitCode` on `die`). */
  Actor: { ID: string; Attributes: Record<string, string> };
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds. */
  timeNano: number;
}

/** One JSON message of a pull or import stream. */
export interface ProgressMessage {
  /** `Downloading`, `Extracting`, `Pull complete`, `Status: Downloaded newer image ...` */
  status?: string;
  /** The layer id, for layer messages. */
  id?: string;
  /** The engine's progress bar text. */
  progress?: string;
  /** Bytes done and expected for the layer. */
  progressDetail?: { current?: number; total?: number };
  /** Set when the operation failed. */
  error?: string;
  /** The failure, structured. */
  errorDetail?: { message?: string };
}

/** What a command run inside a container produced. */
export interface ExecResult {
  /** The command's exit code. */
  exitCode: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of {@linkcode Engine.exec}. */
export interface ExecOptions extends CallOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory inside the container. */
  workingDir?: string;
  /** User to run as. @default the container's user */
  user?: string;
}

/** Options of {@linkcode Engine.logs}. */
export interface LogOptions extends CallOptions {
  /** Keep streaming new output. @default false */
  follow?: boolean;
  /** Only the last N lines; 0 or undefined means all. */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  /** Unix seconds. */
  until?: number;
  /** Prefix each line with the container's RFC 3339 nanosecond timestamp. @default false */
  timestamps?: boolean;
  /** The container runs with a TTY (its output is not framed). @default false */
  tty?: boolean;
}

/** Options of {@linkcode Engine.events}. */
export interface EventOptions extends ListOptions {
  /** Only these object types (`container`, `network`, ...). */
  types?: string[];
  /** Replay from this unix time (seconds). @default now */
  since?: number;
}

/** Called after every engine call, for `env_manager_docker_api_duration_seconds`. */
export type EngineCallObserver = (
  operation: string,
  status: "ok" | "error",
  seconds: number,
) => void;

/** Options for {@linkcode createEngine}. */
export interface EngineOptions {
  /** DOCKER_HOST syntax: `unix:///var/run/docker.sock`, `/path`, or `tcp://host:port`. */
  dockerHost: string;
  /** Told about every call's duration (wire it to a histogram). @default no-op */
  observe?: EngineCallObserver;
}

/** The Docker engine, one method per operation dspy-agent performs. */
export interface Engine {
  /** The DOCKER_HOST this engine dials. */
  readonly dockerHost: string;
  /** The raw dockerode client, for calls this interface does not cover yet. */
  readonly docker: Docker;
  /** Resolves when the engine answers `GET /_ping`. */
  ping(options?: CallOptions): Promise<void>;
  /** The engine's version and API version. */
  version(
    options?: CallOptions,
  ): Promise<{ version: string; apiVersion: string }>;
  /** Containers, running or not, carrying the selected labels. */
  listContainers(options?: ListOptions): Promise<ContainerSummary[]>;
  /** A container's inspect document; a `DockerError` with `notFound` when it does not exist. */
  inspectContainer(
    id: string,
    options?: CallOptions,
  ): Promise<ContainerDetails>;
  /** Creates a container and returns its id. */
  createContainer(
    spec: ContainerCreateOptions,
    options?: CallOptions,
  ): Promise<string>;
  /** Starts a container (already running is fine). */
  startContainer(id: string, options?: CallOptions): Promise<void>;
  /** Stops a container: SIGTERM, then SIGKILL after `timeoutSeconds` (already stopped is fine). */
  stopContainer(
    id: string,
    options?: CallOptions & { timeoutSeconds?: number },
  ): Promise<void>;
  /** Sends a signal, SIGKILL unless `signalName` says otherwise (not running is fine). */
  killContainer(
    id: string,
    options?: CallOptions & { signalName?: string },
  ): Promise<void>;
  /** Removes a container (already gone is fine). */
  removeContainer(
    id: string,
    options?: CallOptions & { force?: boolean; removeVolumes?: boolean },
  ): Promise<void>;
  /** Waits until the container exits and returns its exit code. */
  waitContainer(id: string, options?: CallOptions): Promise<number>;
  /** Runs a command in a running container and collects its output and exit code. */
  exec(
    id: string,
    command: string[],
    options?: ExecOptions,
  ): Promise<ExecResult>;
  /** A container's output, demultiplexed into stdout and stderr frames. */
  logs(id: string, options?: LogOptions): AsyncIterable<OutputFrame>;
  /** One stats sample (`stream=false`); `oneShot` answers at once, without `precpu_stats`. */
  stats(id: string, options?: CallOptions & { oneShot?: boolean }): Promise<ContainerStatsSample>;
  /** Networks carrying the selected labels. */
  listNetworks(options?: ListOptions): Promise<NetworkDetails[]>;
  /** Creates a network and returns its id. */
  createNetwork(
    spec: NetworkCreateOptions,
    options?: CallOptions,
  ): Promise<string>;
  /** A network's inspect document. */
  inspectNetwork(id: string, options?: CallOptions): Promise<NetworkDetails>;
  /** Connects a container to a network under extra DNS aliases. */
  connectNetwork(
    network: string,
    container: string,
    options?: CallOptions & { aliases?: string[] },
  ): Promise<void>;
  /** Removes a network (already gone is fine). */
  removeNetwork(id: string, options?: CallOptions): Promise<void>;
  /** Volumes carrying the selected labels. */
  listVolumes(options?: ListOptions): Promise<VolumeDetails[]>;
  /** Creates (or returns the existing) named volume and returns its name. */
  createVolume(
    spec: VolumeCreateOptions,
    options?: CallOptions,
  ): Promise<string>;
  /** Removes a volume (already gone is fine). */
  removeVolume(name: string, options?: CallOptions): Promise<void>;
  /** An image's inspect document, or undefined when the engine does not have it. */
  findImage(
    name: string,
    options?: CallOptions,
  ): Promise<ImageDetails | undefined>;
  /** Removes an image (already gone is fine). */
  removeImage(
    name: string,
    options?: CallOptions & { force?: boolean },
  ): Promise<void>;
  /** Pulls an image; yields the engine's progress messages (failures arrive as `error` messages). */
  pull(image: string, options?: CallOptions): AsyncIterable<ProgressMessage>;
  /** Imports a root filesystem tar as an image (`POST /images/create?fromSrc=-`). */
  importImage(
    tar: Readable,
    options: CallOptions & { repo: string; tag: string; changes?: string[] },
  ): Promise<void>;
  /** The engine's event stream until the signal aborts (then it ends quietly). */
  events(options?: EventOptions): AsyncIterable<EngineEvent>;
}

/** Creates an {@linkcode Engine} for a DOCKER_HOST address; nothing is dialled until the first call. */
export function createEngine(options: EngineOptions): Engine {
  const address = parseDockerHost(options.dockerHost);
  const docker = address.kind === "unix" ? new Docker({ socketPath: address.socketPath }) : new Docker({
    host: address.host,
    port: address.port,
    protocol: address.protocol,
  });
  return new DockerodeEngine({
    dockerHost: options.dockerHost,
    docker,
    observe: options.observe,
  });
}
