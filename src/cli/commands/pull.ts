/**
 * `dspy-agent pull [SERVICE...]`: pulls service images through the daemon,
 * with a progress bar per image.
 *
 * @module
 */

import { type CommandContext, configOf } from "../context.ts";
import { requireDaemon } from "../daemon_connection.ts";
import { CommandFailedError, ExitCode } from "../errors.ts";
import { formatBytes } from "../output/format.ts";
import { LiveView } from "../output/live_view.ts";

/** Runs `pull`. */
export async function run(ctx: CommandContext): Promise<number> {
  const { client } = await requireDaemon(ctx, await configOf(ctx));
  let imageNames: string[] = [];
  if (ctx.positionals.length > 0) {
    const status = await client.getServicesStatus({ serviceNames: ctx.positionals }, { signal: ctx.signal });
    const missing = ctx.positionals.filter((n) => !status[n]);
    if (missing.length > 0) {
      throw new CommandFailedError(
        `Cannot pull: no service named ${missing.map((m) => `"${m}"`).join(", ")}`,
        ExitCode.usage,
        {
          hint: "Run `dspy-agent status` to list the services.",
        },
      );
    }
    imageNames = [...new Set(Object.values(status).map((s) => s.image).filter(Boolean))];
  }
  const view = ctx.globals.json ? undefined : new LiveView({ output: ctx.output });
  const last = new Map<string, { status: string; message: string; current: number; total: number }>();
  try {
    for await (const p of client.pullImages({ imageNames }, { signal: ctx.signal })) {
      const current = Number(p.current);
      const total = Number(p.total);
      last.set(p.imageName, { status: p.status, message: p.message, current, total });
      const size = total > 0 ? ` ${formatBytes(current)}/${formatBytes(total)}` : "";
      if (p.status === "complete") view?.set(p.imageName, { state: "ok", text: p.message || "pulled" });
      else if (p.status === "error") view?.set(p.imageName, { state: "failed", text: p.message || "failed" });
      else view?.set(p.imageName, { state: "active", text: `${p.status}${size}`, progress: p.progressPercent });
    }
  } finally {
    view?.close();
  }
  const failed = [...last].filter(([, s]) => s.status === "error");
  if (ctx.globals.json) ctx.output.writeJson({ ok: failed.length === 0, images: Object.fromEntries(last) });
  if (failed.length > 0) {
    throw new CommandFailedError(
      failed.length === 1 && /^Cannot /.test(failed[0][1].message)
        ? failed[0][1].message
        : `Cannot pull ${failed.map(([name]) => `"${name}"`).join(", ")}: ${failed[0][1].message}`,
      ExitCode.failure,
      {
        hint: "Check the engine can reach the registry, or build the image locally and tag it.",
      },
    );
  }
  return ExitCode.ok;
}
