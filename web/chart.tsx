/// <reference lib="dom" />
/**
 * A time-series chart: uPlot (npm `uplot`) drawing into a div this component owns; new points redraw it in place.
 *
 * @module
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** One line over time: `times` in unix seconds, `values` beside them. */
export function LineChart(
  { title, times, values, unit }: { title: string; times: number[]; values: (number | null)[]; unit: string },
) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        title,
        width: Math.max(280, box.current.clientWidth || 480),
        height: 180,
        series: [{}, { label: unit, stroke: "#2563eb", width: 2 }],
        axes: [{}, { size: 60 }],
      },
      [times, values],
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData([times, values]), [times, values]);
  return <div class="chart" ref={box} role="img" aria-label={`${title}: ${values.at(-1) ?? 0} ${unit}`} />;
}
