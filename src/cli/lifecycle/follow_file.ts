/**
 * Printing a text file's last lines and, with `follow`, the lines appended
 * later (`dspy-agent logs daemon -f`).
 *
 * @module
 */

import { delay } from "../../async/mod.ts";

/** Options of {@linkcode followFile}. */
export interface FollowFileOptions {
  /** The file. */
  path: string;
  /** Only the last N lines; 0 = all. */
  tail: number;
  /** Keep reading appended lines until the signal aborts. */
  follow: boolean;
  /** Ends a follow. */
  signal: AbortSignal;
  /** Receives each line. */
  write(line: string): void;
}

/** Prints the file (or its tail), then follows it while `follow` is set. */
export async function followFile(options: FollowFileOptions): Promise<void> {
  let offset = 0;
  let pending = "";
  let first = true;
  const decoder = new TextDecoder();
  while (true) {
    let chunk = new Uint8Array(0);
    try {
      using file = await Deno.open(options.path, { read: true });
      const size = (await file.stat()).size;
      if (size < offset) offset = 0; // truncated or rotated
      if (size > offset) {
        await file.seek(offset, Deno.SeekMode.Start);
        chunk = new Uint8Array(size - offset);
        let read = 0;
        while (read < chunk.length) {
          const n = await file.read(chunk.subarray(read));
          if (n === null) break;
          read += n;
        }
        offset += read;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const lines = (pending + decoder.decode(chunk, { stream: true })).split("\n");
    pending = lines.pop() ?? "";
    const shown = first && options.tail > 0 ? lines.slice(-options.tail) : lines;
    first = false;
    for (const line of shown) options.write(line);
    if (!options.follow) {
      if (pending) options.write(pending);
      return;
    }
    await delay(250, options.signal);
  }
}
