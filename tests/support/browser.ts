/**
 * A real headless browser for the dashboard tests and bench: Debian's chromium, driven by playwright-core (npm).
 * playwright-core probes a few /proc paths when it loads (is this WSL?); Deno refuses /proc without every
 * permission, so those probes answer "no" here instead of failing the import. Nothing else is changed.
 * @module
 */
import fs from "node:fs";

/** Where Debian installs chromium (scripts/ensure-system-deps). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether chromium is installed. */
export function chromiumAvailable(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    return false;
  }
}

const existsSync = fs.existsSync;
fs.existsSync = ((path: fs.PathLike) => {
  try {
    return existsSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable && String(path).startsWith("/proc/")) return false;
    throw error;
  }
}) as typeof fs.existsSync;

const { chromium } = await import("playwright-core");

/** Starts headless chromium. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}
