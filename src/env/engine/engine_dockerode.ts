/**
 * The {@linkcode Engine} implementation on dockerode.
 * @module
 */
// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import type { Readable } from "node:stream";
import type {
  CallOptions,
  ContainerCreateOptions,
  ContainerDetails,
  ContainerStatsSample,
  ContainerSummary,
  Engine,
  EngineCallObserver,
  EngineEvent,
  EventOptions,
  ExecOptions,
  ExecResult,
  ImageDetails,
  ListOptions,
  LogOptions,
  NetworkCreateOptions,
  NetworkDetails,
  ProgressMessage,
  VolumeCreateOptions,
  VolumeDetails,
} from "./engine.ts";
import { translateEngineError } from "./engine_host.ts";
import { DockerError } from "../errors.ts";
import { labelFilter } from "../labels.ts";
import { decode, jsonLines, readBody, short } from "./engine_streams.ts";
import { demuxFrames, type OutputFrame } from "./logs_frames.ts";

/** dockerode accepts `abortSignal` on every call, but its types omit the options on some. */
// deno-lint-ignore no-explicit-any
type Loose = any;

/** Engine statuses that mean "already done": 304 already started/stopped, 404 already gone, 409 not running. */
type Tolerated = 304 | 404 | 409;

/** Dockerode-backed engine; built by `createEngine`. */
export class DockerodeEngine implements Engine {
  /** The DOCKER_HOST this engine dials. */
  readonly dockerHost: string;
  /** The raw dockerode client. */
  readonly docker: Docker;
  readonly #observe?: EngineCallObserver;

  /** Wraps a dockerode client dialled at `dockerHost`. */
  constructor(options: { dockerHost: string; docker: Docker; observe?: EngineCallObserver }) {
    this.dockerHost = options.dockerHost;
    this.docker = options.docker;
    this.#observe = options.observe;
  }

  /** Runs one engine call, timing it and translating its failure; `tolerate` statuses count as success. */
  #call<T>(op: string, action: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T>;
  #call(
    op: string,
    action: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<unknown>,
    tolerate: Tolerated,
  ): Promise<void>;
  async #call<T>(op: string, action: string, signal: AbortSignal | undefined, fn: () => Promise<T>, tolerate?: number) {
    signal?.throwIfAborted();
    const started = performance.now();
    try {
      const value = await fn();
      this.#observe?.(op, "ok", (performance.now() - started) / 1000);
      return tolerate === undefined ? value : undefined;
    } catch (err) {
      this.#observe?.(op, "error", (performance.now() - started) / 1000);
      if (signal?.aborted) throw signal.reason;
      const translated = translateEngineError(err, action, this.dockerHost);
      if (translated instanceof DockerError && translated.statusCode === tolerate) return undefined;
      throw translated;
    }
  }

  /** Translates an error that cuts a response stream. */
  #fail(action: string): (err: unknown) => unknown {
    return (err) => translateEngineError(err, action, this.dockerHost);
  }

  #loose(): Loose {
    return this.docker;
  }

  #container(id: string): Loose {
    return this.docker.getContainer(id);
  }

  ping({ signal }: CallOptions = {}): Promise<void> {
    return this.#call("ping", "ping the engine", signal, () => this.#loose().ping({ abortSignal: signal }), 304);
  }

  version({ signal }: CallOptions = {}): Promise<{ version: string; apiVersion: string }> {
    return this.#call("version", "read the engine version", signal, async () => {
      const v = await this.#loose().version({ abortSignal: signal });
      return { version: String(v.Version), apiVersion: String(v.ApiVersion) };
    });
  }

  listContainers({ signal, selector }: ListOptions = {}): Promise<ContainerSummary[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call(
      "container_list",
      "list containers",
      signal,
      () => this.#loose().listContainers({ all: true, filters, abortSignal: signal }),
    );
  }

  inspectContainer(id: string, { signal }: CallOptions = {}): Promise<ContainerDetails> {
    return this.#call(
      "container_inspect",
      `inspect container "${short(id)}"`,
      signal,
      () => this.#container(id).inspect({ abortSignal: signal }),
    );
  }

  createContainer(spec: ContainerCreateOptions, { signal }: CallOptions = {}): Promise<string> {
    const what = spec.name ? `"${spec.name}"` : `of image "${spec.Image}"`;
    return this.#call("container_create", `create container ${what}`, signal, async () => {
      const container = await this.docker.createContainer({ ...spec, abortSignal: signal });
      return container.id;
    });
  }

  startContainer(id: string, { signal }: CallOptions = {}): Promise<void> {
    const action = `start container "${short(id)}"`;
    return this.#call("container_start", action, signal, () => this.#container(id).start({ abortSignal: signal }), 304);
  }

  stopContainer(id: string, { signal, timeoutSeconds }: CallOptions & { timeoutSeconds?: number } = {}): Promise<void> {
    const stop = () => this.#container(id).stop({ t: timeoutSeconds, abortSignal: signal });
    return this.#call("container_stop", `stop container "${short(id)}"`, signal, stop, 304);
  }

  killContainer(id: string, { signal, signalName = "SIGKILL" }: CallOptions & { signalName?: string } = {}) {
    const kill = () => this.#container(id).kill({ signal: signalName, abortSignal: signal });
    return this.#call("container_kill", `kill container "${short(id)}"`, signal, kill, 409);
  }

  removeContainer(id: string, options: CallOptions & { force?: boolean; removeVolumes?: boolean } = {}) {
    const { signal, force = false, removeVolumes = false } = options;
    const remove = () => this.#container(id).remove({ force, v: removeVolumes, abortSignal: signal });
    return this.#call("container_remove", `remove container "${short(id)}"`, signal, remove, 404);
  }

  waitContainer(id: string, { signal }: CallOptions = {}): Promise<number> {
    return this.#call("container_wait", `wait for container "${short(id)}"`, signal, async () => {
      const result = await this.#container(id).wait({ abortSignal: signal });
      return Number(result.StatusCode);
    });
  }

  exec(id: string, command: string[], { signal, env, workingDir, user }: ExecOptions = {}): Promise<ExecResult> {
    const action = `run ${JSON.stringify(command)} in container "${short(id)}"`;
    return this.#call("container_exec", action, signal, async () => {
      const exec = await this.#container(id).exec({
        Cmd: command,
        AttachStdout: true,
        AttachStderr: true,
        Env: env ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : undefined,
        WorkingDir: workingDir,
        User: user,
        abortSignal: signal,
      });
      const stream: Readable = await exec.start({ hijack: true, stdin: false, abortSignal: signal });
      const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
      try {
        for await (const frame of demuxFrames(stream)) out[frame.stream].push(frame.data);
      } finally {
        stream.destroy();
      }
      const info = await exec.inspect({ abortSignal: signal });
      return { exitCode: info.ExitCode ?? -1, stdout: decode(out.stdout), stderr: decode(out.stderr) };
    });
  }

  async *logs(id: string, options: LogOptions = {}): AsyncGenerator<OutputFrame> {
    const { signal, follow = false, tail, since, until, timestamps = false, tty } = options;
    const query = { stdout: true, stderr: true, follow, since, until, timestamps, abortSignal: signal };
    const body: Readable | Uint8Array = await this.#call(
      "container_logs",
      `read the logs of "${short(id)}"`,
      signal,
      () => this.#container(id).logs({ ...query, tail: tail && tail > 0 ? tail : undefined }),
    );
    yield* readBody(
      body,
      signal,
      (chunks) => demuxFrames(chunks, { tty }),
      this.#fail(`read the logs of "${short(id)}"`),
    );
  }

  stats(
    id: string,
    { signal, oneShot = false }: CallOptions & { oneShot?: boolean } = {},
  ): Promise<ContainerStatsSample> {
    return this.#call(
      "container_stats",
      `read the stats of container "${short(id)}"`,
      signal,
      () => this.#container(id).stats({ stream: false, "one-shot": oneShot, abortSignal: signal }),
    );
  }

  listNetworks({ signal, selector }: ListOptions = {}): Promise<NetworkDetails[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call(
      "network_list",
      "list networks",
      signal,
      () => this.#loose().listNetworks({ filters, abortSignal: signal }),
    );
  }

  createNetwork(spec: NetworkCreateOptions, { signal }: CallOptions = {}): Promise<string> {
    return this.#call("network_create", `create network "${spec.Name}"`, signal, async () => {
      const network = await this.#loose().createNetwork({ ...spec, abortSignal: signal });
      return String(network.id);
    });
  }

  inspectNetwork(id: string, { signal }: CallOptions = {}): Promise<NetworkDetails> {
    return this.#call(
      "network_inspect",
      `inspect network "${short(id)}"`,
      signal,
      () => this.#loose().getNetwork(id).inspect({ abortSignal: signal }),
    );
  }

  connectNetwork(network: string, container: string, options: CallOptions & { aliases?: string[] } = {}) {
    const { signal, aliases } = options;
    const action = `connect container "${short(container)}" to network "${short(network)}"`;
    const EndpointConfig = aliases ? { Aliases: aliases } : undefined;
    return this.#call("network_connect", action, signal, async () => {
      await this.#loose().getNetwork(network).connect({ Container: container, EndpointConfig, abortSignal: signal });
    });
  }

  removeNetwork(id: string, { signal }: CallOptions = {}): Promise<void> {
    const remove = () => this.#loose().getNetwork(id).remove({ abortSignal: signal });
    return this.#call("network_remove", `remove network "${short(id)}"`, signal, remove, 404);
  }

  listVolumes({ signal, selector }: ListOptions = {}): Promise<VolumeDetails[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call("volume_list", "list volumes", signal, async () => {
      const result = await this.#loose().listVolumes({ filters, abortSignal: signal });
      return result.Volumes ?? [];
    });
  }

  createVolume(spec: VolumeCreateOptions, { signal }: CallOptions = {}): Promise<string> {
    return this.#call("volume_create", `create volume "${spec.Name}"`, signal, async () => {
      const volume = await this.#loose().createVolume({ ...spec, abortSignal: signal });
      return String(volume.name ?? spec.Name);
    });
  }

  removeVolume(name: string, { signal }: CallOptions = {}): Promise<void> {
    const remove = () => this.#loose().getVolume(name).remove({ abortSignal: signal });
    return this.#call("volume_remove", `remove volume "${name}"`, signal, remove, 404);
  }

  async findImage(name: string, { signal }: CallOptions = {}): Promise<ImageDetails | undefined> {
    try {
      return await this.#call(
        "image_inspect",
        `inspect image "${name}"`,
        signal,
        () => this.#loose().getImage(name).inspect({ abortSignal: signal }),
      );
    } catch (err) {
      if (err instanceof DockerError && err.notFound) return undefined;
      throw err;
    }
  }

  removeImage(name: string, { signal, force = false }: CallOptions & { force?: boolean } = {}): Promise<void> {
    const remove = () => this.#loose().getImage(name).remove({ force, abortSignal: signal });
    return this.#call("image_remove", `remove image "${name}"`, signal, remove, 404);
  }

  async *pull(image: string, { signal }: CallOptions = {}): AsyncGenerator<ProgressMessage> {
    const body: Readable = await this.#call(
      "image_pull",
      `pull image "${image}"`,
      signal,
      () => this.#loose().pull(image, { abortSignal: signal }),
    );
    yield* readBody(body, signal, (chunks) => jsonLines<ProgressMessage>(chunks), this.#fail(`pull image "${image}"`));
  }

  async importImage(tar: Readable, options: CallOptions & { repo: string; tag: string; changes?: string[] }) {
    const { signal, repo, tag, changes } = options;
    const action = `import image "${repo}:${tag}"`;
    const body: Readable = await this.#call(
      "image_import",
      action,
      signal,
      () => this.#loose().importImage(tar, { repo, tag, changes, abortSignal: signal }),
    );
    for await (const message of readBody(body, signal, (c) => jsonLines<ProgressMessage>(c), this.#fail(action))) {
      if (message.error) throw new DockerError(action, message.errorDetail?.message ?? message.error);
    }
  }

  async *events({ signal, selector, types, since }: EventOptions = {}): AsyncGenerator<EngineEvent> {
    const filters: Record<string, string[]> = {};
    if (selector) filters.label = labelFilter(selector);
    if (types) filters.type = types;
    const body: Readable = await this.#call(
      "events",
      "follow the engine's events",
      signal,
      () => this.#loose().getEvents({ filters, since, abortSignal: signal }),
    );
    yield* readBody(body, signal, (chunks) => jsonLines<EngineEvent>(chunks), this.#fail("follow the engine's events"));
  }
}
