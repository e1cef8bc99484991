/// <reference lib="dom" />
/**
 * Hooks that keep a component live: a value re-read on an interval, and a server stream followed until the component
 * goes away (reopened after a dropped connection).
 *
 * @module
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { errorText } from "./api.ts";

/** `load()` now and every `everyMs`; the latest value and the latest error. */
export function usePolled<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  // A layout effect: the first load starts as soon as the page is rendered, not a frame later (first paint).
  useLayoutEffect(() => {
    let live = true;
    const tick = () => load().then((v) => live && (setValue(v), setError("")), (e) => live && setError(errorText(e)));
    tick();
    const timer = setInterval(tick, everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, deps);
  return { value, error };
}

/**
 * Follows `open(signal)` (a server stream), calling `onMessage` for each message, until unmount; reopens it a second
 * after it ends or fails (the daemon restarted). Returns the last error, "" while the stream is healthy.
 */
export function useStream<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (m: T) => void,
  deps: unknown[] = [],
) {
  const [error, setError] = useState("");
  useEffect(() => {
    const stop = new AbortController();
    (async () => {
      while (!stop.signal.aborted) {
        try {
          for await (const message of open(stop.signal)) {
            onMessage(message);
            setError("");
          }
        } catch (e) {
          if (!stop.signal.aborted) setError(errorText(e));
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return () => stop.abort();
  }, deps);
  return error;
}

/**
 * A list fed by a stream, newest first, at most `max` long: items that arrive are buffered and added once per
 * animation frame, however many arrive in it (a burst of thousands renders a few times, not thousands).
 */
export function useFrameList<T>(max: number) {
  const [items, setItems] = useState<T[]>([]);
  const buffer = useRef<T[]>([]);
  const frame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  const add = (item: T) => {
    buffer.current.push(item);
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const fresh = buffer.current.reverse();
      buffer.current = [];
      setItems((now) => [...fresh, ...now].slice(0, max));
    });
  };
  const clear = () => {
    buffer.current = [];
    setItems([]);
  };
  return { items, add, clear };
}
