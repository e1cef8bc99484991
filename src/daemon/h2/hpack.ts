/**
 * HPACK (RFC 7541), the header compression of HTTP/2, for the daemon's own HTTP/2 server.
 *
 * The decoder keeps the dynamic table that the peer's encoder drives. The encoder never adds to
 * the dynamic table, so the table in the peer's decoder stays empty and needs no tracking here.
 * Header strings are bytes read as ISO-8859-1, one char per byte, so `string.length` is the
 * octet count that RFC 7541 §4.1 sizes entries by.
 *
 * @module
 */

import {
  EMIT,
  FAIL,
  HUFFMAN_ACCEPTS,
  HUFFMAN_STEPS,
  STATIC_BY_NAME,
  STATIC_COUNT,
  STATIC_TABLE,
} from "./_hpack_tables.ts";

/** A header block could not be decoded: a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). */
export class HpackError extends Error {
  override name = "HpackError";
}

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /** The SETTINGS_HEADER_TABLE_SIZE we advertise: the largest dynamic table the peer may ask for. @default 4096 */
  maxTableSize?: number;
  /** Decoded bytes (name + value + 32 per field) above which decode throws HpackError. @default 65536 */
  maxHeaderListSize?: number;
}

/** Decodes HPACK header blocks from one peer, keeping its dynamic table (RFC 7541 §2.3.2). */
export class HpackDecoder {
  readonly #limit: number;
  readonly #maxListSize: number;
  #maxSize: number;
  #size = 0;
  // The dynamic table, oldest first from #first; the newest entry (index 62) is last.
  #names: string[] = [];
  #values: string[] = [];
  #first = 0;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  #scratch = new Uint8Array(256);

  /** `maxTableSize`: the SETTINGS_HEADER_TABLE_SIZE we advertise (default 4096). `maxHeaderListSize`: decoded bytes (name+value+32 per field) above which decode throws HpackError (default 65536). */
  constructor(options: HpackDecoderOptions = {}) {
    this.#limit = this.#maxSize = options.maxTableSize ?? 4096;
    this.#maxListSize = options.maxHeaderListSize ?? 65536;
  }

  /** Decodes one complete header block (HEADERS + CONTINUATION payloads joined) into [name, value] pairs in order. Updates the dynamic table. Throws HpackError on any malformed input (bad index, truncated integer/string, integer overflow > 2^31, invalid Huffman padding/EOS, table size update above max or not at block start, etc). */
  decode(block: Uint8Array): [string, string][] {
    const fields: [string, string][] = [];
    this.#buf = block;
    this.#pos = 0;
    this.#end = block.length;
    let listSize = 0;
    while (this.#pos < this.#end) {
      const first = block[this.#pos];
      let name: string;
      let value: string;
      if (first & 0x80) { // Indexed field (§6.1).
        const index = this.#int(0x7f);
        if (index === 0) throw fail("index 0 is not allowed");
        name = this.#name(index);
        value = index <= STATIC_COUNT
          ? STATIC_TABLE[index - 1][1]
          : this.#values[this.#values.length + STATIC_COUNT - index];
      } else if ((first & 0xe0) === 0x20) { // Dynamic table size update (§6.3), only before the first field (§4.2).
        if (fields.length > 0) throw fail("table size update after a header field");
        const size = this.#int(0x1f);
        if (size > this.#limit) throw fail(`table size update to ${size} exceeds the limit of ${this.#limit}`);
        this.#maxSize = size;
        this.#evict(0);
        continue;
      } else { // Literal with incremental indexing (§6.2.1), without indexing or never indexed (§6.2.2, §6.2.3).
        const indexing = (first & 0x40) !== 0;
        const index = this.#int(indexing ? 0x3f : 0x0f);
        name = index === 0 ? this.#string() : this.#name(index);
        value = this.#string();
        if (indexing) this.#add(name, value);
      }
      listSize += name.length + value.length + 32;
      if (listSize > this.#maxListSize) {
        throw fail(`header list is larger than ${this.#maxListSize} bytes`);
      }
      fields.push([name, value]);
    }
    this.#buf = EMPTY;
    return fields;
  }

  #name(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1][0];
    if (index - STATIC_COUNT > this.#names.length - this.#first) {
      throw fail(`index ${index} is beyond the table`);
    }
    return this.#names[this.#names.length + STATIC_COUNT - index];
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.#evict(size);
    if (size > this.#maxSize) return; // §4.4: an entry larger than the table empties it and is not added.
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  /** Evicts the oldest entries until `room` more bytes fit (§4.3, §4.4). */
  #evict(room: number): void {
    const names = this.#names;
    const values = this.#values;
    while (this.#size + room > this.#maxSize && this.#first < names.length) {
      this.#size -= names[this.#first].length + values[this.#first].length + 32;
      names[this.#first] = values[this.#first] = "";
      this.#first++;
    }
    if (this.#first > 32 && this.#first * 2 > names.length) {
      names.splice(0, this.#first);
      values.splice(0, this.#first);
      this.#first = 0;
    }
  }

  /** Reads an integer with a prefix of `mask` bits at #pos (§5.1). */
  #int(mask: number): number {
    const buf = this.#buf;
    let value = buf[this.#pos++] & mask;
    if (value < mask) return value;
    for (let scale = 1;; scale *= 128) {
      if (this.#pos >= this.#end) throw fail("integer is truncated");
      const byte = buf[this.#pos++];
      value += (byte & 0x7f) * scale;
      if (value > 0x7fffffff || scale > 2 ** 28) throw fail("integer exceeds 2^31 - 1");
      if (byte < 0x80) return value;
    }
  }

  /** Reads a string literal at #pos (§5.2). */
  #string(): string {
    if (this.#pos >= this.#end) throw fail("string is truncated");
    const huffman = this.#buf[this.#pos] >= 0x80;
    const length = this.#int(0x7f);
    const start = this.#pos;
    if (length > this.#end - start) {
      throw fail(`string of ${length} bytes is truncated to ${this.#end - start}`);
    }
    this.#pos += length;
    return huffman ? this.#huffman(start, this.#pos) : latin1(this.#buf, start, this.#pos);
  }

  /** Decodes Huffman bytes [start, stop) of #buf a nibble at a time through {@link HUFFMAN_STEPS}. */
  #huffman(start: number, stop: number): string {
    const buf = this.#buf;
    let out = this.#scratch;
    const most = Math.ceil((stop - start) * 8 / 5); // The shortest code has 5 bits.
    if (out.length < most) out = this.#scratch = new Uint8Array(Math.max(most, out.length * 2));
    let n = 0;
    let state = 0;
    for (let i = start; i < stop; i++) {
      const byte = buf[i];
      let step = HUFFMAN_STEPS[(state << 4) | (byte >> 4)];
      if (step >= EMIT) {
        if (step & FAIL) throw fail("Huffman string contains EOS");
        out[n++] = (step >> 8) & 0xff;
      }
      step = HUFFMAN_STEPS[((step & 0xff) << 4) | (byte & 0x0f)];
      if (step >= EMIT) {
        if (step & FAIL) throw fail("Huffman string contains EOS");
        out[n++] = (step >> 8) & 0xff;
      }
      state = step & 0xff;
    }
    if (!HUFFMAN_ACCEPTS[state]) throw fail("Huffman padding is not a prefix of EOS shorter than 8 bits");
    return latin1(out, 0, n);
  }
}

/** Encodes header blocks without ever indexing, so the peer's dynamic table stays empty. */
export class HpackEncoder {
  #buf = new Uint8Array(256);
  #pos = 0;
  // Encoded fields by name, then value: gRPC repeats the same few response headers on every call.
  #cache = new Map<string, Map<string, Uint8Array>>();
  #cached = 0;

  /** Encodes header fields. Never adds to the dynamic table (so the peer's table needs no tracking): uses the static table's fully indexed form when name+value match exactly (e.g. ":status: 200" -> 0x88), otherwise "literal without indexing" with the static name index when the name is in the static table, else a literal name. No Huffman. Names must be lowercase (caller's job). */
  encode(headers: Iterable<[string, string]>): Uint8Array {
    this.#pos = 0;
    for (const [name, value] of headers) {
      let byValue = this.#cache.get(name);
      const hit = byValue?.get(value);
      if (hit !== undefined) {
        this.#reserve(hit.length);
        this.#buf.set(hit, this.#pos);
        this.#pos += hit.length;
        continue;
      }
      const start = this.#pos;
      this.#field(name, value);
      if (name.length + value.length > CACHED_FIELD_MAX) continue;
      if (this.#cached === CACHED_FIELDS) {
        this.#cache.clear();
        this.#cached = 0;
        byValue = undefined;
      }
      if (byValue === undefined) this.#cache.set(name, byValue = new Map());
      byValue.set(value, this.#buf.slice(start, this.#pos));
      this.#cached++;
    }
    return this.#buf.slice(0, this.#pos);
  }

  #field(name: string, value: string): void {
    const known = STATIC_BY_NAME.get(name);
    if (known === undefined) {
      this.#reserve(1);
      this.#buf[this.#pos++] = 0; // Literal without indexing, new name (§6.2.2).
      this.#string(name, name);
    } else {
      const exact = known.values.get(value);
      if (exact !== undefined) return this.#int(exact, 0x7f, 0x80); // Indexed (§6.1).
      this.#int(known.index, 0x0f, 0); // Literal without indexing, indexed name (§6.2.2).
    }
    this.#string(name, value);
  }

  /** Writes `value` with a prefix of `mask` bits, the rest of the first byte being `flags` (§5.1). */
  #int(value: number, mask: number, flags: number): void {
    this.#reserve(6);
    const buf = this.#buf;
    if (value < mask) {
      buf[this.#pos++] = flags | value;
      return;
    }
    buf[this.#pos++] = flags | mask;
    for (value -= mask; value >= 0x80; value = Math.floor(value / 128)) buf[this.#pos++] = (value & 0x7f) | 0x80;
    buf[this.#pos++] = value;
  }

  /** Writes `text` as a string literal without Huffman coding (§5.2). */
  #string(name: string, text: string): void {
    this.#int(text.length, 0x7f, 0);
    this.#reserve(text.length);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0xff) {
        const char = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
        throw new TypeError(`Cannot encode header "${name}": character ${char} is outside ISO-8859-1`);
      }
      buf[pos++] = code;
    }
    this.#pos = pos;
  }

  #reserve(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + bytes));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }
}

function fail(detail: string): HpackError {
  return new HpackError(`Cannot decode header block: ${detail}`);
}

/** Reads bytes [start, stop) as ISO-8859-1: short strings char by char, long ones in chunks. */
function latin1(bytes: Uint8Array, start: number, stop: number): string {
  let text = "";
  if (stop - start <= 64) {
    for (let i = start; i < stop; i++) text += String.fromCharCode(bytes[i]);
    return text;
  }
  for (let i = start; i < stop; i += 4096) {
    const chunk = bytes.subarray(i, Math.min(i + 4096, stop));
    text += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return text;
}

const EMPTY = new Uint8Array(0);
const CACHED_FIELDS = 256;
const CACHED_FIELD_MAX = 128;
