/**
 * Limits on what a client may submit. Ids are checked so that they are
 * safe in logs, labels and URLs; they are never used as file paths.
 *
 * @module
 */

import { InvalidTaskError } from "./errors.ts";

/** The characters and length a task id may have. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** The most payload bytes (keys and values) a task may carry. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** The most labels a task may carry. */
export const MAX_LABELS = 64;

/** Throws {@linkcode InvalidTaskError} unless `id` is a valid task id. */
export function validateTaskId(id: string, action = "submit task"): void {
  if (!TASK_ID_PATTERN.test(id)) {
    const shown = id.length > 40 ? `${id.slice(0, 40)}...` : id;
    throw new InvalidTaskError(
      action,
      "id",
      `task id "${shown}" must be 1 to 128 characters of A-Z a-z 0-9 . _ : -`,
    );
  }
}

/** Throws {@linkcode InvalidTaskError} if the payload is over {@linkcode MAX_PAYLOAD_BYTES}. */
export function validatePayload(id: string, payload: Record<string, string>): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(payload)) bytes += key.length + value.length;
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new InvalidTaskError(
      `submit task "${id}"`,
      "payload",
      `payload is ${bytes} bytes, more than the limit of ${MAX_PAYLOAD_BYTES}`,
    );
  }
}

/** Throws {@linkcode InvalidTaskError} if there are too many labels or one is too long. */
export function validateLabels(id: string, labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    throw new InvalidTaskError(
      `submit task "${id}"`,
      "labels",
      `${entries.length} labels given, at most ${MAX_LABELS} allowed`,
    );
  }
  for (const [key, value] of entries) {
    if (!/^[A-Za-z0-9._/-]{1,128}$/.test(key) || value.length > 1024) {
      throw new InvalidTaskError(
        `submit task "${id}"`,
        "labels",
        `label "${
          key.slice(0, 40)
        }" must have a key of 1 to 128 characters of A-Z a-z 0-9 . _ / - and a value of at most 1024`,
      );
    }
  }
}
