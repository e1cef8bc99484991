import { assertEquals } from "../../tests/support/assert.ts";
import { decodePayload, decodePayloadValue } from "./payload.ts";

Deno.test("decodePayloadValue() decodes booleans in any case, null and numbers", () => {
  assertEquals(decodePayloadValue("True"), true);
  assertEquals(decodePayloadValue(" FALSE "), false);
  assertEquals(decodePayloadValue("null"), null);
  assertEquals(decodePayloadValue("42"), 42);
  assertEquals(decodePayloadValue("-7"), -7);
  assertEquals(decodePayloadValue("3.5"), 3.5);
  assertEquals(decodePayloadValue("1e3"), 1000);
  assertEquals(decodePayloadValue("2E-2"), 0.02);
});

Deno.test("decodePayloadValue() parses JSON objects and arrays, keeps Python repr text", () => {
  assertEquals(decodePayloadValue('{"a": 1}'), { a: 1 });
  assertEquals(decodePayloadValue("[1, 2]"), [1, 2]);
  // str() of a Python dict is not JSON: it stays a string.
  assertEquals(decodePayloadValue("{'a': 1}"), "{'a': 1}");
  assertEquals(decodePayloadValue("None"), "None");
  assertEquals(decodePayloadValue("hello"), "hello");
  assertEquals(decodePayloadValue("1.2.3"), "1.2.3");
  assertEquals(decodePayloadValue("99999999999999999999"), "99999999999999999999");
});

Deno.test("decodePayload() decodes every value of a map", () => {
  assertEquals(decodePayload({ n: "10", config_json: '{"lr": 0.1}', s: "x" }), {
    n: 10,
    config_json: { lr: 0.1 },
    s: "x",
  });
});
