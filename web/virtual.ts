/// <reference lib="dom" />
/**
 * A windowed list for long tables: @tanstack/virtual-core (npm, framework-agnostic) decides which rows of `count`
 * are in view of the scrolling element; the component renders only those, between two spacers.
 *
 * @module
 */
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from "@tanstack/virtual-core";
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";

/** Rows in view of the element that `scrollRef` holds, each `rowHeight` pixels tall. */
export function useVirtualRows(count: number, rowHeight: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [virtualizer] = useState(() =>
    new Virtualizer<HTMLDivElement, Element>({
      count,
      getScrollElement: () => scrollRef.current,
      estimateSize: () => rowHeight,
      overscan: 20,
      scrollToFn: elementScroll,
      observeElementRect,
      observeElementOffset,
      onChange: () => rerender(0),
    })
  );
  virtualizer.setOptions({ ...virtualizer.options, count });
  useLayoutEffect(() => virtualizer._willUpdate());
  useEffect(() => virtualizer._didMount(), []);
  const items = virtualizer.getVirtualItems();
  const total = virtualizer.getTotalSize();
  const before = items.length > 0 ? items[0].start : 0;
  const after = items.length > 0 ? total - items[items.length - 1].end : 0;
  return { scrollRef, items, before, after };
}
