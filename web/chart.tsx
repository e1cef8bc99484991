/// <reference lib="dom" />
/**
 * A time-series chart: uPlot (npm `uplot`) drawing into a div this component owns; new points redraw it in place.
 *
 * @module
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** One line of a chart: its legend label and a value (or null, a gap) beside each time. */
export interface Line {
  label: string;
  values: (number | null)[];
}

/** Line colours in order; each has a contrast of at least 3:1 on white (WCAG 1.4.11). */
const COLOURS = ["#2563eb", "#b45309", "#047857", "#7c3aed"];

/** What a chart draws. */
export interface LineChartProps {
  /** Names the chart for tests and styles (`data-chart`). */
  name: string;
  title: string;
  /** Unix seconds. */
  times: number[];
  lines: Line[];
  /** The unit of every line, the value axis' label. */
  unit: string;
  /** Formats a value on the value axis. @default {uPlot's own} */
  format?: (value: number) => string;
}

/** Lines over time: `times` in unix seconds, each line's `values` beside them, all in one `unit`. */
export function LineChart({ name, title, times, lines, unit, format }: LineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        title,
        width: Math.max(280, box.current.clientWidth || 480),
        height: 180,
        series: [{}, ...lines.map((l, i) => ({ label: l.label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
        // Time ticks at least 80 px apart: uPlot's default 50 px crowds a 420 px chart's two-line time labels.
        axes: [{ space: 80 }, {
          size: 60,
          label: unit,
          ...(format ? { values: (_: uPlot, splits: number[]) => splits.map(format) } : {}),
        }],
      },
      [times, ...lines.map((l) => l.values)],
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData([times, ...lines.map((l) => l.values)]), [times, lines]);
  const latest = lines.map((l) => `${l.label} ${l.values.at(-1) ?? "unknown"}`).join(", ");
  return <div class="chart" data-chart={name} ref={box} role="img" aria-label={`${title} (${unit}): ${latest}`} />;
}
