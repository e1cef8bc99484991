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

/** axe-core's serious and critical violations on the page as it is now, one line each (rule, help, node count). */
export async function axeProblems(page: import("playwright-core").Page): Promise<string[]> {
  await page.evaluate(await Deno.readTextFile(new URL(import.meta.resolve("axe-core")).pathname));
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ["violations"] });
    // deno-lint-ignore no-explicit-any
    return result.violations.filter((v: any) => v.impact === "serious" || v.impact === "critical")
      // deno-lint-ignore no-explicit-any
      .map((v: any) => `${v.id}: ${v.help} (${v.nodes.length})`);
  });
}
