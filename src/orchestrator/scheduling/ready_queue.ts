/**
 * The queue of tasks ready to start in one class: higher priority first,
 * first-in first-out within a priority, and aging so that low priorities
 * are not starved: a task gains one priority step per `agingMs` waited.
 *
 * @module
 */

interface Entry<T> {
  id: string;
  priority: number;
  readyAtMs: number;
  value: T;
}

/** Ready tasks of one class. Picking is O(number of distinct priorities). */
export class ReadyQueue<T = string> {
  #buckets = new Map<number, { items: Entry<T>[]; head: number }>();
  #ids = new Map<string, Entry<T>>();
  #agingMs: number;

  /** Creates an empty queue; `agingMs` is the wait worth one priority step. */
  constructor(agingMs: number) {
    this.#agingMs = agingMs;
  }

  /** How many tasks wait. */
  get size(): number {
    return this.#ids.size;
  }

  /** Whether the task waits here. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * Adds a task that became ready at `readyAtMs` (its place in FIFO order),
   * with a value handed back by {@linkcode ReadyQueue.take}. A task already
   * queued keeps its place; only its value is replaced.
   */
  add(id: string, priority: number, readyAtMs: number, value: T): void {
    const queued = this.#ids.get(id);
    if (queued) {
      queued.value = value;
      return;
    }
    const entry = { id, priority, readyAtMs, value };
    this.#ids.set(id, entry);
    let bucket = this.#buckets.get(priority);
    if (!bucket) this.#buckets.set(priority, bucket = { items: [], head: 0 });
    // Entries arrive almost always in time order; keep the bucket sorted.
    let i = bucket.items.length;
    while (i > bucket.head && bucket.items[i - 1].readyAtMs > readyAtMs) i--;
    bucket.items.splice(i, 0, entry);
  }

  /** Removes a task (cancelled); later picks skip it. */
  remove(id: string): void {
    this.#ids.delete(id);
  }

  /** The waiting time of the oldest task, in ms (0 when empty). */
  oldestWaitMs(nowMs: number): number {
    let oldest = Infinity;
    for (const bucket of this.#buckets.values()) {
      const head = this.#head(bucket);
      if (head) oldest = Math.min(oldest, head.readyAtMs);
    }
    return oldest === Infinity ? 0 : Math.max(0, nowMs - oldest);
  }

  /** Takes the value of the task to run next, or undefined when none waits. */
  take(nowMs: number): T | undefined {
    let best: { entry: Entry<T>; score: number; bucket: { items: Entry<T>[]; head: number } } | undefined;
    for (const [priority, bucket] of this.#buckets) {
      const head = this.#head(bucket);
      if (!head) {
        this.#buckets.delete(priority);
        continue;
      }
      const score = priority + Math.floor(Math.max(0, nowMs - head.readyAtMs) / this.#agingMs);
      if (!best || score > best.score || (score === best.score && head.readyAtMs < best.entry.readyAtMs)) {
        best = { entry: head, score, bucket };
      }
    }
    if (!best) return undefined;
    best.bucket.head++;
    this.#ids.delete(best.entry.id);
    return best.entry.value;
  }

  #head(bucket: { items: Entry<T>[]; head: number }): Entry<T> | undefined {
    while (bucket.head < bucket.items.length) {
      const entry = bucket.items[bucket.head];
      if (this.#ids.get(entry.id) === entry) break;
      bucket.head++;
    }
    if (bucket.head > 1024 && bucket.head * 2 > bucket.items.length) {
      bucket.items = bucket.items.slice(bucket.head);
      bucket.head = 0;
    }
    return bucket.items[bucket.head];
  }
}
