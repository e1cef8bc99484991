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
/** The most payload keys a task may carry: each costs a decoded value and a map entry on every read. */
export const MAX_PAYLOAD_KEYS = 1000;
/** The most labels a task may carry. */
export const MAX_LABELS = 64;

/**
 * The documented range of each numeric field of a submission (docs/validation.md). Outside it a submit answers
 * INVALID_ARGUMENT naming the field and the range, before anything is stored: a stored value that a reader cannot
 * encode (int64 max in an int64 field read back as a double) would otherwise break every later read.
 */
export const SUBMIT_RANGES = {
  /** Higher runs first; existing training code uses 10. */
  priority: { min: -1_000_000, max: 1_000_000 },
  /** Seconds one attempt may run; 0 = the class default. 30 days at most. */
  timeout_seconds: { min: 0, max: 30 * 24 * 3600 },
  /** Attempts in all; 0 = 1. */
  max_attempts: { min: 0, max: 100 },
  /** Unix ms before which the task does not start; 0 = any time. At most the end of year 9999. */
  not_before_ms: { min: 0, max: 253_402_300_799_999 },
} as const;

/** Throws {@linkcode InvalidTaskError} unless each given number is a whole number in its {@linkcode SUBMIT_RANGES}. */
export function validateSubmitNumbers(id: string, values: Partial<Record<keyof typeof SUBMIT_RANGES, number>>): void {
  for (const [field, value] of Object.entries(values) as [keyof typeof SUBMIT_RANGES, number | undefined][]) {
    if (value === undefined) continue;
    const { min, max } = SUBMIT_RANGES[field];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidTaskError(
        `submit task "${id}"`,
        field,
        `${field} ${String(value).slice(0, 40)} is out of range: give a whole number from ${min} to ${max}`,
      );
    }
  }
}

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

/** The payload limits in force: configurable (`[tasks] max_payload_bytes`, `max_payload_keys`). */
export interface PayloadLimits {
  /** @default {MAX_PAYLOAD_BYTES} */
  bytes: number;
  /** @default {MAX_PAYLOAD_KEYS} */
  keys: number;
}

/** Throws {@linkcode InvalidTaskError} if the payload is over its byte or key limit. */
export function validatePayload(
  id: string,
  payload: Record<string, string>,
  limits: PayloadLimits = { bytes: MAX_PAYLOAD_BYTES, keys: MAX_PAYLOAD_KEYS },
): void {
  let bytes = 0;
  let keys = 0;
  for (const key in payload) {
    if (++keys > limits.keys) {
      throw new InvalidTaskError(
        `submit task "${id}"`,
        "payload",
        `payload has more than ${limits.keys} keys (the limit, [tasks] max_payload_keys): put bulk data in one JSON ` +
          `value, or in a file the task reads`,
      );
    }
    bytes += key.length + payload[key].length;
  }
  if (bytes > limits.bytes) {
    throw new InvalidTaskError(
      `submit task "${id}"`,
      "payload",
      `payload is ${bytes} bytes, more than the limit of ${limits.bytes} ([tasks] max_payload_bytes)`,
    );
  }
}

/** Throws {@linkcode InvalidTaskError} if there are too many labels or one is too long. */
export function validateLabels(id: string, labels: Record<string, string>, action = `submit task "${id}"`): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    throw new InvalidTaskError(
      action,
      "labels",
      `${entries.length} labels given, at most ${MAX_LABELS} allowed`,
    );
  }
  for (const [key, value] of entries) {
    if (!/^[A-Za-z0-9._/-]{1,128}$/.test(key) || value.length > 1024) {
      throw new InvalidTaskError(
        action,
        "labels",
        `label "${
          key.slice(0, 40)
        }" must have a key of 1 to 128 characters of A-Z a-z 0-9 . _ / - and a value of at most 1024`,
      );
    }
  }
}
