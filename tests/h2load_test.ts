/**
 * The gRPC port under nghttp2's h2load: many connections, 64 streams each,
 * each connection ended with GOAWAY. Deno 2.9's node:http2 could abort the
 * whole process on such a GOAWAY (denoland/deno#36788); the port now runs
 * on the daemon's own HTTP/2 server (src/daemon/h2), which this checks
 * against a real, independent HTTP/2 client.
 */

import { assert, assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";

Deno.test("the daemon answers 20,000 gRPC calls from h2load, survives its GOAWAYs and keeps serving", async () => {
  await using daemon = await startDaemonProcess({});
  const body = await Deno.makeTempFile({ prefix: "dspy-agent-h2load-" });
  try {
    // One gRPC frame holding an empty HealthRequest.
    await Deno.writeFile(body, new Uint8Array(5));
    for (let round = 0; round < 3; round++) {
      const output = await new Deno.Command("h2load", {
        args: [
          "-n",
          "20000",
          "-c",
          "8",
          "-m",
          "64",
          "-d",
          body,
          "-H",
          "content-type: application/grpc",
          "-H",
          "te: trailers",
          `http://${daemon.grpcAddr}/orchestrator.v1.OrchestratorService/Health`,
        ],
      }).output().catch((error) => {
        throw new Error(`Cannot run h2load: ${error.message}. Run scripts/ensure-system-deps (nghttp2-client).`);
      });
      const text = new TextDecoder().decode(output.stdout);
      assert(output.success, `h2load failed:\n${text}${new TextDecoder().decode(output.stderr)}`);
      assert(text.includes("20000 succeeded, 0 failed, 0 errored"), `h2load saw failures:\n${text}`);
      assert(text.includes("status codes: 20000 2xx"), text);
    }
    const health = await fetch(`http://${daemon.httpAddr}/health`);
    assertEquals(health.status, 200);
    await health.body?.cancel();
  } finally {
    await Deno.remove(body);
  }
});
