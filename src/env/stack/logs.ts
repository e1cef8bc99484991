/**
 * A service's logs (StreamLogs): stdout and stderr demultiplexed, each line
 * with the container's own timestamp; tail, since and follow.
 * @module
 */
import type { ContainerSummary, Engine } from "../engine/engine.ts";
import { ServiceNotFoundError } from "../errors.ts";
import { projectSelector } from "../labels.ts";
import { frameLines, type OutputStream } from "../engine/logs_frames.ts";

/** One line a service wrote. */
export interface LogLine {
  /** The service name. */
  service: string;
  /** The container that wrote it. */
  containerId: string;
  /** stdout or stderr. */
  stream: OutputStream;
  /** The line, without its newline. */
  message: string;
  /** When the container wrote it, unix seconds. */
  timestamp: number;
  /** When the container wrote it, unix nanoseconds as decimal text. */
  timestampNanos: string;
}

/** Options for {@linkcode serviceLogs}. */
export interface ServiceLogsOptions {
  /** The project (namespace) whose service containers are searched. */
  project: string;
  /** The service name. */
  service: string;
  /** Keep streaming new lines until the signal aborts or the container stops. @default false */
  follow?: boolean;
  /** Only the last N lines; 0 means all. @default 0 */
  tail?: number;
  /** Only lines written at or after this unix time (seconds). */
  since?: number;
  /**
   * Whether the service is defined (in the registry or config). A defined
   * service without a container yields nothing; an undefined one without a
   * container throws {@linkcode ServiceNotFoundError}. @default () => false
   */
  isKnown?: (service: string) => boolean;
  /** Stops the stream. */
  signal?: AbortSignal;
}

/** Streams a service's log lines from its newest container. */
export async function* serviceLogs(
  engine: Engine,
  options: ServiceLogsOptions,
): AsyncGenerator<LogLine> {
  const { service, signal } = options;
  const containers = await engine.listContainers({
    selector: projectSelector(options.project, { kind: "service", service }),
    signal,
  });
  const container = newest(containers);
  if (!container) {
    if (options.isKnown?.(service)) return;
    throw new ServiceNotFoundError(service);
  }
  const details = await engine.inspectContainer(container.Id, { signal });
  const frames = engine.logs(container.Id, {
    follow: options.follow ?? false,
    tail: options.tail,
    since: options.since,
    timestamps: true,
    tty: details.Config.Tty,
    signal,
  });
  for await (const { stream, line } of frameLines(frames)) {
    const { nanos, message } = splitTimestamp(line);
    yield {
      service,
      containerId: container.Id,
      stream,
      message,
      timestamp: Number(nanos / 1_000_000_000n),
      timestampNanos: nanos.toString(),
    };
  }
}

/**
 * Splits the engine's `2026-11-23T11:26:53.930020560Z message` prefix off a
 * line; the time is kept to the nanosecond (a Date holds only milliseconds).
 */
export function splitTimestamp(line: string): { nanos: bigint; message: string } {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ?/.exec(line);
  if (!match) return { nanos: BigInt(Date.now()) * 1_000_000n, message: line };
  const seconds = BigInt(Date.parse(`${match[1]}${match[3]}`) / 1000);
  const fraction = BigInt((match[2] ?? "").padEnd(9, "0"));
  return { nanos: seconds * 1_000_000_000n + fraction, message: line.slice(match[0].length) };
}

/** The running container if there is one, else the most recently created. */
function newest(containers: ContainerSummary[]): ContainerSummary | undefined {
  return [...containers].sort((a, b) =>
    Number(b.State === "running") - Number(a.State === "running") || b.Created - a.Created
  )[0];
}
