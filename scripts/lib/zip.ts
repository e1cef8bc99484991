/**
 * Writes `.zip` release archives (the Windows target's format).
 *
 * A small writer instead of the `zip` tool, which a fresh build machine may
 * lack: deflated entries, fixed time (1980-01-01), Unix modes recorded, no
 * ZIP64 (a release binary is far below 4 GiB).
 *
 * @module
 */
import { crc32, deflateRawSync } from "node:zlib";
import type { ArchiveEntry } from "./archive_entry.ts";

const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const VERSION_NEEDED = 20; // 2.0: deflate
const MADE_BY_UNIX = (3 << 8) | VERSION_NEEDED;
const UTF8_NAMES = 0x0800;

/** Returns the bytes of a `.zip` archive holding the entries. */
export function zip(entries: readonly ArchiveEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name);
    const compressed = new Uint8Array(deflateRawSync(entry.data, { level: 9 }));
    const crc = crc32(entry.data) >>> 0;

    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, VERSION_NEEDED, true);
    local.setUint16(6, UTF8_NAMES, true);
    local.setUint16(8, 8, true); // deflate
    local.setUint16(10, 0, true); // time 00:00
    local.setUint16(12, DOS_DATE_1980_01_01, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, compressed.length, true);
    local.setUint32(22, entry.data.length, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, MADE_BY_UNIX, true);
    record.setUint16(6, VERSION_NEEDED, true);
    record.setUint16(8, UTF8_NAMES, true);
    record.setUint16(10, 8, true);
    record.setUint16(12, 0, true);
    record.setUint16(14, DOS_DATE_1980_01_01, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, compressed.length, true);
    record.setUint32(24, entry.data.length, true);
    record.setUint16(28, name.length, true);
    // extra length, comment length, disk, internal attributes: 0
    record.setUint32(38, ((0o100000 | (entry.mode & 0o7777)) << 16) >>> 0, true);
    record.setUint32(42, offset, true);

    parts.push(new Uint8Array(local.buffer), name, compressed);
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + compressed.length;
  }
  const centralSize = central.reduce((total, part) => total + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
