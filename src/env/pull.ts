/**
 * Image pulls with real progress (PullImages): the engine's per-layer
 * messages aggregated into one current/total per image.
 * @module
 */
import type { Engine, ProgressMessage } from "./engine.ts";
import { DockerError } from "./errors.ts";

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

/** Options for {@linkcode pullImages}. */
export interface PullImagesOptions {
  /** Stops the pulls. */
  signal?: AbortSignal;
  /** At most one `downloading`/`extracting` update per image per this many ms. @default 100 */
  throttleMs?: number;
}

interface Layer {
  downloaded: number;
  extracted: number;
  size: number;
  done: boolean;
}

/**
 * Pulls each image in turn, yielding aggregated progress; a failed image
 * yields an `error` update and the next image is pulled. An unreachable
 * engine throws `DockerUnavailableError`.
 */
export async function* pullImages(
  engine: Engine,
  images: string[],
  options: PullImagesOptions = {},
): AsyncGenerator<PullProgress> {
  for (const image of images) yield* pullOne(engine, image, options);
}

async function* pullOne(
  engine: Engine,
  image: string,
  { signal, throttleMs = 100 }: PullImagesOptions,
): AsyncGenerator<PullProgress> {
  const layers = new Map<string, Layer>();
  let lastStatus: PullStatus | undefined;
  let lastSent = 0;
  let message = "";
  try {
    for await (const event of engine.pull(image, { signal })) {
      if (event.error) {
        yield await failure(engine, image, event.errorDetail?.message ?? event.error, signal);
        return;
      }
      message = [event.id, event.status, event.progress].filter(Boolean).join(" ");
      if (event.id) track(layers, event);
      const progress = aggregate(image, layers, message);
      const now = performance.now();
      if (progress.status !== lastStatus || now - lastSent >= throttleMs) {
        lastStatus = progress.status;
        lastSent = now;
        yield progress;
      }
    }
  } catch (err) {
    if (!(err instanceof DockerError)) throw err;
    yield await failure(engine, image, err.engineMessage, signal);
    return;
  }
  const done = aggregate(image, layers, message);
  yield { ...done, status: "complete", current: done.total, percent: 100 };
}

/** Applies one layer message to the layer table. */
function track(layers: Map<string, Layer>, event: ProgressMessage): void {
  const layer = layers.get(event.id!) ?? { downloaded: 0, extracted: 0, size: 0, done: false };
  layers.set(event.id!, layer);
  const status = event.status ?? "";
  const detail = event.progressDetail ?? {};
  if (status === "Downloading") {
    layer.downloaded = detail.current ?? layer.downloaded;
    layer.size = detail.total ?? layer.size;
  } else if (status === "Download complete" || status === "Verifying Checksum") {
    layer.downloaded = layer.size;
  } else if (status === "Extracting") {
    layer.downloaded = layer.size = Math.max(layer.size, detail.total ?? 0);
    layer.extracted = detail.current ?? layer.extracted;
  } else if (status === "Pull complete" || status === "Already exists") {
    layer.downloaded = layer.extracted = layer.size;
    layer.done = true;
  }
}

/** Sums the layers: downloading until every layer is downloaded, then extracting. */
function aggregate(image: string, layers: Map<string, Layer>, message: string): PullProgress {
  const all = [...layers.values()];
  const total = all.reduce((sum, l) => sum + l.size, 0);
  const downloaded = all.reduce((sum, l) => sum + l.downloaded, 0);
  const extracting = all.length > 0 && all.every((l) => l.done || (l.size > 0 && l.downloaded >= l.size));
  const current = extracting ? all.reduce((sum, l) => sum + (l.done ? l.size : l.extracted), 0) : downloaded;
  const percent = total > 0 ? Math.min(100, Math.floor((current / total) * 100)) : 0;
  return { image, status: extracting ? "extracting" : "downloading", current, total, percent, message };
}

/** An error update; says so when the engine has the image locally (the pull still went to the registry). */
async function failure(
  engine: Engine,
  image: string,
  reason: string,
  signal?: AbortSignal,
): Promise<PullProgress> {
  const local = await engine.findImage(image, { signal }).catch(() => undefined);
  const message = `Cannot pull image "${image}": ${reason.trim()}` +
    (local ? " (the engine already has a local copy of this image)" : "");
  return { image, status: "error", current: 0, total: 0, percent: 0, message };
}
