/**
 * Aggregation of the engine's per-layer pull messages into one current/total per image.
 * @module
 */
import type { ProgressMessage } from "./engine.ts";

/** Where a pull is. */
export type PullStatus = "downloading" | "extracting" | "complete" | "error";

/** Progress of one image's pull. */
export interface PullProgress {
  /** The image as asked for. */
  image: string;
  /** downloading, extracting, complete or error. */
  status: PullStatus;
  /** Bytes done, summed over the layers (downloaded, then extracted). */
  current: number;
  /** Bytes expected, summed over the layers known so far. */
  total: number;
  /** 0–100. */
  percent: number;
  /** The engine's last status line, or the error. */
  message: string;
}

interface Layer {
  downloaded: number;
  extracted: number;
  size: number;
  done: boolean;
}

/** Folds an image's pull messages into {@linkcode PullProgress} updates. */
export class PullAggregator {
  readonly #layers = new Map<string, Layer>();
  #message = "";

  /** Starts with no layers known. */
  constructor(readonly image: string) {}

  /** Applies one engine message and returns the image's progress after it. */
  apply(event: ProgressMessage): PullProgress {
    this.#message = [event.id, event.status, event.progress].filter(Boolean).join(" ");
    // "Pulling from <repo>" carries the tag as its id: it is not a layer.
    if (event.id && !event.status?.startsWith("Pulling from")) this.#track(event.id, event);
    return this.#aggregate();
  }

  /** The final update of a pull that ended without an error. */
  complete(): PullProgress {
    const done = this.#aggregate();
    return { ...done, status: "complete", current: done.total, percent: 100 };
  }

  #track(id: string, event: ProgressMessage): void {
    const layer = this.#layers.get(id) ?? { downloaded: 0, extracted: 0, size: 0, done: false };
    this.#layers.set(id, layer);
    const detail = event.progressDetail ?? {};
    switch (event.status) {
      case "Downloading":
        layer.downloaded = detail.current ?? layer.downloaded;
        layer.size = detail.total ?? layer.size;
        break;
      case "Verifying Checksum":
      case "Download complete":
        layer.downloaded = layer.size;
        break;
      case "Extracting":
        layer.downloaded = layer.size = Math.max(layer.size, detail.total ?? 0);
        layer.extracted = detail.current ?? layer.extracted;
        break;
      case "Pull complete":
      case "Already exists":
        layer.downloaded = layer.extracted = layer.size;
        layer.done = true;
        break;
    }
  }

  /** Sums the layers: downloading until every layer is downloaded, then extracting. */
  #aggregate(): PullProgress {
    const all = [...this.#layers.values()];
    const total = all.reduce((sum, l) => sum + l.size, 0);
    const extracting = all.length > 0 &&
      all.every((l) => l.done || (l.size > 0 && l.downloaded >= l.size));
    const current = all.reduce(
      (sum, l) => sum + (extracting ? (l.done ? l.size : l.extracted) : l.downloaded),
      0,
    );
    const percent = total > 0 ? Math.min(100, Math.floor((current / total) * 100)) : 0;
    const status = extracting ? "extracting" : "downloading";
    return { image: this.image, status, current, total, percent, message: this.#message };
  }
}
