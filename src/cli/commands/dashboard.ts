/**
 * `dspy-agent dashboard`: prints the dashboard's URL (the one `start` prints) and opens it in the user's browser
 * when this machine has a way to: `$BROWSER`, else `open` on macOS, else `xdg-open` with a display. Over SSH or on a
 * headless machine, and with `--print`, it only prints the URL.
 *
 * @module
 */

import { delay } from "../../async/mod.ts";
import { type CommandContext, configOf } from "../context.ts";
import { dashboardUrl, requireDaemon } from "../daemon_connection.ts";
import { ExitCode } from "../errors.ts";

/** How long an opener may take before it is left running on its own (a browser run directly does not return). */
const OPENER_WAIT_MS = 5000;

/** Runs `dashboard`. */
export async function run(ctx: CommandContext): Promise<number> {
  const config = await configOf(ctx);
  // The daemon found may listen elsewhere than configured (started with other settings): use its own address.
  const { health } = await requireDaemon(ctx, config);
  const url = dashboardUrl({ ...config, httpAddr: health.httpAddress || config.httpAddr });
  const opener = ctx.values.print === true ? undefined : browserOpener(ctx.env);
  const opened = opener ? await open(opener, url, ctx.signal) : { ok: false, why: "" };
  if (ctx.globals.json) {
    ctx.output.writeJson({ url, opened: opened.ok });
    return ExitCode.ok;
  }
  ctx.output.line(url);
  if (opener && !opened.ok) ctx.output.error(`Cannot open a browser (${opened.why}): open the URL above yourself.`);
  else if (!opener && ctx.values.print !== true) {
    ctx.output.error("No browser to open here (no display, no $BROWSER): open the URL above in yours.");
  }
  return ExitCode.ok;
}

/**
 * The command that opens a URL here, or undefined when there is none. `$BROWSER` wins (a list separated by `:`, the
 * first entry used; `%s` stands for the URL, else the URL is the last argument), as `xdg-open` and Python's
 * `webbrowser` read it.
 */
export function browserOpener(env: Record<string, string | undefined>): string[] | undefined {
  const browser = env.BROWSER?.split(":").map((s) => s.trim()).find(Boolean);
  if (browser) return browser.split(/\s+/);
  if (Deno.build.os === "darwin") return ["open"];
  if (Deno.build.os === "windows") return ["explorer"];
  // Without a display xdg-open falls back to a text browser in this terminal, or fails: print only.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return onPath("xdg-open", env.PATH) ? ["xdg-open"] : undefined;
}

async function open(opener: string[], url: string, signal: AbortSignal): Promise<{ ok: boolean; why: string }> {
  const args = opener.slice(1).some((a) => a.includes("%s"))
    ? opener.slice(1).map((a) => a.replaceAll("%s", url))
    : [...opener.slice(1), url];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(opener[0], { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  } catch (error) {
    return { ok: false, why: `${opener[0]}: ${(error as Error).message}` };
  }
  const timer = new AbortController();
  const waited = await Promise.race([
    child.status,
    delay(OPENER_WAIT_MS, AbortSignal.any([signal, timer.signal])).then(() => undefined, () => undefined),
  ]);
  timer.abort();
  if (waited === undefined) {
    // Still running: a browser started directly keeps running after we exit.
    child.unref();
    return { ok: true, why: "" };
  }
  return waited.success ? { ok: true, why: "" } : { ok: false, why: `${opener[0]} exited with code ${waited.code}` };
}

function onPath(name: string, path: string | undefined): boolean {
  for (const dir of (path ?? "").split(":").filter(Boolean)) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch { /* not in this folder */ }
  }
  return false;
}
