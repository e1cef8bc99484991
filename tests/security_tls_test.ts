/**
 * TLS and the token, as a client on another host meets them (docs/security.md): the daemon runs in a network
 * namespace of the test's own and listens on every interface with TLS; clients run in a second namespace, so the
 * daemon sees a non-loopback peer. No traffic leaves the two namespaces. Needs root (CI runs as root).
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { cliCommand, freePort, startDaemonProcess } from "./support/daemon.ts";
import { makeCertificates, makeTestHosts } from "./support/netns.ts";
import { generatePythonStubs, PYTHON } from "./support/python.ts";

const CLIENT_SCRIPT = `
import grpc, json, sys
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc
target, ca_file, token = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
def call(name, channel, metadata):
    stub = rpc.OrchestratorServiceStub(channel)
    try:
        stub.Health(pb.HealthRequest(), timeout=5, metadata=metadata)
        out[name] = "OK"
    except grpc.RpcError as e:
        out[name] = e.code().name
creds = grpc.ssl_channel_credentials(root_certificates=open(ca_file, "rb").read())
call("tls_token", grpc.secure_channel(target, creds), [("authorization", "Bearer " + token)])
call("tls_no_token", grpc.secure_channel(target, creds), [])
call("tls_wrong_token", grpc.secure_channel(target, creds), [("authorization", "Bearer " + "0" * 64)])
call("plaintext", grpc.insecure_channel(target), [("authorization", "Bearer " + token)])
stub = rpc.OrchestratorServiceStub(grpc.secure_channel(target, creds))
r = stub.SubmitTask(pb.SubmitTaskRequest(payload={"task_type": "echo", "x": "1"}), metadata=[("authorization", "Bearer " + token)], timeout=5)
out["submit"] = r.success
print(json.dumps(out))
`;

const REMOTE_TASKS = `
from dspy_agent_client import Worker
worker = Worker(slots=2)

@worker.task("remote_square")
def square(payload):
    return {"value": payload["n"] ** 2}
`;

const REMOTE_CLIENT = `
import json, sys, time
from dspy_agent_client import Client
target, ca, token = sys.argv[1], sys.argv[2], sys.argv[3]
client = Client(target, token=token, root_certificates=open(ca, "rb").read())
deadline = time.monotonic() + 30
while not [w for w in client.workers() if w["name"] == "remote-worker" and w["state"] == "connected"]:
    assert time.monotonic() < deadline, "the remote worker never connected"
    time.sleep(0.1)
ids = client.submit_many([{"task_type": "remote_square", "payload": {"n": n}} for n in range(10)])
values = [client.wait(i, timeout=30)["value"] for i in ids]
worker = [w for w in client.workers() if w["name"] == "remote-worker"][0]
print(json.dumps({"values": values, "worker": worker}))
`;

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name:
    "TLS: a client and a Python worker on another host connect with TLS and the token; no token, a wrong one or plain text is refused",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using hosts = await makeTestHosts();
    const dir = await Deno.makeTempDir({ prefix: "dspy-agent-tls-" });
    const pem = await makeCertificates(dir, ["localhost", "127.0.0.1", hosts.serverAddress]);
    await using daemon = await startDaemonProcess({
      wrap: ["ip", "netns", "exec", hosts.server],
      waitReady: false,
      configToml: `[tls]\ncert = "${pem.cert}"\nkey = "${pem.key}"\n`,
      env: { ORCHESTRATOR_GRPC_ADDR: "0.0.0.0:50052", ORCHESTRATOR_HTTP_ADDR: "0.0.0.0:9097" },
    });
    const token = (await waitForFile(`${daemon.home}/auth.token`)).trim();
    const inClient = ["netns", "exec", hosts.client];
    const target = `${hosts.serverAddress}:50052`;

    // HTTPS on the HTTP port, from the other host: the token is needed there too.
    let health = { code: 1, stdout: "", stderr: "" };
    for (let i = 0; i < 100 && !health.stdout.includes('"ok"'); i++) {
      health = await run("ip", [
        ...inClient,
        "curl",
        "-s",
        "--cacert",
        pem.ca,
        "-H",
        `authorization: Bearer ${token}`,
        `https://${hosts.serverAddress}:9097/health`,
      ]);
      if (!health.stdout.includes('"ok"')) await new Promise((r) => setTimeout(r, 200));
    }
    assertStringIncludes(health.stdout, '"ok"', `${health.stderr}\n${daemon.output()}`);
    // Off loopback every call needs the token; the dashboard's own files load without it (they hold no data).
    const code = async (path: string, headers: string[] = []) =>
      (await run("ip", [
        ...inClient,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        pem.ca,
        ...headers,
        `https://${hosts.serverAddress}:9097${path}`,
      ])).stdout;
    assertEquals(await code("/health"), "401");
    assertEquals(await code("/"), "200");
    assertEquals(await code("/dashboard/app.js"), "200");
    assertEquals(await code("/dashboard/session"), "401");
    assertEquals(await code("/dashboard/session", ["-H", `authorization: Bearer ${token}`]), "200");
    const plainHttp = await run("ip", [
      ...inClient,
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://${hosts.serverAddress}:9097/health`,
    ]);
    assert(plainHttp.stdout !== "200", "plain HTTP was answered on the TLS port");

    // gRPC with Python's grpcio, as a remote worker or client would connect.
    const stubs = await generatePythonStubs();
    const py = await run("ip", [
      ...inClient,
      "env",
      `PYTHONPATH=${stubs}`,
      PYTHON,
      "-c",
      CLIENT_SCRIPT,
      target,
      pem.ca,
      token,
    ]);
    assertEquals(py.code, 0, py.stderr);
    const outcome = JSON.parse(py.stdout.trim().split("\n").at(-1)!);
    assertEquals(outcome, {
      tls_token: "OK",
      tls_no_token: "UNAUTHENTICATED",
      tls_wrong_token: "UNAUTHENTICATED",
      plaintext: "UNAVAILABLE",
      submit: true,
    });

    // The CLI, with the CA in its config and the token from the environment.
    const cliHome = await Deno.makeTempDir({ prefix: "dspy-agent-tls-cli-" });
    await Deno.writeTextFile(`${cliHome}/config.toml`, `[tls]\nca = "${pem.ca}"\n`);
    const { cmd, args } = cliCommand();
    const status = await run("ip", [
      ...inClient,
      "env",
      `DSPY_AGENT_HOME=${cliHome}`,
      `ORCHESTRATOR_GRPC_ADDR=${target}`,
      `DSPY_AGENT_TOKEN=${token}`,
      cmd,
      ...args,
      "tasks",
      "list",
      "--json",
    ]);
    assertEquals(status.code, 0, `${status.stdout}\n${status.stderr}`);
    assertStringIncludes(status.stdout, `"status": "completed"`);
    const wrong = await run("ip", [
      ...inClient,
      "env",
      `DSPY_AGENT_HOME=${cliHome}`,
      `ORCHESTRATOR_GRPC_ADDR=${target}`,
      `DSPY_AGENT_TOKEN=${"0".repeat(64)}`,
      cmd,
      ...args,
      "tasks",
      "list",
    ]);
    assert(wrong.code !== 0, "a wrong token was accepted");

    // A Python worker on the other host, run by the package's own entry point with the CA and the token, takes tasks
    // that a Python client there submits; both speak TLS.
    const pkg = new URL("../python/", import.meta.url).pathname;
    await Deno.writeTextFile(`${dir}/remote_tasks.py`, REMOTE_TASKS);
    await Deno.writeTextFile(`${dir}/token`, token);
    const worker = new Deno.Command("ip", {
      args: [
        ...inClient,
        "env",
        `PYTHONPATH=${pkg}`,
        PYTHON,
        "-m",
        "dspy_agent_client",
        "worker",
        "remote_tasks:worker",
        "--address",
        target,
        "--ca",
        pem.ca,
        "--token-file",
        `${dir}/token`,
        "--name",
        "remote-worker",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const remote = await run("ip", [
        ...inClient,
        "env",
        `PYTHONPATH=${pkg}`,
        PYTHON,
        "-c",
        REMOTE_CLIENT,
        target,
        pem.ca,
        token,
      ]);
      assertEquals(remote.code, 0, remote.stderr);
      const seen = JSON.parse(remote.stdout.trim().split("\n").at(-1)!);
      assertEquals(seen.values, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
      assertEquals(seen.worker.state, "connected");
      assertEquals(seen.worker.address.startsWith(hosts.clientAddress), true, seen.worker.address);
    } finally {
      worker.kill("SIGTERM");
      const ended = await worker.output();
      assertEquals(ended.code, 0, new TextDecoder().decode(ended.stderr));
    }
    await Deno.remove(cliHome, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("a non-loopback listen address without TLS refuses to start, naming the settings", async () => {
  const port = await freePort();
  await using daemon = await startDaemonProcess({
    waitReady: false,
    env: { ORCHESTRATOR_GRPC_ADDR: `0.0.0.0:${port}` },
  });
  const code = await daemon.exited;
  assertEquals(code, 2, daemon.output());
  assertStringIncludes(daemon.output(), "[tls] cert and key");
  assertStringIncludes(daemon.output(), "insecure");
});

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${path} did not appear`);
}
