/**
 * Runs a real Python `grpcio` client (Debian's, at /usr/bin/python3) with
 * stubs generated from the project's own proto/ at test time.
 * @module
 */

/** The interpreter that has grpcio, grpc_tools and protobuf (ENVIRONMENT.md). */
export const PYTHON = "/usr/bin/python3";

const PROTO_DIR = new URL("../../proto/", import.meta.url).pathname;

let stubDir: Promise<string> | undefined;

/** Generates Python stubs for every proto once per test process and returns their folder. */
export function generatePythonStubs(): Promise<string> {
  stubDir ??= (async () => {
    const out = await Deno.makeTempDir({ prefix: "dspy-agent-pystubs-" });
    const protos = [
      "orchestrator/v1/orchestrator.proto",
      "env_manager/v1/env_manager.proto",
    ];
    const { code, stderr } = await new Deno.Command(PYTHON, {
      args: [
        "-m",
        "grpc_tools.protoc",
        `-I${PROTO_DIR}`,
        `--python_out=${out}`,
        `--grpc_python_out=${out}`,
        ...protos,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(
        `Cannot generate Python stubs: ${new TextDecoder().decode(stderr)}`,
      );
    }
    return out;
  })();
  return stubDir;
}

/** The outcome of a Python script. */
export interface PythonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Python script with the generated stubs importable
 * (`from orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc`).
 * `args` are passed as `sys.argv[1:]`.
 */
export async function runPython(
  script: string,
  options: {
    args?: string[];
    env?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<PythonResult> {
  const stubs = await generatePythonStubs();
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: ["-c", script, ...(options.args ?? [])],
    env: { PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const dec = new TextDecoder();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

/** Runs a Python script and parses the JSON it prints last; throws with its stderr when it fails. */
export async function runPythonJson<T = unknown>(
  script: string,
  options: {
    args?: string[];
    env?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const r = await runPython(script, options);
  if (r.code !== 0) {
    throw new Error(`Python exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  }
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}
