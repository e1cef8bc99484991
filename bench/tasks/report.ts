/**
 * The table bench/tasks prints: each figure beside Celery's from the same
 * run, the ratio, and the issue's target where there is one.
 *
 * @module
 */

/** One line of the report. */
export interface Row {
  name: string;
  ours: number;
  celery: number;
  /** Throughputs: ratio = ours / celery; latencies: ratio = ours / celery, lower is better. */
  higherIsBetter?: boolean;
  /** The issue's bar: ours/celery >= ratio (throughput) or <= ratio (latency). */
  target?: { ratio: number; text: string };
}

/** Prints the report table to stdout. */
export function printReport(
  rows: Row[],
  facts: { submits: number; roundtrips: number; repeats: number; cores: number },
): void {
  const lines = [
    `bench/tasks: dspy-agent vs Celery 5 + redis-server (AOF, fsync everysec), same run, ${facts.cores} cores`,
    `  ${facts.submits} SubmitTask / delay() calls per phase, median of ${facts.repeats} alternating repeats; ` +
    `${facts.roundtrips} sequential noop round trips`,
    "",
    `${"measure".padEnd(42)}${"dspy-agent".padStart(12)}${"celery".padStart(12)}${"ratio".padStart(9)}  target`,
  ];
  for (const row of rows) {
    const ratio = row.ours / row.celery;
    let verdict = "";
    if (row.target) {
      const met = row.higherIsBetter ? ratio >= row.target.ratio : ratio <= row.target.ratio;
      verdict = `${row.target.text}: ${met ? "MET" : "MISSED"}`;
    }
    lines.push(
      `${row.name.padEnd(42)}${format(row.ours).padStart(12)}${format(row.celery).padStart(12)}${
        `${ratio.toFixed(2)}x`.padStart(9)
      }  ${verdict}`,
    );
  }
  console.log(lines.join("\n"));
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}
