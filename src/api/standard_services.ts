/**
 * The standard gRPC services that tools expect of any server, so they work without our protos: health
 * (grpc.health.v1: `grpc_health_probe`, Kubernetes gRPC probes) and server reflection (v1 and v1alpha: `grpcurl`).
 *
 * @module
 */
import { type DescFile, type DescMessage, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { delay } from "../async/mod.ts";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.ts";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.ts";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import type { HealthReporter } from "./health.ts";

/** How often Watch looks at the daemon's readiness for a change. */
const WATCH_POLL_MS = 500;

/** Registers Health and both reflection versions, describing `services` (the daemon's own) and themselves. */
export function registerStandardServices(
  router: ConnectRouter,
  services: readonly DescService[],
  health: HealthReporter,
): void {
  const all = [...services, Health, v1.ServerReflection, v1alpha.ServerReflection];
  const known = new Set(["", ...all.map((s) => s.typeName)]);
  const statusOf = (service: string) =>
    !known.has(service) ? Status.SERVICE_UNKNOWN : health.healthy() ? Status.SERVING : Status.NOT_SERVING;
  router.service(Health, {
    check(req) {
      const status = statusOf(req.service);
      if (status === Status.SERVICE_UNKNOWN) {
        throw new ConnectError(`unknown service "${req.service.slice(0, 200)}"`, Code.NotFound);
      }
      return { status };
    },
    async *watch(req, ctx: HandlerContext) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = statusOf(req.service);
        if (status !== last) yield { status };
        last = status;
        await delay(WATCH_POLL_MS, ctx.signal).catch(() => {});
      }
    },
  });
  const index = symbolIndex(all.map((s) => s.file));
  router.service(v1.ServerReflection, { serverReflectionInfo: (requests) => answer(requests, all, index) });
  router.service(v1alpha.ServerReflection, {
    // The two versions have the same wire shape; only the package differs.
    serverReflectionInfo: (requests) => answer(requests as never, all, index) as never,
  });
}

type ReflectionRequest = v1.ServerReflectionRequest;

async function* answer(
  requests: AsyncIterable<ReflectionRequest>,
  services: readonly DescService[],
  index: Map<string, DescFile>,
) {
  for await (const request of requests) {
    const base = { validHost: request.host, originalRequest: request };
    const ask = request.messageRequest;
    if (ask.case === "listServices") {
      yield {
        ...base,
        messageResponse: {
          case: "listServicesResponse" as const,
          value: { service: services.map((s) => ({ name: s.typeName })) },
        },
      };
      continue;
    }
    const file = ask.case === "fileByFilename"
      ? [...new Set(index.values())].find((f) => `${f.name}.proto` === ask.value)
      : ask.case === "fileContainingSymbol"
      ? index.get(ask.value)
      : undefined;
    if (!file) {
      const what = ask.case ? `${ask.case} "${String(ask.value).slice(0, 200)}"` : "an empty request";
      yield {
        ...base,
        messageResponse: {
          case: "errorResponse" as const,
          value: { errorCode: Code.NotFound, errorMessage: `nothing known for ${what}` },
        },
      };
      continue;
    }
    yield {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse" as const,
        value: { fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) },
      },
    };
  }
}

/** The file and every file it imports, transitively, each once. */
function withDependencies(file: DescFile): DescFile[] {
  const out = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (out.has(f.name)) return;
    out.set(f.name, f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return [...out.values()];
}

/** Every fully qualified symbol (services, methods, messages, enums) to the file that defines it. */
function symbolIndex(files: DescFile[]): Map<string, DescFile> {
  const index = new Map<string, DescFile>();
  const addMessage = (file: DescFile, message: DescMessage) => {
    index.set(message.typeName, file);
    for (const nested of message.nestedMessages) addMessage(file, nested);
    for (const e of message.nestedEnums) index.set(e.typeName, file);
  };
  for (const file of files) {
    for (const service of file.services) {
      index.set(service.typeName, file);
      for (const method of service.methods) index.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) addMessage(file, message);
    for (const e of file.enums) index.set(e.typeName, file);
  }
  return index;
}
