import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./_huffman.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

/** Asserts the dynamic table holds `entries`, newest first, and nothing more. */
function assertTable(decoder: HpackDecoder, entries: [string, string][]): void {
  assertEquals(decoder.decode(Uint8Array.from(entries, (_, i) => 0x80 | (62 + i))), entries);
  assertThrows(() => decoder.decode(Uint8Array.of(0x80 | (62 + entries.length))), HpackError, "beyond the table");
}

/** Huffman-codes `bytes` with the RFC 7541 Appendix B code, padding with one bits. */
function huffman(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let pending = 0;
  for (const byte of bytes) {
    for (let bit = HUFFMAN_LENGTHS[byte] - 1; bit >= 0; bit--) {
      pending = (pending << 1) | ((HUFFMAN_CODES[byte] >>> bit) & 1);
      if (++bits === 8) {
        out.push(pending);
        bits = pending = 0;
      }
    }
  }
  if (bits > 0) out.push((pending << (8 - bits)) | (0xff >> bits));
  return Uint8Array.from(out);
}

/** Encodes `value` as an HPACK integer with a prefix of `mask` bits under `flags` (RFC 7541 §5.1). */
function int(value: number, mask: number, flags = 0): number[] {
  if (value < mask) return [flags | value];
  const out = [flags | mask];
  for (value -= mask; value >= 128; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80);
  return [...out, value];
}

const REQUEST_1: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const REQUEST_2: [string, string][] = [...REQUEST_1, ["cache-control", "no-cache"]];
const REQUEST_3: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];
const RESPONSE_1: [string, string][] = [
  [":status", "302"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["location", "https://www.example.com"],
];
const RESPONSE_2: [string, string][] = [[":status", "307"], ...RESPONSE_1.slice(1)];
const RESPONSE_3: [string, string][] = [
  [":status", "200"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ["location", "https://www.example.com"],
  ["content-encoding", "gzip"],
  ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
];

Deno.test("HpackDecoder decodes the literal forms of RFC 7541 C.2, indexing only C.2.1", () => {
  const c21 = new HpackDecoder();
  const custom: [string, string] = ["custom-key", "custom-header"];
  assertEquals(c21.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")), [custom]);
  assertTable(c21, [custom]);
  const c22 = new HpackDecoder();
  assertEquals(c22.decode(hex("040c2f73616d706c652f70617468")), [[":path", "/sample/path"]]);
  assertTable(c22, []);
  const c23 = new HpackDecoder();
  assertEquals(c23.decode(hex("100870617373776f726406736563726574")), [["password", "secret"]]);
  assertTable(c23, []);
  const c24 = new HpackDecoder();
  assertEquals(c24.decode(hex("82")), [[":method", "GET"]]);
  assertTable(c24, []);
});

for (
  const [section, blocks] of [
    ["C.3", [
      "828684410f7777772e6578616d706c652e636f6d",
      "828684be58086e6f2d6361636865",
      "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
    ]],
    ["C.4", [
      "828684418cf1e3c2e5f23a6ba0ab90f4ff",
      "828684be5886a8eb10649cbf",
      "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
    ]],
  ] as const
) {
  Deno.test(`HpackDecoder decodes the requests of RFC 7541 ${section} through one dynamic table`, () => {
    const decoder = new HpackDecoder();
    assertEquals(decoder.decode(hex(blocks[0])), REQUEST_1);
    assertEquals(decoder.decode(hex(blocks[1])), REQUEST_2);
    assertEquals(decoder.decode(hex(blocks[2])), REQUEST_3);
    assertTable(decoder, [REQUEST_3[4], REQUEST_2[4], REQUEST_1[3]]);
  });
}

// deno-fmt-ignore
const RESPONSES = [
  ["C.5", [
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
  ]],
  ["C.6", [
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
  ]],
] as const;

for (const [section, blocks] of RESPONSES) {
  Deno.test(`HpackDecoder decodes the responses of RFC 7541 ${section}, evicting from a 256-byte table`, () => {
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    assertEquals(decoder.decode(hex(blocks[0])), RESPONSE_1);
    assertTable(decoder, [...RESPONSE_1].reverse());
    assertEquals(decoder.decode(hex(blocks[1])), RESPONSE_2);
    assertTable(decoder, [[":status", "307"], ...RESPONSE_1.slice(1).reverse()]);
    assertEquals(decoder.decode(hex(blocks[2])), RESPONSE_3);
    assertTable(decoder, [RESPONSE_3[5], RESPONSE_3[4], RESPONSE_3[2]]);
  });
}

Deno.test("HpackDecoder decodes gRPC request headers from Python hpack's encoder, then their indexed repeat", () => {
  // Made by hpack 4.2.0: Encoder().encode(headers, huffman=True) twice, then with another :path.
  const headers: [string, string][] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/orchestrator.v1.OrchestratorService/SubmitTask"],
    [":authority", "127.0.0.1:50052"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["user-agent", "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)"],
    ["grpc-accept-encoding", "identity,deflate,gzip"],
  ];
  const decoder = new HpackDecoder();
  assertEquals(
    decoder.decode(hex(
      "838644a260f61272a1360d27b17ee15f55849ca84d8349ecdc5b3b98856375b1d264ef1a3aff418b089d5c0b8170dc6c006c5f5f8b1d75" +
        "d0620d263d4c4d65644082497f864d833505b11f7aa49acac8b57e9339ea602bb615c2a4d6564588c09f5c0b814fea83556f9fb5093a" +
        "5358bfbf408e9acac8b0c842d6958b510f21aa9b903485a9264fafa90b2d03497ea6f66aff",
    )),
    headers,
  );
  assertEquals(decoder.decode(hex("8386c3c2c1c0bfbe")), headers);
  assertEquals(
    decoder.decode(hex("8386449f60f61272a1360d27b17ee15f55849ca84d8349ecdc5b3b9885631153bc68ebc3c2c1c0bf")),
    headers.map(([name, value]) => [name, name === ":path" ? "/orchestrator.v1.OrchestratorService/GetTask" : value]),
  );
});

Deno.test("HpackDecoder decodes every byte value Huffman-coded, and raw bytes as ISO-8859-1", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const all = String.fromCharCode(...bytes);
  const coded = huffman(bytes);
  const block = [0x00, 0x01, 0x78, ...int(coded.length, 0x7f, 0x80), ...coded, 0x00, 0x01, 0x79, ...int(256, 0x7f)];
  assertEquals(new HpackDecoder().decode(Uint8Array.from([...block, ...bytes])), [["x", all], ["y", all]]);
  // "0" is 00000: one bits pad the last byte, 3 bits after one "0", 7 after five of them.
  const padded = Uint8Array.of(0x04, 0x80, 0x04, 0x81, 0x07, 0x04, 0x84, 0x00, 0x00, 0x00, 0x7f);
  assertEquals(new HpackDecoder().decode(padded), [[":path", ""], [":path", "0"], [":path", "00000"]]);
});

Deno.test("HpackEncoder uses the static table's indexed form and indexed names", () => {
  const encoder = new HpackEncoder();
  assertEquals(encoder.encode([[":status", "200"]]), Uint8Array.of(0x88));
  assertEquals(encoder.encode([[":status", "200"], ["content-type", ""]]), Uint8Array.of(0x88, 0x80 | 31));
  const grpc = new TextEncoder().encode("application/grpc");
  assertEquals(encoder.encode([["content-type", "application/grpc"]]), Uint8Array.of(0x0f, 0x10, 0x10, ...grpc));
  assertEquals(encoder.encode([["x-a", "b"]]), Uint8Array.of(0x00, 0x03, 0x78, 0x2d, 0x61, 0x01, 0x62));
});

Deno.test("HpackEncoder output decodes to the same fields, from its cache too", () => {
  const fields: [string, string][] = [
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-status", "0"],
    ["x-empty", ""],
    ["x-long-value", "v".repeat(300)],
    ["x-".padEnd(200, "n"), "long name"],
    ["x-latin1", "caf\u00e9 \u00ff"],
  ];
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const first = encoder.encode(fields);
  assertEquals(decoder.decode(first), fields);
  assertEquals(encoder.encode(new Map(fields)), first);
  for (let i = 0; i < 600; i++) {
    const more: [string, string][] = [[`x-${i % 7}`, `${i}`], ...fields];
    assertEquals(decoder.decode(encoder.encode(more)), more);
  }
  assertEquals(encoder.encode([]), new Uint8Array(0));
});

Deno.test("HpackEncoder rejects a character outside ISO-8859-1", () => {
  assertThrows(
    () => new HpackEncoder().encode([["grpc-message", "\u20ac"]]),
    TypeError,
    'Cannot encode header "grpc-message": character U+20AC is outside ISO-8859-1',
  );
});

Deno.test("HpackDecoder applies a table size update at the start of a block and empties the table", () => {
  const decoder = new HpackDecoder();
  assertEquals(decoder.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")).length, 1);
  assertEquals(decoder.decode(Uint8Array.of(0x20, 0x3f, 0xe1, 0x1f, 0x82)), [[":method", "GET"]]);
  assertTable(decoder, []);
});

Deno.test("HpackDecoder empties the table for an entry larger than the table, and does not add it", () => {
  const decoder = new HpackDecoder({ maxTableSize: 64 });
  assertEquals(decoder.decode(Uint8Array.of(0x40, 0x01, 0x61, 0x01, 0x62)), [["a", "b"]]);
  assertTable(decoder, [["a", "b"]]);
  const large = Uint8Array.from([0x40, 0x01, 0x78, 0x1f, ...new Uint8Array(31).fill(0x79)]); // 1 + 31 + 32 = 64 bytes.
  assertEquals(decoder.decode(large), [["x", "y".repeat(31)]]);
  assertTable(decoder, [["x", "y".repeat(31)]]);
  const larger = Uint8Array.from([0x40, 0x01, 0x78, 0x20, ...new Uint8Array(32).fill(0x79)]);
  assertEquals(decoder.decode(larger), [["x", "y".repeat(32)]]);
  assertTable(decoder, []);
});

for (
  const [name, block, message] of [
    ["index 0", [0x80], "index 0 is not allowed"],
    ["an index beyond the table", [0x82, 0xbe], "index 62 is beyond the table"],
    ["a literal name index beyond the table", [0x0f, 0x30, 0x00], "index 63 is beyond the table"],
    ["a truncated integer", [0xff, 0x80], "integer is truncated"],
    ["an integer above 2^31 - 1", [0xff, 0xff, 0xff, 0xff, 0xff, 0x07], "integer exceeds 2^31 - 1"],
    ["an integer with too many bytes", [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], "integer exceeds 2^31 - 1"],
    ["a missing string", [0x04], "string is truncated"],
    ["a truncated string", [0x04, 0x05, 0x61], "string of 5 bytes is truncated to 1"],
    ["EOS inside a Huffman string", [0x04, 0x84, 0xff, 0xff, 0xff, 0xff], "Huffman string contains EOS"],
    ["Huffman padding longer than 7 bits", [0x04, 0x82, 0x07, 0xff], "Huffman padding"],
    ["8 bits of Huffman padding", [0x04, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff], "Huffman padding"],
    ["Huffman padding with a zero bit", [0x04, 0x81, 0x00], "Huffman padding"],
    ["a table size update above the limit", [0x3f, 0xe2, 0x1f], "table size update to 4097 exceeds the limit of 4096"],
    ["a table size update after a field", [0x82, 0x20], "table size update after a header field"],
  ] as const
) {
  Deno.test(`HpackDecoder rejects ${name}`, () => {
    assertThrows(() => new HpackDecoder().decode(Uint8Array.from(block)), HpackError, message);
  });
}

Deno.test("HpackDecoder rejects a header list larger than maxHeaderListSize", () => {
  const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
  const field = [0x00, 0x01, 0x78, 0x1f]; // x: 31 bytes, 64 with the overhead.
  const block = Uint8Array.from([...field, ...new Uint8Array(31).fill(0x61)]);
  assertEquals(decoder.decode(block).length, 1);
  const twice = Uint8Array.from([...block, ...block]);
  assertThrows(() => decoder.decode(twice), HpackError, "header list is larger than 100 bytes");
});
