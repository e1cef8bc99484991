/**
 * A real PostgreSQL for tests and benchmarks, started by the test itself: Debian's server binaries, `initdb` in a
 * temporary folder owned by the `postgres` user, listening on 127.0.0.1 at a free port, stopped and deleted on
 * dispose. Needs root (to run the server as `postgres`) and the `postgresql` package (scripts/ensure-system-deps).
 * @module
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OrchestratorService } from "../../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { type DaemonProcess, freePort } from "./daemon.ts";

/** A running PostgreSQL server. */
export interface TestPostgres extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** A URL of a fresh database made on this server. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL through psql as the superuser; returns its output. */
  psql(sql: string, database?: string): Promise<string>;
  /** The server's port. */
  port: number;
  /** Stops the server (fast shutdown: connections are cut), keeping its data. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  startServer(): Promise<void>;
}

/** Whether a server can be started here (root and Debian's PostgreSQL binaries). */
export function postgresAvailable(): boolean {
  return Deno.uid() === 0 && binDir() !== undefined;
}

function binDir(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name).sort((a, b) =>
      Number(b) - Number(a)
    );
    for (const version of versions) {
      const dir = `/usr/lib/postgresql/${version}/bin`;
      try {
        Deno.statSync(`${dir}/initdb`);
        return dir;
      } catch { /* next */ }
    }
  } catch { /* not installed */ }
  return undefined;
}

async function run(cmd: string, args: string[], what: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`${what} failed (exit ${out.code}):\n${text}`);
  return text;
}

/** Starts a server in a new temporary folder. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error("PostgreSQL is not installed: run scripts/ensure-system-deps (package postgresql)");
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-pg-" });
  await Deno.chmod(dir, 0o755);
  await run("chown", ["postgres:postgres", dir], "chown");
  const data = `${dir}/data`;
  const as = (args: string[]) => ["-u", "postgres", "--", ...args];
  await run("runuser", as([`${bin}/initdb`, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]), "initdb");
  const port = await freePort();
  // fsync stays on: the durability tests kill daemons, not the server, but the server must behave as in production.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB`;
  const startServer = async () => {
    await run(
      "runuser",
      as([`${bin}/pg_ctl`, "-D", data, "-l", `${dir}/server.log`, "-o", options, "-w", "start"]),
      "pg_ctl start",
    );
  };
  await startServer();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const psql = (sql: string, database = "postgres") =>
    run(
      "runuser",
      as(["psql", "-h", "127.0.0.1", "-p", String(port), "-d", database, "-At", "-c", sql]),
      `psql ${sql}`,
    );
  return {
    url,
    port,
    psql,
    startServer,
    async stopServer() {
      await run("runuser", as([`${bin}/pg_ctl`, "-D", data, "-m", "fast", "-w", "stop"]), "pg_ctl stop");
    },
    async createDatabase(name) {
      await psql(`CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async [Symbol.asyncDispose]() {
      await run("runuser", as([`${bin}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"]), "pg_ctl stop").catch(
        () => {},
      );
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * The config of daemons that share one store in the tests: a short lease, so the attempts a killed daemon held are
 * reaped within a test; and, as in the SQLite durability test, enough interruptions that twenty kills in a row never
 * fail a task by the limit (three by default, by design).
 */
export const SHARED_STORE_CONFIG = "[services]\nredis = false\n[tasks]\nworker_lease_seconds = 3\n" +
  "[tasks.classes.cpu_short]\nmax_interruptions = 100\n";

/** An orchestrator client of one daemon; `close()` it before the daemon stops (an open session and GOAWAY trip an
 * assertion in Deno's nghttp2 binding). */
export type DaemonClient = ReturnType<typeof createClient<typeof OrchestratorService>> & { close(): void };

/** Connects to a daemon's gRPC port over its own HTTP/2 session. */
export function connectDaemon(daemon: DaemonProcess): DaemonClient {
  const baseUrl = `http://${daemon.grpcAddr}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const client = createClient(OrchestratorService, createGrpcTransport({ baseUrl, sessionManager }));
  return Object.assign(client, { close: () => sessionManager.abort() });
}
