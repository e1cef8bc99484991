/**
 * The standard gRPC services against a real daemon, called by Python grpcio with stubs generated from Debian's
 * grpc-proto package (not from our protos): health Check and Watch, and server reflection v1 and v1alpha (list
 * services, a file by name, the file containing a symbol).
 * @module
 */
import { assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { PYTHON } from "./support/python.ts";

const GRPC_PROTO = "/usr/share/grpc-proto";

const CLIENT = `
import grpc, json, sys, threading
from grpc.health.v1 import health_pb2, health_pb2_grpc
from grpc.reflection.v1 import reflection_pb2 as r1, reflection_pb2_grpc as r1g
from grpc.reflection.v1alpha import reflection_pb2 as ra, reflection_pb2_grpc as rag
from google.protobuf import descriptor_pb2
channel = grpc.insecure_channel(sys.argv[1])
health = health_pb2_grpc.HealthStub(channel)
out = {}
out["overall"] = health_pb2.HealthCheckResponse.ServingStatus.Name(health.Check(health_pb2.HealthCheckRequest(), timeout=5).status)
out["orchestrator"] = health_pb2.HealthCheckResponse.ServingStatus.Name(
    health.Check(health_pb2.HealthCheckRequest(service="orchestrator.v1.OrchestratorService"), timeout=5).status)
try:
    health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    out["unknown"] = "answered"
except grpc.RpcError as e:
    out["unknown"] = e.code().name
watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
out["watch_first"] = health_pb2.HealthCheckResponse.ServingStatus.Name(next(watch).status)
watch.cancel()
watch = health.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
out["watch_unknown"] = health_pb2.HealthCheckResponse.ServingStatus.Name(next(watch).status)
watch.cancel()
for name, mod, stubmod in (("v1", r1, r1g), ("v1alpha", ra, rag)):
    stub = stubmod.ServerReflectionStub(channel)
    requests = [
        mod.ServerReflectionRequest(list_services=""),
        mod.ServerReflectionRequest(file_containing_symbol="orchestrator.v1.OrchestratorService"),
        mod.ServerReflectionRequest(file_by_filename="env_manager/v1/env_manager.proto"),
        mod.ServerReflectionRequest(file_containing_symbol="no.such.Symbol"),
    ]
    answers = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
    services = sorted(s.name for s in answers[0].list_services_response.service)
    files = []
    for a in answers[1:3]:
        for raw in a.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto()
            fd.ParseFromString(raw)
            files.append(fd.name)
    out[name] = {"services": services, "files": files, "error": answers[3].error_response.error_code}
print(json.dumps(out))
`;

Deno.test("grpc.health.v1 and server reflection v1/v1alpha answer clients built from the standard protos", async () => {
  await using daemon = await startDaemonProcess();
  const stubs = await Deno.makeTempDir({ prefix: "dspy-agent-stdstubs-" });
  try {
    const gen = await new Deno.Command(PYTHON, {
      args: [
        "-m",
        "grpc_tools.protoc",
        `-I${GRPC_PROTO}`,
        `--python_out=${stubs}`,
        `--grpc_python_out=${stubs}`,
        "grpc/health/v1/health.proto",
        "grpc/reflection/v1/reflection.proto",
        "grpc/reflection/v1alpha/reflection.proto",
      ],
      stderr: "piped",
    }).output();
    assertEquals(gen.code, 0, new TextDecoder().decode(gen.stderr));
    // The generated packages live under "grpc/", beside the installed grpc package: make them importable as
    // namespace subpackages of it.
    const run = await new Deno.Command(PYTHON, {
      args: [
        "-c",
        `import sys, grpc; grpc.__path__.append(${JSON.stringify(`${stubs}/grpc`)}); exec(sys.argv[2])`,
        daemon.grpcAddr,
        CLIENT,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assertEquals(run.code, 0, stderr);
    const out = JSON.parse(new TextDecoder().decode(run.stdout).trim().split("\n").at(-1)!);
    assertEquals([out.overall, out.orchestrator, out.unknown], ["SERVING", "SERVING", "NOT_FOUND"]);
    assertEquals([out.watch_first, out.watch_unknown], ["SERVING", "SERVICE_UNKNOWN"]);
    for (const version of ["v1", "v1alpha"]) {
      assertEquals(out[version].services, [
        "env_manager.v1.EnvManagerService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "orchestrator.v1.OrchestratorService",
        "worker.v1.WorkerService",
      ]);
      assertEquals(out[version].files, ["orchestrator/v1/orchestrator.proto", "env_manager/v1/env_manager.proto"]);
      assertEquals(out[version].error, 5);
    }
  } finally {
    await Deno.remove(stubs, { recursive: true });
  }
});
