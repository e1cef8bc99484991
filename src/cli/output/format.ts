/**
 * Short human forms of durations, sizes and times for tables and progress lines.
 *
 * @module
 */

/** Formats milliseconds as `850ms`, `4.2s`, `3m 05s` or `2h 14m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor(s % 86_400 / 3600)}h`;
}

/** Formats a byte count as `512B`, `3.1MiB` or `1.2GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${units[unit]}`;
}

/** Parses `--since` values: `10m`, `2h`, `30s`, `1d`, unix seconds or an ISO date; returns unix seconds. */
export function parseSince(value: string, nowMs: number): number | undefined {
  const relative = value.match(/^(\d+(?:\.\d+)?)(s|m|h|d)$/);
  if (relative) {
    const factor = { s: 1, m: 60, h: 3600, d: 86_400 }[relative[2] as "s" | "m" | "h" | "d"];
    return Math.floor(nowMs / 1000 - Number(relative[1]) * factor);
  }
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.floor(date / 1000);
}

/** Parses a duration in seconds given as `30`, `30s`, `2m` or `1h`. */
export function parseSeconds(value: string): number | undefined {
  const m = value.match(/^(\d+(?:\.\d+)?)(s|m|h)?$/);
  if (!m) return undefined;
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"]);
}
