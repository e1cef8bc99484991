/**
 * The platforms dspy-agent is released for, and how each is named.
 *
 * Target names are Deno's (`deno compile --target`); archive names, the
 * installer (scripts/install.sh, scripts/install.ps1) and the release
 * workflow all use the same names, so a target is spelled one way everywhere.
 *
 * @module
 */

/** A `deno compile --target` name dspy-agent is released for. */
export type Target =
  | "x86_64-unknown-linux-gnu"
  | "aarch64-unknown-linux-gnu"
  | "x86_64-apple-darwin"
  | "aarch64-apple-darwin"
  | "x86_64-pc-windows-msvc";

/** Every released target, in the order they are built and listed. */
export const TARGETS: readonly Target[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** Tells whether a string names a released target. */
export function isTarget(name: string): name is Target {
  return (TARGETS as readonly string[]).includes(name);
}

/** Tells whether a target builds a Windows binary (`.exe`, `.zip` archive). */
export function isWindows(target: Target): boolean {
  return target.endsWith("-windows-msvc");
}

/** The file name of the binary for a target: `dspy-agent` or `dspy-agent.exe`. */
export function binaryName(target: Target): string {
  return isWindows(target) ? "dspy-agent.exe" : "dspy-agent";
}

/** The archive file name for a version and target, e.g. `dspy-agent-0.1.0-x86_64-unknown-linux-gnu.tar.gz`. */
export function archiveName(version: string, target: Target): string {
  const extension = isWindows(target) ? "zip" : "tar.gz";
  return `dspy-agent-${version}-${target}.${extension}`;
}

/** The target of the machine running this script, or undefined when it is not a released one. */
export function hostTarget(): Target | undefined {
  return isTarget(Deno.build.target) ? Deno.build.target : undefined;
}
