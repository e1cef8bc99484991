/**
 * `dspy-agent doctor`: checks the machine and says how to fix each problem
 * . It needs no daemon.
 *
 * @module
 */

import type { CommandContext } from "../context.ts";
import { ExitCode } from "../errors.ts";
import { type Check, runChecks } from "./parts/doctor_checks.ts";

/** Runs `doctor`. */
export async function run(ctx: CommandContext): Promise<number> {
  const checks = await runChecks(ctx);
  if (ctx.globals.json) ctx.output.writeJson({ ok: !checks.some((c) => c.status === "fail"), checks });
  else print(ctx, checks);
  const docker = checks.find((c) => c.name === "docker engine");
  if (docker?.status === "fail") return ExitCode.dockerUnavailable;
  return checks.some((c) => c.status === "fail") ? ExitCode.failure : ExitCode.ok;
}

function print(ctx: CommandContext, checks: Check[]): void {
  const c = ctx.output.colors;
  const width = Math.max(...checks.map((k) => k.name.length));
  for (const check of checks) {
    const mark = check.status === "ok" ? c.green("✓") : check.status === "warn" ? c.yellow("!") : c.red("✗");
    ctx.output.line(`${mark} ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.fix && check.status !== "ok") ctx.output.line(`  ${" ".repeat(width)}  ${c.dim("fix:")} ${check.fix}`);
  }
  const failed = checks.filter((k) => k.status === "fail").length;
  ctx.output.line(
    failed === 0
      ? `\n${c.green("All checks passed.")}`
      : `\n${c.red(`${failed} ${failed === 1 ? "check" : "checks"} failed.`)}`,
  );
}
