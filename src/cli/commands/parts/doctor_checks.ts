/**
 * The checks `doctor` runs. Each is independent and reports ok, warn or fail
 * with the fix. The engine check speaks HTTP to the Docker socket directly:
 * it must work when nothing else does, so it depends on no other module.
 *
 * @module
 */

import type { Config } from "../../../config/mod.ts";
import type { CommandContext } from "../../context.ts";
import { isProcessAlive, readDaemonInfo } from "../../lifecycle/state_files.ts";
import { formatBytes } from "../../output/format.ts";

/** The result of one check. */
export interface Check {
  /** What was checked. */
  name: string;
  /** The verdict. */
  status: "ok" | "warn" | "fail";
  /** What was found. */
  detail: string;
  /** How to fix it. */
  fix?: string;
}

/** Runs every check; a check that throws reports fail with the error. */
export async function runChecks(ctx: CommandContext): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Config | undefined;
  try {
    config = (await ctx.loadConfig()).config;
    checks.push({ name: "config", status: "ok", detail: config.configFile });
  } catch (error) {
    checks.push({
      name: "config",
      status: "fail",
      detail: (error as Error).message,
      fix: "Run `dspy-agent config validate`.",
    });
  }
  if (!config) return checks;
  checks.push(await checkDocker(config.dockerHost, ctx.signal));
  checks.push(await checkStateFolder(config.home));
  checks.push(...await checkPorts(config, ctx.signal));
  checks.push(await checkGpu(config));
  checks.push(await checkDisk(config.home));
  checks.push(config.storeUrl ? await checkSharedStore(config) : await checkStore(config.home));
  return checks;
}

/** GET /version on the engine; distinguishes a missing socket, no permission and a dead engine. */
async function checkDocker(dockerHost: string, signal: AbortSignal): Promise<Check> {
  const name = "docker engine";
  let conn: Deno.Conn;
  try {
    if (dockerHost.startsWith("unix://")) conn = await Deno.connect({ transport: "unix", path: dockerHost.slice(7) });
    else {
      const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
      conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 2375) });
    }
  } catch (error) {
    const fix = error instanceof Deno.errors.PermissionDenied
      ? "Add your user to the docker group (`sudo usermod -aG docker $USER`) and log in again."
      : "Start Docker (`sudo systemctl start docker` or `dockerd &`), or set DOCKER_HOST.";
    return { name, status: "fail", detail: `cannot connect to ${dockerHost}: ${(error as Error).message}`, fix };
  }
  try {
    const response = await httpGet(conn, "/version", signal);
    const info = JSON.parse(response);
    return { name, status: "ok", detail: `Docker ${info.Version} (API ${info.ApiVersion}) at ${dockerHost}` };
  } catch (error) {
    return {
      name,
      status: "fail",
      detail: `no answer from ${dockerHost}: ${(error as Error).message}`,
      fix: "Restart the Docker engine.",
    };
  }
}

async function httpGet(conn: Deno.Conn, path: string, signal: AbortSignal): Promise<string> {
  const timer = setTimeout(() => conn.close(), 5000);
  const abort = () => conn.close();
  signal.addEventListener("abort", abort, { once: true });
  try {
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`));
    const text = await new Response(conn.readable).text();
    const [head, body] = [text.slice(0, text.indexOf("\r\n\r\n")), text.slice(text.indexOf("\r\n\r\n") + 4)];
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(head.split("\r\n")[0] || "empty answer");
    return body;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", abort);
  }
}

async function checkStateFolder(home: string): Promise<Check> {
  const name = "state folder";
  try {
    await Deno.mkdir(home, { recursive: true });
    const probe = `${home}/.doctor-${Deno.pid}`;
    await Deno.writeTextFile(probe, "ok");
    await Deno.remove(probe);
    return { name, status: "ok", detail: `${home} is writable` };
  } catch (error) {
    return {
      name,
      status: "fail",
      detail: `${home}: ${(error as Error).message}`,
      fix: `Make ${home} writable, or set DSPY_AGENT_HOME.`,
    };
  }
}

/** The daemon's addresses and every configured host port must be free, or held by our own daemon. */
async function checkPorts(config: Config, signal: AbortSignal): Promise<Check[]> {
  const info = await readDaemonInfo(config.home, signal);
  const ours = info && isProcessAlive(info.pid) ? info : undefined;
  const wanted: { what: string; host: string; port: number }[] = [];
  for (const [what, addr] of [["grpc", config.grpcAddr], ["http", config.httpAddr]] as const) {
    const i = addr.lastIndexOf(":");
    wanted.push({
      what: `daemon ${what}`,
      host: addr.slice(0, i).replace(/^\[|\]$/g, ""),
      port: Number(addr.slice(i + 1)),
    });
  }
  for (const [service, s] of Object.entries(config.services)) {
    if (s.enabled === false) continue;
    for (const mapping of s.ports ?? []) {
      const parts = mapping.split(":");
      if (parts.length < 2) continue;
      wanted.push({
        what: `service ${service}`,
        host: parts.length > 2 ? parts[0] : "127.0.0.1",
        port: Number(parts[parts.length - 2]),
      });
    }
  }
  const busy: string[] = [];
  for (const w of wanted) {
    // A running daemon holds its own addresses, and its services their ports.
    if (ours) continue;
    try {
      const listener = Deno.listen({ hostname: w.host, port: w.port });
      listener.close();
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) busy.push(`${w.host}:${w.port} (${w.what})`);
    }
  }
  const detail = ours ? `; not checked: the daemon (pid ${ours.pid}) and its services hold them` : " free";
  return busy.length === 0 ? [{ name: "ports", status: "ok", detail: `${wanted.length} ports${detail}` }] : [{
    name: "ports",
    status: "fail",
    detail: `in use: ${busy.join(", ")}`,
    fix: "Stop what uses them (`ss -ltnp`), or change the ports in config.toml / ORCHESTRATOR_*_ADDR.",
  }];
}

async function checkGpu(config: Config): Promise<Check> {
  const name = "gpu";
  try {
    const out = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=name,driver_version", "--format=csv,noheader"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (out.success && text) return { name, status: "ok", detail: text.split("\n").join("; ") };
    return {
      name,
      status: config.gpu ? "fail" : "warn",
      detail: "nvidia-smi found no GPU",
      fix: "Install the NVIDIA driver.",
    };
  } catch {
    return {
      name,
      status: config.gpu ? "fail" : "ok",
      detail: config.gpu
        ? "no NVIDIA driver (nvidia-smi not found) but gpu = true"
        : "no GPU (not needed: gpu = false)",
      fix: "Install the NVIDIA driver and nvidia-container-toolkit, or set gpu = false.",
    };
  }
}

async function checkDisk(home: string): Promise<Check> {
  const name = "disk space";
  try {
    const out = await new Deno.Command("df", { args: ["-Pk", home], stdout: "piped", stderr: "null" }).output();
    const fields = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!.split(/\s+/);
    const free = Number(fields[3]) * 1024;
    if (!Number.isFinite(free)) throw new Error("unreadable df output");
    const low = free < 2 * 1024 ** 3;
    return {
      name,
      status: low ? "warn" : "ok",
      detail: `${formatBytes(free)} free on ${fields[5]}`,
      fix: low ? "Free space: `docker system prune` removes unused images." : undefined,
    };
  } catch (error) {
    return { name, status: "warn", detail: `cannot measure: ${(error as Error).message}` };
  }
}

/** The shared PostgreSQL store: whether it answers, and its schema version. */
async function checkSharedStore(config: Config): Promise<Check> {
  const name = "task store";
  const { checkPostgresStore } = await import("../../../daemon/mod.ts");
  const result = await checkPostgresStore(config);
  return result.ok ? { name, status: "ok", detail: result.detail } : {
    name,
    status: "fail",
    detail: result.detail,
    fix: "Start PostgreSQL, or fix `store` (DSPY_AGENT_STORE_URL) and `store_password_file`.",
  };
}

/** The task store's integrity: asked of the running daemon (which holds it exclusively), else read directly. */
async function checkStore(home: string): Promise<Check> {
  const name = "task store";
  try {
    await Deno.stat(`${home}/orchestrator.db`);
  } catch {
    return { name, status: "ok", detail: "none yet (made on the first start)" };
  }
  const info = await readDaemonInfo(home);
  if (info && isProcessAlive(info.pid)) {
    return { name, status: "ok", detail: "held by the running daemon; `dspy-agent store check` asks it" };
  }
  try {
    const { checkStoreFile } = await import("../../../daemon/mod.ts");
    const result = checkStoreFile(home);
    return result.ok ? { name, status: "ok", detail: `${result.path}: integrity ok` } : {
      name,
      status: "fail",
      detail: `${result.path}: ${result.detail}`,
      fix: "Move the file aside and put back a copy made by `dspy-agent store backup`.",
    };
  } catch (error) {
    return {
      name,
      status: "fail",
      detail: (error as Error).message,
      fix: "Move the file aside and put back a copy made by `dspy-agent store backup`.",
    };
  }
}
