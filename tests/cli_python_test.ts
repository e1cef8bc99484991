/**
 * The contract's auto-start pattern (docs/compatibility.md §2.2): Python runs
 * `dspy-agent start` as a blocking child process and expects exit 0, after
 * which the gRPC API is healthy. The old CLI never returned, so this hung.
 */

import { assertEquals } from "./support/assert.ts";
import { cliCommand } from "./support/daemon.ts";
import { runPythonJson } from "./support/python.ts";
import { createCliEnv, projectToml, testProject } from "./support/cli.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

const script = `
import json, os, subprocess, sys
import grpc
from orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

cli = os.environ["DSPY_AGENT_CLI_PATH"]
# capture_output: a daemon that kept the CLI's pipes open would hang this call.
first = subprocess.run([cli, "start"], capture_output=True, timeout=120)
channel = grpc.insecure_channel(os.environ.get("ORCHESTRATOR_GRPC_ADDR", "127.0.0.1:50052"))
try:
    grpc.channel_ready_future(channel).result(timeout=10)
except grpc.FutureTimeoutError:
    sys.exit("channel not ready; start said: %r %r" % (first.returncode, first.stderr.decode()[-800:]))
stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
health = stub.Health(orchestrator_pb2.HealthRequest(), timeout=5)
second = subprocess.run([cli, "start"], capture_output=True, timeout=60)
print(json.dumps({"first": first.returncode, "second": second.returncode, "healthy": health.healthy,
                  "pid": health.pid, "stderr": first.stderr.decode()[-500:]}))
`;

Deno.test({
  name: "Python's subprocess.run([cli, 'start']) returns 0 and Health is then healthy",
  ...sanitize,
  async fn() {
    await using cli = await createCliEnv({
      configToml: projectToml(testProject("py"), ""),
    });
    const { cmd, args } = cliCommand();
    const wrapper = `${cli.home}/dspy-agent`;
    await Deno.writeTextFile(wrapper, `#!/bin/sh\nexec ${[cmd, ...args].map((a) => `'${a}'`).join(" ")} "$@"\n`);
    await Deno.chmod(wrapper, 0o755);
    const result = await runPythonJson<
      { first: number; second: number; healthy: boolean; pid: number; stderr: string }
    >(script, {
      env: { ...cli.env, DSPY_AGENT_CLI_PATH: wrapper },
    });
    assertEquals(result.first, 0, result.stderr);
    assertEquals(result.healthy, true);
    assertEquals(result.second, 0);
    const info = JSON.parse(await Deno.readTextFile(`${cli.home}/daemon.json`));
    assertEquals(Number(result.pid), info.pid);
    assertEquals((await cli.run(["stop"])).code, 0);
  },
});
