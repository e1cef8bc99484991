import { assert, assertEquals } from "../../tests/support/assert.ts";
import { detectGpus, detectHardware, parseGpuCsv, resourceAvailability } from "./resources.ts";

Deno.test("parseGpuCsv() reads nvidia-smi's csv, names with commas included", () => {
  assertEquals(
    parseGpuCsv("0, NVIDIA A100-SXM4-40GB, 40960, 17\n1, Tesla T4, rev, 2, 15360, [N/A]\n\n"),
    [
      { index: 0, name: "NVIDIA A100-SXM4-40GB", memoryBytes: 40960 * 1024 * 1024, utilizationPercent: 17 },
      { index: 1, name: "Tesla T4, rev, 2", memoryBytes: 15360 * 1024 * 1024, utilizationPercent: 0 },
    ],
  );
});

Deno.test("detectGpus() reports none when nvidia-smi is absent, without failing", async () => {
  // This machine has no nvidia-smi on PATH; the default lookup must cope.
  const onPath = await new Deno.Command("sh", { args: ["-c", "command -v nvidia-smi"] }).output();
  assertEquals(onPath.success, false, "this test expects a host without nvidia-smi");
  assertEquals(await detectGpus(), []);
  assertEquals(await detectGpus({ nvidiaSmi: "/nonexistent/nvidia-smi" }), []);
  const hardware = await detectHardware();
  assert(hardware.cpuCores >= 1);
  assert(hardware.memoryBytes > 1024 * 1024 * 1024);
  assertEquals(hardware.gpus, []);
});

Deno.test("detectGpus() runs the given nvidia-smi and parses what it prints", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dspy-agent-gpu-" });
  try {
    const script = `${dir}/nvidia-smi`;
    // Prints the query it was given back as a GPU name, to prove the arguments.
    await Deno.writeTextFile(script, '#!/bin/sh\necho "0, $1, 1024, 50"\n');
    await Deno.chmod(script, 0o755);
    const [gpu] = await detectGpus({ nvidiaSmi: script });
    assertEquals(gpu.name, "--query-gpu=index, name, memory.total, utilization.gpu");
    assertEquals(gpu.memoryBytes, 1024 * 1024 * 1024);
    const failing = `${dir}/failing-smi`;
    await Deno.writeTextFile(failing, "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n");
    await Deno.chmod(failing, 0o755);
    assertEquals(await detectGpus({ nvidiaSmi: failing }), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resourceAvailability() uses the scheduler's slots and needs a GPU for the gpu class", async () => {
  const gpu = await resourceAvailability({ workloadClass: "gpu" });
  assertEquals([gpu.available, gpu.capacity, gpu.inUse], [false, 0, 0]);
  const cpu = await resourceAvailability({ workloadClass: "" });
  assertEquals([cpu.available, cpu.capacity], [true, navigator.hardwareConcurrency]);
  const busy = await resourceAvailability({
    workloadClass: "cpu_long",
    usage: (cls) => ({ capacity: cls === "cpu_long" ? 2 : 0, inUse: 2 }),
  });
  assertEquals([busy.available, busy.capacity, busy.inUse], [false, 2, 2]);
});
