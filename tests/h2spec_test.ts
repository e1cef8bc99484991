/**
 * HTTP/2 conformance of the gRPC port: h2spec (RFC 9113 and RFC 7541 cases) and its gRPC-shaped variant run against
 * a real daemon, and every case must pass (docs/security.md lists no exception). h2spec comes with the workplace's
 * shared tools, beside the repository (`../shared/tools/h2spec`).
 * @module
 */
import { assertEquals } from "./support/assert.ts";
import { startDaemonProcess } from "./support/daemon.ts";

const H2SPEC = new URL("../../shared/tools/h2spec/bin/", import.meta.url).pathname;

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

for (const tool of ["h2spec", "h2spec-grpc"]) {
  Deno.test({
    name: `${tool}: every HTTP/2 conformance case passes on the gRPC port`,
    ignore: !(await exists(`${H2SPEC}${tool}`)),
    async fn() {
      await using daemon = await startDaemonProcess();
      const port = daemon.grpcAddr.split(":").pop()!;
      const { stdout } = await new Deno.Command(`${H2SPEC}${tool}`, {
        args: ["-h", "127.0.0.1", "-p", port, "-o", "5"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      // h2spec colours its output; the escapes go.
      const text = new TextDecoder().decode(stdout).replaceAll(
        new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"),
        "",
      );
      const summary = text.match(/(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/);
      const failures = text.split("\n").filter((line) => /^\s*×/.test(line));
      console.log(summary?.[0] ?? text.slice(-2000));
      assertEquals(failures, [], `failed cases:\n${failures.join("\n")}`);
      assertEquals(summary?.[4], "0");
    },
  });
}
