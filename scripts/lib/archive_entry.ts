/**
 * A file to put into a release archive.
 *
 * @module
 */

/** One file of a release archive, stored at the archive's top level. */
export interface ArchiveEntry {
  /** The file name inside the archive, e.g. `dspy-agent`. */
  name: string;
  /** The file's bytes. */
  data: Uint8Array;
  /** Unix permission bits, e.g. `0o755` for the binary. */
  mode: number;
}
