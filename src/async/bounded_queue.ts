/**
 * A bounded first-in first-out queue between a synchronous producer (the
 * scheduler, the event log) and one asynchronous consumer (a stream). The
 * producer never waits: past the bound the queue marks itself overflowed
 * and drops further items, and the consumer learns it once drained.
 *
 * @module
 */

/** The result of {@linkcode BoundedQueue.take}. */
export type TakeResult<T> =
  | { kind: "item"; item: T }
  | { kind: "overflowed" }
  | { kind: "aborted" };

/** A bounded queue with one waiting consumer. */
export class BoundedQueue<T> {
  #items: T[] = [];
  #head = 0;
  #overflowed = false;
  #wake?: () => void;
  /** The most items held at once. */
  readonly capacity: number;

  /** Creates an empty queue holding at most `capacity` items. */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** How many items wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether an item was dropped because the queue was full. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Adds an item; returns false (and drops it) if the queue is or was full. */
  push(item: T): boolean {
    if (this.#overflowed) return false;
    if (this.size >= this.capacity) {
      this.#overflowed = true;
      this.#wake?.();
      return false;
    }
    this.#items.push(item);
    this.#wake?.();
    return true;
  }

  /** Drops every item and the overflow mark. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#overflowed = false;
  }

  /** Waits for the next item; "overflowed" once drained after an overflow; "aborted" on abort. */
  async take(signal?: AbortSignal): Promise<TakeResult<T>> {
    while (true) {
      if (signal?.aborted) return { kind: "aborted" };
      if (this.size > 0) {
        const item = this.#items[this.#head++];
        if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        return { kind: "item", item };
      }
      if (this.#overflowed) return { kind: "overflowed" };
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#wake = undefined;
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.#wake = done;
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }
}
