/**
 * HPACK's fixed tables, built once when the module loads: the static table
 * (RFC 7541 Appendix A) with an index by name, and the Huffman decoder's
 * state machine built from the code table (Appendix B, `_huffman.ts`).
 *
 * @module
 */

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./_huffman.ts";

/** The static table (RFC 7541 Appendix A); index 1 is element 0. */
// deno-fmt-ignore
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];
export const STATIC_COUNT = STATIC_TABLE.length;

/** Each static name's first index, and the index of each of its values. */
export const STATIC_BY_NAME = new Map<string, { index: number; values: Map<string, number> }>();
STATIC_TABLE.forEach(([name, value], i) => {
  let known = STATIC_BY_NAME.get(name);
  if (known === undefined) STATIC_BY_NAME.set(name, known = { index: i + 1, values: new Map() });
  known.values.set(value, i + 1);
});

// The Huffman decoder is a state machine over nibbles, as in nghttp2: a state is an inner node of
// the code tree (root = 0). A step packs the next state (bits 0-7), a decoded byte (bits 8-15) when
// EMIT is set, and FAIL when the nibble completes EOS. The shortest code has 5 bits, so a nibble
// completes at most one symbol.
export const EMIT = 0x10000;
export const FAIL = 0x20000;
export const HUFFMAN_STEPS = new Uint32Array(256 * 16);
/** 1 for the states a string may end in: the root, or 1 to 7 one bits into EOS (§5.2). */
export const HUFFMAN_ACCEPTS = new Uint8Array(256);
{
  // children[2 * node + bit] is an inner node, or ~symbol for a leaf.
  const children = new Int32Array(2 * 256);
  let nodes = 1;
  for (let symbol = 0; symbol <= 256; symbol++) {
    const code = HUFFMAN_CODES[symbol];
    let node = 0;
    for (let bit = HUFFMAN_LENGTHS[symbol] - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      node = children[slot] ||= nodes++;
    }
    children[2 * node + (code & 1)] = ~symbol;
  }
  for (let node = 0, depth = 0; depth < 8; depth++, node = children[2 * node + 1]) HUFFMAN_ACCEPTS[node] = 1;
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let step = 0;
      for (let bit = 3; bit >= 0 && step !== FAIL; bit--) {
        const child = children[2 * node + ((nibble >> bit) & 1)];
        if (child >= 0) {
          node = child;
        } else {
          step = ~child === 256 ? FAIL : EMIT | (~child << 8);
          node = 0;
        }
      }
      HUFFMAN_STEPS[(state << 4) | nibble] = step | node;
    }
  }
}
