/**
 * The browser rules at the daemon's edge (docs/security.md), against a real daemon over real sockets: a forged
 * `Host` (DNS rebinding) is refused on every HTTP route, no cross-site request changes anything, a "simple" POST is
 * refused on every route, and curl-like and Python clients keep working.
 * @module
 */
import * as http from "node:http";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";
import { runPython } from "./support/python.ts";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with any headers, `Host` included (fetch would not let us forge it). */
function request(
  address: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.slice(address.lastIndexOf(":") + 1)),
  ];
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers: { connection: "close", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const ROUTES: [string, string, string | undefined][] = [
  ["GET", "/health", undefined],
  ["GET", "/metrics", undefined],
  ["GET", "/queue/status", undefined],
  ["GET", "/dashboard/session", undefined],
  ["POST", "/queue/submit", JSON.stringify({ payload: { task_type: "noop" } })],
  ["POST", "/orchestrator.v1.OrchestratorService/SubmitTask", JSON.stringify({ payload: { task_type: "noop" } })],
  ["POST", "/orchestrator.v1.OrchestratorService/Health", "{}"],
  ["POST", "/env_manager.v1.EnvManagerService/GetServicesStatus", "{}"],
  ["POST", "/orchestrator.v1.OrchestratorService/GetConfig", "{}"],
];

async function submittedCount(address: string): Promise<number> {
  const answer = await request(address, "GET", "/queue/status");
  return JSON.parse(answer.body).submitted;
}

Deno.test("edge: browsers from other sites and rebinding names change nothing; scripts keep working", async (t) => {
  await using daemon = await startDaemonProcess({
    configToml: `[http]\ncors_origins = ["http://trusted.example:5173"]\nallowed_hosts = ["devbox.example"]\n`,
  });
  const addr = daemon.httpAddr;
  const port = addr.slice(addr.lastIndexOf(":") + 1);
  const json = { "content-type": "application/json" };

  await t.step("a forged Host is refused on every HTTP route, with the fix named", async () => {
    for (const [method, path, body] of ROUTES) {
      const answer = await request(addr, method, path, { ...json, host: `evil.example:${port}` }, body);
      assertEquals(answer.status, 421, `${method} ${path}`);
      assertStringIncludes(answer.body, "allowed_hosts");
    }
    assertEquals(await submittedCount(addr), 0);
  });

  await t.step("loopback names, IP literals and configured names pass the Host check", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `devbox.example:${port}`, `[::1]:${port}`]) {
      const answer = await request(addr, "GET", "/health", { host });
      assertEquals(answer.status, 200, host);
    }
  });

  await t.step("a cross-site text/plain POST (a 'simple' request) runs nothing on any route", async () => {
    const evil = { origin: "http://evil.example", "content-type": "text/plain" };
    for (const [method, path, body] of ROUTES.filter(([m]) => m === "POST")) {
      const answer = await request(addr, method, path, evil, body);
      assertEquals(answer.status, 403, `${method} ${path}: ${answer.body}`);
      assertEquals(answer.headers["access-control-allow-origin"], undefined);
    }
    // The same from a script without an Origin: refused for its content type, with the fix named.
    const plain = await request(addr, "POST", "/queue/submit", { "content-type": "text/plain" }, ROUTES[4][2]);
    assertEquals(plain.status, 415);
    assertStringIncludes(plain.body, "application/json");
    assertEquals(await submittedCount(addr), 0);
  });

  await t.step("a cross-site JSON POST is refused too (no preflight would have allowed it)", async () => {
    const answer = await request(addr, "POST", "/queue/submit", { ...json, origin: "http://evil.example" }, "{}");
    assertEquals(answer.status, 403);
    assertStringIncludes(answer.body, "cors_origins");
    // Nor can another site read the daemon's settings.
    const config = await request(addr, "POST", "/orchestrator.v1.OrchestratorService/GetConfig", {
      ...json,
      origin: "http://evil.example",
    }, "{}");
    assertEquals(config.status, 403);
    assertEquals(config.headers["access-control-allow-origin"], undefined);
  });

  await t.step("CORS preflights are answered only for configured origins", async () => {
    const asked = { "access-control-request-method": "POST", "access-control-request-headers": "content-type" };
    const trusted = await request(addr, "OPTIONS", "/orchestrator.v1.OrchestratorService/Health", {
      ...asked,
      origin: "http://trusted.example:5173",
    });
    assertEquals(trusted.status, 204);
    assertEquals(trusted.headers["access-control-allow-origin"], "http://trusted.example:5173");
    const evil = await request(addr, "OPTIONS", "/orchestrator.v1.OrchestratorService/Health", {
      ...asked,
      origin: "http://evil.example",
    });
    assertEquals(evil.status, 403);
    assertEquals(evil.headers["access-control-allow-origin"], undefined);
  });

  await t.step("a page of the daemon's own origin needs the page token to change anything", async () => {
    const own = { ...json, origin: `http://127.0.0.1:${port}` };
    const body = JSON.stringify({ payload: { task_type: "noop" } });
    const without = await request(addr, "POST", "/queue/submit", own, body);
    assertEquals(without.status, 403);
    const session = await request(addr, "GET", "/dashboard/session");
    assertEquals(session.headers["cache-control"], "no-store");
    const { pageToken } = JSON.parse(session.body);
    assert(typeof pageToken === "string" && pageToken.length >= 32);
    const wrong = await request(addr, "POST", "/queue/submit", { ...own, "x-dspy-agent-page-token": "x" }, body);
    assertEquals(wrong.status, 403);
    const ok = await request(addr, "POST", "/queue/submit", { ...own, "x-dspy-agent-page-token": pageToken }, body);
    assertEquals(ok.status, 200, ok.body);
    assertEquals(await submittedCount(addr), 1);
  });

  await t.step("curl-like clients work unchanged: JSON POSTs and GETs without Origin", async () => {
    const submit = await request(addr, "POST", "/queue/submit", json, JSON.stringify({ payload: { n: 1 } }));
    assertEquals(submit.status, 200, submit.body);
    const connect = await request(addr, "POST", "/orchestrator.v1.OrchestratorService/Health", json, "{}");
    assertEquals(connect.status, 200, connect.body);
    assertEquals((await request(addr, "GET", "/metrics")).status, 200);
  });

  await t.step(
    "on the gRPC port, a call carrying another site's Origin is refused; grpcio without one works",
    async () => {
      const result = await runPython(
        `
import grpc, sys
from orchestrator.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc as rpc
stub = rpc.OrchestratorServiceStub(grpc.insecure_channel(sys.argv[1]))
print("healthy", stub.Health(pb.HealthRequest(), timeout=10).healthy)
try:
    stub.SubmitTask(pb.SubmitTaskRequest(payload={"task_type": "noop"}), metadata=[("origin", "http://evil.example")], timeout=10)
    print("accepted")
except grpc.RpcError as e:
    print("refused", e.code().name, e.details())
`,
        { args: [daemon.grpcAddr] },
      );
      assertEquals(result.code, 0, result.stderr);
      const out = result.stdout;
      assertStringIncludes(out, "healthy True");
      assertStringIncludes(out, "refused PERMISSION_DENIED");
      assertStringIncludes(out, "cors_origins");
    },
  );
});
