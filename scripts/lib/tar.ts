/**
 * Writes `.tar.gz` release archives.
 *
 * Written here rather than calling `tar` so archives are byte-for-byte the
 * same on every build machine (GNU and BSD tar differ in headers and need
 * different flags for fixed owners and times): ustar headers, owner root,
 * modification time 0, entries in the order given, gzip without a name or
 * time.
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import type { ArchiveEntry } from "./archive_entry.ts";

const BLOCK = 512;

/** Returns the bytes of a `.tar.gz` archive holding the entries. */
export function tarGz(entries: readonly ArchiveEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    blocks.push(header(entry), entry.data);
    const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    blocks.push(new Uint8Array(padding));
  }
  blocks.push(new Uint8Array(BLOCK * 2)); // end-of-archive marker
  const tar = new Uint8Array(blocks.reduce((total, block) => total + block.length, 0));
  let offset = 0;
  for (const block of blocks) {
    tar.set(block, offset);
    offset += block.length;
  }
  return new Uint8Array(gzipSync(tar, { level: 9 }));
}

function header(entry: ArchiveEntry): Uint8Array {
  const name = new TextEncoder().encode(entry.name);
  if (name.length > 100) {
    throw new RangeError(`Cannot archive "${entry.name}": names are limited to 100 bytes`);
  }
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(new TextEncoder().encode(text), offset);
  const octal = (offset: number, width: number, value: number) =>
    put(offset, value.toString(8).padStart(width - 1, "0") + "\0");
  block.set(name, 0);
  octal(100, 8, entry.mode & 0o7777);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, entry.data.length);
  octal(136, 12, 0); // mtime
  put(148, "        "); // checksum placeholder: eight spaces while summing
  put(156, "0"); // regular file
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  put(148, checksum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}
