import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { InvalidExecutionSpecError } from "../errors.ts";
import { parseExecutionSpec } from "./execution_spec.ts";
import { parsePythonLiteral } from "./execution_literal.ts";
import { OutputCollector, TAIL_CHARS, TAIL_LINES } from "./execution_output.ts";

Deno.test("parseExecutionSpec() reads every docs/compatibility.md §4 field from JSON text", () => {
  const spec = parseExecutionSpec(JSON.stringify({
    command: ["python", "-c", "print(1)"],
    image: "example/trainer:1",
    env: { MODE: "fast", STEPS: 3 },
    mounts: [{ host_path: "/data", mount_path: "/in", read_only: true }, {
      host_path: "/out",
      mount_path: "/out",
    }],
    resources: { cpu_millicores: 1500, mem_bytes: 268435456, gpu_count: 1 },
    timeout_seconds: 30,
    working_dir: "/in",
  }));
  assertEquals(spec, {
    command: ["python", "-c", "print(1)"],
    image: "example/trainer:1",
    env: { MODE: "fast", STEPS: "3" },
    mounts: [
      { hostPath: "/data", mountPath: "/in", readOnly: true },
      { hostPath: "/out", mountPath: "/out", readOnly: false },
    ],
    resources: { cpuMillicores: 1500, memBytes: 268435456, gpuCount: 1 },
    timeoutSeconds: 30,
    workingDir: "/in",
  });
});

Deno.test("parseExecutionSpec() defaults timeout to 1800 s and runs locally without image", () => {
  const spec = parseExecutionSpec({ command: ["true"] });
  assertEquals(spec.timeoutSeconds, 1800);
  assertEquals(spec.image, undefined);
  assertEquals(spec.env, {});
  assertEquals(spec.mounts, []);
});

Deno.test("parseExecutionSpec() accepts the Python repr text str(dict) produces", () => {
  const spec = parseExecutionSpec(
    "{'command': ['sh', '-c', \"echo 'hi'\"], 'env': {'A': 'x\\ny'}, 'image': None, 'timeout_seconds': 5}",
  );
  assertEquals(spec.command, ["sh", "-c", "echo 'hi'"]);
  assertEquals(spec.env, { A: "x\ny" });
  assertEquals(spec.timeoutSeconds, 5);
});

Deno.test("parseExecutionSpec() names the field it rejects", () => {
  const cases: [unknown, string, string][] = [
    [{}, "command", "is required"],
    [{ command: "echo hi" }, "command", "argv list"],
    [{ command: [] }, "command", "empty"],
    [{ command: [["x"]] }, "command[0]", "must be a string"],
    [{ command: ["x"], env: ["A=1"] }, "env", "map"],
    [{ command: ["x"], mounts: [{ host_path: "rel", mount_path: "/x" }] }, "mounts[0].host_path", "absolute"],
    [{ command: ["x"], resources: { cpu_millicores: -1 } }, "resources.cpu_millicores", "positive"],
    [{ command: ["x"], resources: { gpu_count: 1.5 } }, "resources.gpu_count", "whole number"],
    [{ command: ["x"], timeout_seconds: 0 }, "timeout_seconds", "positive"],
    ["not json at all", "execution", "not valid JSON"],
    ["", "execution", "empty"],
  ];
  for (const [value, field, reason] of cases) {
    const err = assertThrows(() => parseExecutionSpec(value), InvalidExecutionSpecError, reason);
    assertEquals(err.field, field);
  }
});

Deno.test("parsePythonLiteral() reads nested dicts, lists, tuples, True/False/None", () => {
  assertEquals(parsePythonLiteral("{'a': [1, 2.5, (3,)], 'b': {'c': True, 'd': False, 'e': None}}"), {
    a: [1, 2.5, [3]],
    b: { c: true, d: false, e: null },
  });
  assertThrows(() => parsePythonLiteral("{'a': }"), SyntaxError, "offset");
});

Deno.test("OutputCollector keeps the last result line and bounded tails", () => {
  const collector = new OutputCollector();
  const encode = (text: string) => new TextEncoder().encode(text);
  collector.write("stdout", encode('__DSPY_RESULT__:{"n": 1}\n'));
  for (let i = 0; i < 200; i++) collector.write("stdout", encode(`line ${i}\n`));
  collector.write("stdout", encode('__DSPY_RESULT__: {"n": '));
  collector.write("stdout", encode("2}"));
  collector.write("stderr", encode("x".repeat(10_000)));
  collector.end();
  const summary = collector.summary();
  assertEquals(summary.output, { n: 2 });
  const stdoutLines = summary.stdoutTail.split("\n");
  assertEquals(stdoutLines.length, TAIL_LINES);
  assertEquals(stdoutLines.at(-1), '__DSPY_RESULT__: {"n": 2}');
  assertEquals(summary.stderrTail.length, TAIL_CHARS);
});

Deno.test("OutputCollector reports an unparsable result line instead of throwing", () => {
  const collector = new OutputCollector();
  collector.write("stdout", new TextEncoder().encode("__DSPY_RESULT__:{oops\n"));
  collector.end();
  const summary = collector.summary();
  assertEquals(summary.output, undefined);
  assertEquals(summary.outputError?.startsWith('Cannot parse the task output after "__DSPY_RESULT__:"'), true);
});
