/**
 * A full disk under a real daemon (its state folder on a small tmpfs the test mounts): writes answer
 * RESOURCE_EXHAUSTED with a clear message, reads keep working, the daemon stays up, writes work again by themselves
 * once there is room, and nothing acknowledged is lost across a restart. Needs root (mount).
 * @module
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { OrchestratorService } from "../src/gen/orchestrator/v1/orchestrator_pb.ts";
import { assert, assertEquals, assertStringIncludes } from "./support/assert.ts";
import { type DaemonProcess, startDaemonProcess } from "./support/daemon.ts";
import { runCommand } from "./support/run.ts";

function connect(daemon: DaemonProcess) {
  const sessionManager = new Http2SessionManager(`http://${daemon.grpcAddr}`);
  const client = createClient(
    OrchestratorService,
    createGrpcTransport({ baseUrl: `http://${daemon.grpcAddr}`, sessionManager }),
  );
  return Object.assign(client, { close: () => sessionManager.abort() });
}

Deno.test({
  name: "a full disk answers RESOURCE_EXHAUSTED, keeps serving reads, recovers by itself and loses nothing",
  ignore: Deno.uid() !== 0,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dspy-agent-full-" });
    assertEquals((await runCommand("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", home])).code, 0);
    try {
      const acked: string[] = [];
      {
        await using daemon = await startDaemonProcess({ home });
        const client = connect(daemon);
        for (let i = 0; i < 20; i++) {
          await client.submitTask({ id: `before-${i}`, payload: { task_type: "noop" } });
          acked.push(`before-${i}`);
        }
        // Fill the disk, then write until the store refuses.
        await runCommand("dd", ["if=/dev/zero", `of=${home}/filler`, "bs=1M", "count=16"]);
        let refused: ConnectError | undefined;
        const big = "x".repeat(60_000);
        for (let i = 0; i < 200 && !refused; i++) {
          try {
            await client.submitTask({ id: `during-${i}`, payload: { task_type: "noop", big } });
            acked.push(`during-${i}`);
          } catch (error) {
            refused = ConnectError.from(error);
          }
        }
        assert(refused, "the store never reported the full disk");
        assertEquals(refused.code, Code.ResourceExhausted, refused.message);
        assertStringIncludes(refused.rawMessage, "disk that holds the task store is full");
        // Reads keep working, and the daemon is up.
        assertEquals((await client.getTaskStatus({ taskId: "before-0" })).status, "completed");
        assertEquals((await client.health({})).healthy, true);
        // Room again: writes work by themselves.
        await Deno.remove(`${home}/filler`);
        await client.submitTask({ id: "after", payload: { task_type: "noop" } });
        acked.push("after");
        client.close();
      }
      // Nothing acknowledged is lost across a restart.
      await using daemon = await startDaemonProcess({ home });
      const client = connect(daemon);
      for (const taskId of acked) await client.getTaskStatus({ taskId });
      console.log(`${acked.length} acknowledged submits, all present after the restart`);
      client.close();
    } finally {
      await runCommand("umount", [home]);
      await Deno.remove(home, { recursive: true });
    }
  },
});
