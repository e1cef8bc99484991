import { assertEquals } from "../../../tests/support/assert.ts";
import { createPortAllocator, isPortFree } from "./ports.ts";
import type { PortSpec } from "../registry/service_definition.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const spec = (hostPort: number): PortSpec & { hostPort: number } => ({
  hostIp: "127.0.0.1",
  hostPort,
  containerPort: 80,
  protocol: "tcp",
});

Deno.test("PortAllocator keeps a free wanted port, remaps a busy one, and remembers the remap", async () => {
  const home = await Deno.makeTempDir();
  try {
    const wanted = freePort();
    const ports = createPortAllocator({ home, project: "p" });
    assertEquals(await ports.allocate("web", spec(wanted)), { wanted, hostPort: wanted, remapped: false });

    const squatter = Deno.listen({ hostname: "127.0.0.1", port: wanted });
    assertEquals(isPortFree("127.0.0.1", wanted), false);
    const fresh = createPortAllocator({ home: `${home}/other`, project: "p" });
    const moved = await fresh.allocate("web", spec(wanted));
    assertEquals(moved.remapped, true);
    assertEquals(moved.hostPort > wanted, true);
    squatter.close();

    // A new allocator (a restarted daemon) keeps the remembered port even though the wanted one is free now.
    const again = createPortAllocator({ home: `${home}/other`, project: "p" });
    assertEquals((await again.allocate("web", spec(wanted))).hostPort, moved.hostPort);
    assertEquals(await again.remembered("web", spec(wanted)), moved.hostPort);
    // A changed wish in the config forgets the old choice.
    const other = freePort();
    assertEquals((await again.allocate("web", spec(other))).hostPort, other);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("PortAllocator never remaps onto a port another service of the stack wants", async () => {
  const home = await Deno.makeTempDir();
  try {
    const wanted = freePort();
    const squatter = Deno.listen({ hostname: "127.0.0.1", port: wanted });
    const ports = createPortAllocator({ home, project: "p" });
    ports.reserve([wanted + 1]);
    const moved = await ports.allocate("a", spec(wanted));
    assertEquals(moved.hostPort !== wanted + 1 && moved.hostPort > wanted, true);
    squatter.close();
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
