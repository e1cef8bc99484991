/**
 * Image pulls with real progress (PullImages): the engine's per-layer
 * messages aggregated into one current/total per image.
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import { DockerError } from "../errors.ts";
import { PullAggregator, type PullProgress, type PullStatus } from "../engine/pull_progress.ts";

export type { PullProgress, PullStatus } from "../engine/pull_progress.ts";

/** Options for {@linkcode pullImages}. */
export interface PullImagesOptions {
  /** Stops the pulls. */
  signal?: AbortSignal;
  /** At most one `downloading`/`extracting` update per image per this many ms. @default 100 */
  throttleMs?: number;
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
  const aggregator = new PullAggregator(image);
  let lastStatus: PullStatus | undefined;
  let lastSent = 0;
  try {
    for await (const event of engine.pull(image, { signal })) {
      if (event.error) {
        yield await failure(engine, image, event.errorDetail?.message ?? event.error, signal);
        return;
      }
      const progress = aggregator.apply(event);
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
  yield aggregator.complete();
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
