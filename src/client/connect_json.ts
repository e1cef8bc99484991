/**
 * Calls the daemon with the Connect protocol (JSON) over Deno's own HTTP/2
 * client, with no npm modules: the daemon's Connect handler on the gRPC port
 * serves gRPC, gRPC-web and Connect alike. Loading @connectrpc/connect-node,
 * node:http2 and @bufbuild/protobuf costs about 0.2–0.3 s per CLI run on this
 * machine, more than `status` may take in all, so the CLI uses
 * this; Python clients keep using gRPC on the same port.
 *
 * @module
 */

/** A failed call, with the Connect error code (`unavailable`, `not_found`, ...). */
export class DaemonCallError extends Error {
  /** The Connect code in snake case, e.g. `unimplemented`. */
  readonly code: string;
  /** The procedure called, e.g. `orchestrator.v1.OrchestratorService/Health`. */
  readonly procedure: string;
  /** The daemon's own message. */
  readonly rawMessage: string;
  /** Why, as the daemon's error class names it (from the google.rpc.ErrorInfo detail), e.g. `DockerUnavailableError`. */
  readonly reason?: string;

  /** Creates the error for a procedure, a code and the daemon's message. */
  constructor(
    procedure: string,
    code: string,
    message: string,
    options?: ErrorOptions & { reason?: string },
  ) {
    super(`[${code}] ${message}`, options);
    this.name = "DaemonCallError";
    this.code = code;
    this.procedure = procedure;
    this.rawMessage = message;
    this.reason = options?.reason;
  }
}

/** The error of a Connect JSON error body (`{code, message, details}`). */
function callError(procedure: string, body: Record<string, unknown>, fallback: string): DaemonCallError {
  return new DaemonCallError(procedure, String(body.code ?? "unknown"), String(body.message ?? fallback), {
    reason: errorReason(body.details),
  });
}

/**
 * The `reason` of a google.rpc.ErrorInfo detail: Connect JSON carries it base64-encoded as protobuf, whose field 1 is
 * the reason string. Read by hand so the CLI loads no protobuf runtime (start-up time).
 */
export function errorReason(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  const info = details.find((d) => (d as { type?: string })?.type === "google.rpc.ErrorInfo") as
    | { value?: string }
    | undefined;
  if (!info?.value) return undefined;
  const b64 = info.value.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++];
    let length = 0;
    for (let shift = 0; at < bytes.length; shift += 7) {
      const b = bytes[at++];
      length |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (tag === 0x0a) return new TextDecoder().decode(bytes.subarray(at, at + length));
    if ((tag & 7) !== 2) return undefined; // only length-delimited fields in ErrorInfo
    at += length;
  }
  return undefined;
}

/** gRPC status numbers to Connect codes, for trailers-only answers (for example from the auth check). */
const grpcCodes = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** Options of {@linkcode ConnectJsonTransport}. */
export interface ConnectJsonTransportOptions {
  /** The daemon's `host:port`. */
  address: string;
  /** Sent as `authorization: Bearer <token>` when set. */
  token?: string;
  /** PEM of the CA that signed the daemon's certificate: the daemon serves TLS, and only that CA is trusted. */
  caCert?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds (also sent as `connect-timeout-ms`). */
  timeoutMs?: number;
}

/** Unary and server-streaming calls with JSON messages. */
export class ConnectJsonTransport {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  #client?: Deno.HttpClient;
  readonly #caCerts?: string[];

  /** Creates the transport; no connection is made until the first call. */
  constructor(options: ConnectJsonTransportOptions) {
    this.#baseUrl = `${options.caCert ? "https" : "http"}://${options.address}/`;
    this.#caCerts = options.caCert ? [options.caCert] : undefined;
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /** Calls a unary procedure (`package.Service/Method`) and returns the response JSON. */
  async unary(procedure: string, request: unknown, options: CallOptions = {}): Promise<Record<string, unknown>> {
    const response = await this.#post(procedure, JSON.stringify(request), "application/json", options);
    failOnGrpcStatus(procedure, response.headers);
    const text = await response.text();
    const body = text ? JSON.parse(text) : {};
    if (!response.ok) throw callError(procedure, body, `HTTP ${response.status}`);
    return body;
  }

  /** Calls a server-streaming procedure and yields each response JSON. */
  async *stream(
    procedure: string,
    request: unknown,
    options: CallOptions = {},
  ): AsyncGenerator<Record<string, unknown>> {
    const response = await this.#post(
      procedure,
      envelope(0, JSON.stringify(request)),
      "application/connect+json",
      options,
    );
    failOnGrpcStatus(procedure, response.headers);
    if (!response.ok || !response.body) {
      const body = await response.json().catch(() => ({}));
      throw callError(procedure, body, `HTTP ${response.status}`);
    }
    const decoder = new TextDecoder();
    let buffer: Uint8Array = new Uint8Array(0);
    try {
      for await (const chunk of response.body) {
        buffer = concat(buffer, chunk);
        while (buffer.length >= 5) {
          const length = new DataView(buffer.buffer, buffer.byteOffset + 1, 4).getUint32(0);
          if (buffer.length < 5 + length) break;
          const flags = buffer[0];
          const json = JSON.parse(decoder.decode(buffer.subarray(5, 5 + length)) || "{}");
          buffer = buffer.subarray(5 + length);
          if (flags & 0x02) {
            if (json.error) throw callError(procedure, json.error, "stream failed");
            return;
          }
          yield json;
        }
      }
    } catch (error) {
      if (error instanceof DaemonCallError || options.signal?.aborted) throw error;
      throw new DaemonCallError(procedure, "unavailable", `the stream broke: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw new DaemonCallError(procedure, "unavailable", "the stream ended without an end message");
  }

  /** Closes the HTTP/2 connection. */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  async #post(procedure: string, body: BodyInit, contentType: string, options: CallOptions): Promise<Response> {
    // HTTP/2 as gRPC clients speak to this port: prior knowledge over plain TCP, or `h2` by ALPN over TLS.
    this.#client ??= Deno.createHttpClient({ http1: false, http2: true, caCerts: this.#caCerts });
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined]
      .filter((s): s is AbortSignal => s !== undefined);
    const headers: Record<string, string> = {
      ...this.#headers,
      "content-type": contentType,
      "connect-protocol-version": "1",
    };
    if (options.timeoutMs) headers["connect-timeout-ms"] = String(options.timeoutMs);
    try {
      return await fetch(this.#baseUrl + procedure, {
        method: "POST",
        body,
        headers,
        client: this.#client,
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const timedOut = (error as Error).name === "TimeoutError";
      throw new DaemonCallError(
        procedure,
        timedOut ? "deadline_exceeded" : "unavailable",
        timedOut ? `no answer within ${options.timeoutMs} ms` : `cannot connect: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function failOnGrpcStatus(procedure: string, headers: Headers): void {
  const status = headers.get("grpc-status");
  if (status && status !== "0") {
    const message = decodeURIComponent(headers.get("grpc-message") ?? "");
    throw new DaemonCallError(procedure, grpcCodes[Number(status)] ?? "unknown", message || `gRPC status ${status}`);
  }
}

function envelope(flags: number, json: string): Uint8Array<ArrayBuffer> {
  const payload = new TextEncoder().encode(json);
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
