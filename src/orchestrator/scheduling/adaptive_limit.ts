/**
 * Adaptive concurrency of one task class: the limit drops by a quarter when
 * the recent error rate or latency rises, and grows by one while the queue
 * is deeper than the limit and the class is healthy, always within bounds.
 *
 * @module
 */

/** Options of {@linkcode AdaptiveLimit}. */
export interface AdaptiveLimitOptions {
  /** The starting limit. */
  limit: number;
  minLimit: number;
  maxLimit: number;
  /** Outcomes judged together. @default {20} */
  window?: number;
  /** An error rate above this lowers the limit. @default {0.25} */
  maxErrorRate?: number;
  /** Recent latency above baseline × this (and 1 s more) lowers the limit. @default {3} */
  latencyFactor?: number;
}

/** The adaptive limit of one class. */
export class AdaptiveLimit {
  #limit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  #window: number;
  #maxErrorRate: number;
  #latencyFactor: number;
  #outcomes: boolean[] = [];
  #baselineMs = 0;
  #recentMs = 0;
  #sinceChange = 0;
  #errors = 0;
  #total = 0;

  /** Starts at `options.limit`. */
  constructor(options: AdaptiveLimitOptions) {
    this.#limit = options.limit;
    this.minLimit = options.minLimit;
    this.maxLimit = options.maxLimit;
    this.#window = options.window ?? 20;
    this.#maxErrorRate = options.maxErrorRate ?? 0.25;
    this.#latencyFactor = options.latencyFactor ?? 3;
  }

  /** The current limit. */
  get limit(): number {
    return this.#limit;
  }

  /** The error rate over the last window of outcomes (0 with none). */
  get errorRate(): number {
    if (this.#outcomes.length === 0) return 0;
    return this.#outcomes.filter((ok) => !ok).length / this.#outcomes.length;
  }

  /** Errors and outcomes since start. */
  get totals(): { errors: number; total: number } {
    return { errors: this.#errors, total: this.#total };
  }

  /** Records one finished attempt; returns true if the limit changed. */
  record(ok: boolean, latencyMs: number, queueDepth: number): boolean {
    this.#total++;
    if (!ok) this.#errors++;
    this.#outcomes.push(ok);
    if (this.#outcomes.length > this.#window) this.#outcomes.shift();
    if (ok) {
      this.#baselineMs = this.#baselineMs === 0 ? latencyMs : this.#baselineMs * 0.98 + latencyMs * 0.02;
      this.#recentMs = this.#recentMs === 0 ? latencyMs : this.#recentMs * 0.7 + latencyMs * 0.3;
    }
    this.#sinceChange++;
    const full = this.#outcomes.length >= this.#window / 2;
    const slow = this.#recentMs > this.#baselineMs * this.#latencyFactor &&
      this.#recentMs > this.#baselineMs + 1000;
    if (full && this.#sinceChange >= this.#window / 2 && (this.errorRate > this.#maxErrorRate || slow)) {
      return this.#set(Math.floor(this.#limit * 0.75));
    }
    const healthy = this.errorRate <= this.#maxErrorRate / 5 && !slow;
    if (healthy && queueDepth > this.#limit && this.#sinceChange >= Math.max(1, this.#limit)) {
      return this.#set(this.#limit + 1);
    }
    return false;
  }

  #set(limit: number): boolean {
    const bounded = Math.min(this.maxLimit, Math.max(this.minLimit, limit));
    if (bounded === this.#limit) return false;
    this.#limit = bounded;
    this.#sinceChange = 0;
    return true;
  }
}
