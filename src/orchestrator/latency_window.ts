/**
 * Recent attempts' queue wait and run time, for the latency figures of GetMetrics: percentiles over a sliding window,
 * kept in a ring of bounded size so a flood of attempts costs fixed memory.
 *
 * @module
 */

/** Percentiles of the attempts that ended within the window. */
export interface LatencySummary {
  /** Attempts in the window (at most the ring's size). */
  attempts: number;
  /** Run time of an attempt, seconds: median and 95th percentile. */
  runP50: number;
  runP95: number;
  /** Attempts whose ready time is known (see {@linkcode LatencyWindow.record}). */
  waits: number;
  /** Time from ready (submitted, or its not-before or retry time) to the attempt's start, seconds. */
  waitP50: number;
  waitP95: number;
}

/** Options of {@linkcode LatencyWindow}. */
export interface LatencyWindowOptions {
  /** How far back attempts count. @default {60000} */
  windowMs?: number;
  /** The most attempts kept; older ones drop out first. @default {4096} */
  capacity?: number;
}

/** A sliding window of attempts' wait and run times. */
export class LatencyWindow {
  readonly #windowMs: number;
  readonly #ended: Float64Array;
  readonly #run: Float64Array;
  readonly #wait: Float64Array;
  #next = 0;
  #size = 0;

  /** Creates an empty window. */
  constructor(options: LatencyWindowOptions = {}) {
    this.#windowMs = options.windowMs ?? 60_000;
    const capacity = options.capacity ?? 4096;
    this.#ended = new Float64Array(capacity);
    this.#run = new Float64Array(capacity);
    this.#wait = new Float64Array(capacity);
  }

  /** Records an attempt that ended at `endedAtMs`; `waitMs` is NaN when its ready time is unknown. */
  record(endedAtMs: number, runMs: number, waitMs: number): void {
    this.#ended[this.#next] = endedAtMs;
    this.#run[this.#next] = runMs / 1000;
    this.#wait[this.#next] = waitMs / 1000;
    this.#next = (this.#next + 1) % this.#ended.length;
    this.#size = Math.min(this.#size + 1, this.#ended.length);
  }

  /** The percentiles of the attempts that ended in the window before `nowMs`; zeros when there are none. */
  summary(nowMs: number): LatencySummary {
    const runs: number[] = [];
    const waits: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      if (nowMs - this.#ended[i] > this.#windowMs) continue;
      runs.push(this.#run[i]);
      if (!Number.isNaN(this.#wait[i])) waits.push(this.#wait[i]);
    }
    runs.sort((a, b) => a - b);
    waits.sort((a, b) => a - b);
    return {
      attempts: runs.length,
      runP50: percentile(runs, 0.5),
      runP95: percentile(runs, 0.95),
      waits: waits.length,
      waitP50: percentile(waits, 0.5),
      waitP95: percentile(waits, 0.95),
    };
  }
}

/** The nearest-rank percentile of sorted values; 0 for none. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/**
 * How long an attempt waited to start: from the later of its submission and its not-before (or retry) time. NaN when
 * that is unknown: after a failed attempt that will be retried the task carries its next retry time instead.
 */
export function queueWaitMs(task: { createdAtMs: number; startedAtMs: number; notBeforeMs: number }): number {
  if (task.startedAtMs <= 0 || task.notBeforeMs > task.startedAtMs) return NaN;
  return Math.max(0, task.startedAtMs - Math.max(task.createdAtMs, task.notBeforeMs));
}
