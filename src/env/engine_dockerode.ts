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
import { DockerError } from "./errors.ts";
import { labelFilter } from "./labels.ts";
import { demuxFrames, type OutputFrame } from "./logs_frames.ts";

/** dockerode accepts `abortSignal` on every call, but its types omit the options on some. */
// deno-lint-ignore no-explicit-any
type Loose = any;

/** Dockerode-backed engine; built by `createEngine`. */
export class DockerodeEngine implements Engine {
  /** The DOCKER_HOST this engine dials. */
  readonly dockerHost: string;
  /** The raw dockerode client. */
  readonly docker: Docker;
  readonly #observe?: EngineCallObserver;

  /** Wraps a dockerode client dialled at `dockerHost`. */
  constructor(
    options: {
      dockerHost: string;
      docker: Docker;
      observe?: EngineCallObserver;
    },
  ) {
    this.dockerHost = options.dockerHost;
    this.docker = options.docker;
    this.#observe = options.observe;
  }

  /** Runs one engine call, timing it and translating its failure. */
  async #call<T>(
    op: string,
    action: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ) {
    signal?.throwIfAborted();
    const started = performance.now();
    try {
      const value: T = await fn();
      this.#observe?.(op, "ok", (performance.now() - started) / 1000);
      return value;
    } catch (err) {
      this.#observe?.(op, "error", (performance.now() - started) / 1000);
      if (signal?.aborted) throw signal.reason;
      throw translateEngineError(err, action, this.dockerHost);
    }
  }

  /** Treats the given engine statuses as success (304 already done, 404 already gone, 409 not running). */
  async #tolerate(statuses: number[], run: Promise<unknown>): Promise<void> {
    try {
      await run;
    } catch (err) {
      if (
        err instanceof DockerError && statuses.includes(err.statusCode ?? 0)
      ) return;
      throw err;
    }
  }

  #container(id: string): Loose {
    return this.docker.getContainer(id);
  }

  ping({ signal }: CallOptions = {}): Promise<void> {
    return this.#call("ping", "ping the engine", signal, async () => {
      await (this.docker as Loose).ping({ abortSignal: signal });
    });
  }

  version(
    { signal }: CallOptions = {},
  ): Promise<{ version: string; apiVersion: string }> {
    return this.#call(
      "version",
      "read the engine version",
      signal,
      async () => {
        const v = await (this.docker as Loose).version({ abortSignal: signal });
        return { version: String(v.Version), apiVersion: String(v.ApiVersion) };
      },
    );
  }

  listContainers(
    { signal, selector }: ListOptions = {},
  ): Promise<ContainerSummary[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call(
      "container_list",
      "list containers",
      signal,
      () =>
        (this.docker as Loose).listContainers({
          all: true,
          filters,
          abortSignal: signal,
        }),
    );
  }

  inspectContainer(
    id: string,
    { signal }: CallOptions = {},
  ): Promise<ContainerDetails> {
    return this.#call(
      "container_inspect",
      `inspect container "${short(id)}"`,
      signal,
      () => this.#container(id).inspect({ abortSignal: signal }),
    );
  }

  createContainer(
    spec: ContainerCreateOptions,
    { signal }: CallOptions = {},
  ): Promise<string> {
    const what = spec.name ? `"${spec.name}"` : `of image "${spec.Image}"`;
    return this.#call(
      "container_create",
      `create container ${what}`,
      signal,
      async () => {
        const container = await this.docker.createContainer({
          ...spec,
          abortSignal: signal,
        });
        return container.id;
      },
    );
  }

  startContainer(id: string, { signal }: CallOptions = {}): Promise<void> {
    return this.#tolerate(
      [304],
      this.#call(
        "container_start",
        `start container "${short(id)}"`,
        signal,
        () => this.#container(id).start({ abortSignal: signal }),
      ),
    );
  }

  stopContainer(
    id: string,
    { signal, timeoutSeconds }: CallOptions & { timeoutSeconds?: number } = {},
  ): Promise<void> {
    return this.#tolerate(
      [304],
      this.#call(
        "container_stop",
        `stop container "${short(id)}"`,
        signal,
        () => this.#container(id).stop({ t: timeoutSeconds, abortSignal: signal }),
      ),
    );
  }

  killContainer(
    id: string,
    { signal, signalName = "SIGKILL" }: CallOptions & { signalName?: string } = {},
  ): Promise<void> {
    return this.#tolerate(
      [409],
      this.#call(
        "container_kill",
        `kill container "${short(id)}"`,
        signal,
        () => this.#container(id).kill({ signal: signalName, abortSignal: signal }),
      ),
    );
  }

  removeContainer(
    id: string,
    options: CallOptions & { force?: boolean; removeVolumes?: boolean } = {},
  ): Promise<void> {
    const { signal, force = false, removeVolumes = false } = options;
    return this.#tolerate(
      [404],
      this.#call(
        "container_remove",
        `remove container "${short(id)}"`,
        signal,
        () =>
          this.#container(id).remove({
            force,
            v: removeVolumes,
            abortSignal: signal,
          }),
      ),
    );
  }

  waitContainer(id: string, { signal }: CallOptions = {}): Promise<number> {
    return this.#call(
      "container_wait",
      `wait for container "${short(id)}"`,
      signal,
      async () => {
        const result = await this.#container(id).wait({ abortSignal: signal });
        return Number(result.StatusCode);
      },
    );
  }

  exec(
    id: string,
    command: string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const { signal, env, workingDir, user } = options;
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
      const stream: Readable = await exec.start({
        hijack: true,
        stdin: false,
        abortSignal: signal,
      });
      const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
      try {
        for await (const frame of demuxFrames(stream)) {
          out[frame.stream].push(frame.data);
        }
      } finally {
        stream.destroy();
      }
      const info = await exec.inspect({ abortSignal: signal });
      return {
        exitCode: info.ExitCode ?? -1,
        stdout: decode(out.stdout),
        stderr: decode(out.stderr),
      };
    });
  }

  async *logs(
    id: string,
    options: LogOptions = {},
  ): AsyncGenerator<OutputFrame> {
    const {
      signal,
      follow = false,
      tail,
      since,
      until,
      timestamps = false,
      tty,
    } = options;
    const action = `read the logs of container "${short(id)}"`;
    const body: Readable | Uint8Array = await this.#call(
      "container_logs",
      action,
      signal,
      () =>
        this.#container(id).logs({
          stdout: true,
          stderr: true,
          follow,
          tail: tail && tail > 0 ? tail : undefined,
          since,
          until,
          timestamps,
          abortSignal: signal,
        }),
    );
    yield* readBody(body, signal, (chunks) => demuxFrames(chunks, { tty }));
  }

  stats(
    id: string,
    { signal, oneShot = false }: CallOptions & { oneShot?: boolean } = {},
  ): Promise<ContainerStatsSample> {
    return this.#call(
      "container_stats",
      `read the stats of container "${short(id)}"`,
      signal,
      () =>
        this.#container(id).stats({
          stream: false,
          "one-shot": oneShot,
          abortSignal: signal,
        }),
    );
  }

  listNetworks(
    { signal, selector }: ListOptions = {},
  ): Promise<NetworkDetails[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call(
      "network_list",
      "list networks",
      signal,
      () => (this.docker as Loose).listNetworks({ filters, abortSignal: signal }),
    );
  }

  createNetwork(
    spec: NetworkCreateOptions,
    { signal }: CallOptions = {},
  ): Promise<string> {
    return this.#call(
      "network_create",
      `create network "${spec.Name}"`,
      signal,
      async () => {
        const network = await this.docker.createNetwork(
          { ...spec, abortSignal: signal } as Loose,
        );
        return network.id;
      },
    );
  }

  inspectNetwork(
    id: string,
    { signal }: CallOptions = {},
  ): Promise<NetworkDetails> {
    return this.#call(
      "network_inspect",
      `inspect network "${short(id)}"`,
      signal,
      () => (this.docker.getNetwork(id) as Loose).inspect({ abortSignal: signal }),
    );
  }

  connectNetwork(
    network: string,
    container: string,
    { signal, aliases }: CallOptions & { aliases?: string[] } = {},
  ): Promise<void> {
    const action = `connect container "${short(container)}" to network "${short(network)}"`;
    return this.#call(
      "network_connect",
      action,
      signal,
      () =>
        (this.docker.getNetwork(network) as Loose).connect({
          Container: container,
          EndpointConfig: aliases ? { Aliases: aliases } : undefined,
          abortSignal: signal,
        }),
    );
  }

  removeNetwork(id: string, { signal }: CallOptions = {}): Promise<void> {
    return this.#tolerate(
      [404],
      this.#call(
        "network_remove",
        `remove network "${short(id)}"`,
        signal,
        () => (this.docker.getNetwork(id) as Loose).remove({ abortSignal: signal }),
      ),
    );
  }

  listVolumes(
    { signal, selector }: ListOptions = {},
  ): Promise<VolumeDetails[]> {
    const filters = selector ? { label: labelFilter(selector) } : {};
    return this.#call("volume_list", "list volumes", signal, async () => {
      const result = await (this.docker as Loose).listVolumes({
        filters,
        abortSignal: signal,
      });
      return result.Volumes ?? [];
    });
  }

  createVolume(
    spec: VolumeCreateOptions,
    { signal }: CallOptions = {},
  ): Promise<string> {
    return this.#call(
      "volume_create",
      `create volume "${spec.Name}"`,
      signal,
      async () => {
        const volume = await (this.docker as Loose).createVolume({
          ...spec,
          abortSignal: signal,
        });
        return String(volume.name ?? spec.Name);
      },
    );
  }

  removeVolume(name: string, { signal }: CallOptions = {}): Promise<void> {
    return this.#tolerate(
      [404],
      this.#call(
        "volume_remove",
        `remove volume "${name}"`,
        signal,
        () =>
          (this.docker.getVolume(name) as Loose).remove({
            abortSignal: signal,
          }),
      ),
    );
  }

  async findImage(
    name: string,
    { signal }: CallOptions = {},
  ): Promise<ImageDetails | undefined> {
    try {
      return await this.#call(
        "image_inspect",
        `inspect image "${name}"`,
        signal,
        () =>
          (this.docker.getImage(name) as Loose).inspect({
            abortSignal: signal,
          }),
      );
    } catch (err) {
      if (err instanceof DockerError && err.notFound) return undefined;
      throw err;
    }
  }

  removeImage(
    name: string,
    options: CallOptions & { force?: boolean } = {},
  ): Promise<void> {
    const { signal, force = false } = options;
    return this.#tolerate(
      [404],
      this.#call(
        "image_remove",
        `remove image "${name}"`,
        signal,
        () =>
          (this.docker.getImage(name) as Loose).remove({
            force,
            abortSignal: signal,
          }),
      ),
    );
  }

  async *pull(
    image: string,
    { signal }: CallOptions = {},
  ): AsyncGenerator<ProgressMessage> {
    const body: Readable = await this.#call(
      "image_pull",
      `pull image "${image}"`,
      signal,
      () => (this.docker as Loose).pull(image, { abortSignal: signal }),
    );
    yield* readBody(
      body,
      signal,
      (chunks) => jsonLines<ProgressMessage>(chunks),
    );
  }

  async importImage(
    tar: Readable,
    options: CallOptions & { repo: string; tag: string; changes?: string[] },
  ): Promise<void> {
    const { signal, repo, tag, changes } = options;
    const action = `import image "${repo}:${tag}"`;
    const body: Readable = await this.#call(
      "image_import",
      action,
      signal,
      () =>
        (this.docker as Loose).importImage(tar, {
          repo,
          tag,
          changes,
          abortSignal: signal,
        }),
    );
    for await (
      const message of readBody(
        body,
        signal,
        (c) => jsonLines<ProgressMessage>(c),
      )
    ) {
      if (message.error) {
        throw new DockerError(
          action,
          message.errorDetail?.message ?? message.error,
        );
      }
    }
  }

  async *events(options: EventOptions = {}): AsyncGenerator<EngineEvent> {
    const { signal, selector, types, since } = options;
    const filters: Record<string, string[]> = {};
    if (selector) filters.label = labelFilter(selector);
    if (types) filters.type = types;
    const body: Readable = await this.#call(
      "events",
      "follow the engine's events",
      signal,
      () =>
        (this.docker as Loose).getEvents({
          filters,
          since,
          abortSignal: signal,
        }),
    );
    yield* readBody(body, signal, (chunks) => jsonLines<EngineEvent>(chunks));
  }
}

/** Iterates a response body (a stream, or a buffer for non-follow calls); destroys it when the consumer stops. */
async function* readBody<T>(
  body: Readable | Uint8Array,
  signal: AbortSignal | undefined,
  parse: (chunks: AsyncIterable<Uint8Array>) => AsyncIterable<T>,
): AsyncGenerator<T> {
  if (body instanceof Uint8Array) {
    yield* parse((async function* () {
      yield body;
    })());
    return;
  }
  try {
    yield* parse(body as AsyncIterable<Uint8Array>);
  } catch (err) {
    // An aborted stream ends quietly: the caller asked for it to stop.
    if (signal?.aborted) return;
    throw err;
  } finally {
    body.destroy();
  }
}

/** Splits a byte stream of newline-separated JSON documents. */
async function* jsonLines<T>(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() !== "") yield JSON.parse(line) as T;
    }
  }
  if (pending.trim() !== "") yield JSON.parse(pending) as T;
}

function decode(parts: Uint8Array[]): string {
  const decoder = new TextDecoder();
  return parts.map((part) => decoder.decode(part, { stream: true })).join("") +
    decoder.decode();
}

function short(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
