import { assertEquals } from "../../../tests/support/assert.ts";
import { dependencyClosure, dependentsOf, findCycle, topologicalOrder } from "./graph.ts";

const graph = new Map<string, string[]>([
  ["redis", []],
  ["node-a", ["redis"]],
  ["node-b", ["redis"]],
  ["router", ["node-a", "node-b"]],
  ["solo", []],
]);

Deno.test("graph functions order, close over and invert dependencies", () => {
  assertEquals(findCycle(graph), undefined);
  assertEquals(topologicalOrder(graph, graph.keys()), ["redis", "node-a", "node-b", "router", "solo"]);
  assertEquals([...dependencyClosure(graph, ["router"])].sort(), ["node-a", "node-b", "redis", "router"]);
  assertEquals([...dependentsOf(graph, "redis", graph.keys())].sort(), ["node-a", "node-b", "router"]);
});

Deno.test("findCycle() returns the cycle as a closed path", () => {
  const cyclic = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assertEquals(findCycle(cyclic), ["a", "b", "c", "a"]);
  assertEquals(findCycle(new Map([["self", ["self"]]])), ["self", "self"]);
});
