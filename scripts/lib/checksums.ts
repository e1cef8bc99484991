/**
 * SHA-256 checksums of release files, in the `sha256sum` format.
 *
 * The installers read this file (scripts/install.sh, scripts/install.ps1),
 * and `sha256sum -c SHA256SUMS` checks a download by hand.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Returns the lowercase hex SHA-256 of some bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Formats `SHA256SUMS`: `<hex>  <name>` per file, sorted by name. */
export function formatChecksums(sums: ReadonlyMap<string, string>): string {
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}\n`)
    .join("");
}

/** Parses `SHA256SUMS` text into name -> hex (`*name` binary markers accepted). */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = line.match(/^([0-9a-f]{64}) [ *](.+)$/);
    if (match) sums.set(match[2], match[1]);
  }
  return sums;
}
