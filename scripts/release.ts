/**
 * `scripts/release`: builds every target and writes the release files.
 *
 * Usage: `scripts/release [--skip-compile] [--target T]... [--bin-dir dist] [--out-dir dist/release]`
 *
 * Writes into the output folder, for version V from deno.json:
 * - `dspy-agent-V-<target>.tar.gz` (`.zip` for Windows): the binary, plus the
 *   systemd unit and sysusers file (Linux) or the launchd plist (macOS);
 * - `install.sh`, `install.ps1`: the installers, served beside the archives;
 * - `SHA256SUMS` over all of the above;
 * - `RELEASE_NOTES.md`: V's section of CHANGELOG.md.
 * `--skip-compile` packages binaries already in `<bin-dir>/<target>/` (built
 * by `deno task compile`, or stubs in tests).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ArchiveEntry } from "./lib/archive_entry.ts";
import { ChangelogError, releaseNotes } from "./lib/changelog.ts";
import { formatChecksums, sha256Hex } from "./lib/checksums.ts";
import { chooseTargets, compileAll, reportFailure } from "./compile.ts";
import { readVersion } from "./lib/stamp.ts";
import { archiveName, binaryName, isWindows, type Target } from "./lib/targets.ts";
import { tarGz } from "./lib/tar.ts";
import { zip } from "./lib/zip.ts";

/** Options for {@linkcode packageRelease}. */
export interface PackageReleaseOptions {
  /** The folder holding deno.json, CHANGELOG.md, deploy/ and scripts/. */
  root: string;
  /** The targets to package. */
  targets: readonly Target[];
  /** Where the binaries are, as `<binDir>/<target>/dspy-agent[.exe]`. */
  binDir: string;
  /** Where the release files go. */
  outDir: string;
  /** Cancels the work. */
  signal?: AbortSignal;
}

/** What {@linkcode packageRelease} wrote. */
export interface ReleaseFiles {
  /** The version released. */
  version: string;
  /** Paths of the archives, in target order. */
  archives: string[];
  /** Path of SHA256SUMS. */
  checksums: string;
  /** Path of RELEASE_NOTES.md. */
  notes: string;
}

/** Raised when a release file cannot be made; the message is one line. */
export class ReleaseError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReleaseError";
  }
}

/** Packages built binaries into archives, checksums and release notes. */
export async function packageRelease(options: PackageReleaseOptions): Promise<ReleaseFiles> {
  const { root, outDir, signal } = options;
  const version = await readVersion(root, { signal });
  const notes = releaseNotes(await Deno.readTextFile(`${root}/CHANGELOG.md`, { signal }), version);
  await Deno.mkdir(outDir, { recursive: true });
  await removeOldReleaseFiles(outDir);

  const sums = new Map<string, string>();
  const archives: string[] = [];
  for (const target of options.targets) {
    const entries = [await binaryEntry(options.binDir, target, signal)];
    for (const [name, path] of extraFiles(target)) {
      entries.push({
        name,
        data: await Deno.readFile(`${root}/${path}`, { signal }),
        mode: 0o644,
      });
    }
    const name = archiveName(version, target);
    const bytes = isWindows(target) ? zip(entries) : tarGz(entries);
    await Deno.writeFile(`${outDir}/${name}`, bytes, { signal });
    sums.set(name, sha256Hex(bytes));
    archives.push(`${outDir}/${name}`);
  }
  for (const installer of ["install.sh", "install.ps1"]) {
    const bytes = await Deno.readFile(`${root}/scripts/${installer}`, { signal });
    await Deno.writeFile(`${outDir}/${installer}`, bytes, { mode: 0o755, signal });
    sums.set(installer, sha256Hex(bytes));
  }
  const checksums = `${outDir}/SHA256SUMS`;
  await Deno.writeTextFile(checksums, formatChecksums(sums), { signal });
  const notesFile = `${outDir}/RELEASE_NOTES.md`;
  await Deno.writeTextFile(notesFile, `${notes}\n`, { signal });
  return { version, archives, checksums, notes: notesFile };
}

/** The service files shipped beside the binary: [name in archive, path in repo]. */
function extraFiles(target: Target): [string, string][] {
  if (target.endsWith("-linux-gnu")) {
    return [
      ["dspy-agent.service", "deploy/systemd/dspy-agent.service"],
      ["dspy-agent.sysusers", "deploy/systemd/dspy-agent.sysusers"],
    ];
  }
  if (target.endsWith("-apple-darwin")) {
    return [["dev.dspy-agent.plist", "deploy/launchd/dev.dspy-agent.plist"]];
  }
  return [];
}

async function binaryEntry(
  binDir: string,
  target: Target,
  signal?: AbortSignal,
): Promise<ArchiveEntry> {
  const path = `${binDir}/${target}/${binaryName(target)}`;
  try {
    return { name: binaryName(target), data: await Deno.readFile(path, { signal }), mode: 0o755 };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new ReleaseError(
      `Cannot package ${target}: there is no binary at "${path}"; run \`deno task compile\` first`,
      { cause: error },
    );
  }
}

/** Removes files a previous run wrote, so the folder lists one release only. */
async function removeOldReleaseFiles(outDir: string): Promise<void> {
  for await (const entry of Deno.readDir(outDir)) {
    const ours = entry.name.startsWith("dspy-agent-") ||
      ["SHA256SUMS", "RELEASE_NOTES.md", "install.sh", "install.ps1"].includes(entry.name);
    if (entry.isFile && ours) await Deno.remove(`${outDir}/${entry.name}`);
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "skip-compile": { type: "boolean", default: false },
      target: { type: "string", multiple: true, default: [] },
      "bin-dir": { type: "string" },
      "out-dir": { type: "string" },
    },
  });
  const root = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
  const binDir = values["bin-dir"] ?? `${root}/dist`;
  const outDir = values["out-dir"] ?? `${root}/dist/release`;
  const denortBin = values["skip-compile"] ? undefined : Deno.env.get("DENORT_BIN") || undefined;
  try {
    const targets = chooseTargets(values.target, denortBin);
    if (!values["skip-compile"]) {
      await compileAll({
        root,
        targets,
        outDir: binDir,
        denortBin,
        commit: Deno.env.get("DSPY_AGENT_COMMIT") || undefined,
      });
    }
    const files = await packageRelease({ root, targets, binDir, outDir });
    for (const archive of files.archives) console.log(archive);
    console.log(files.checksums);
    console.log(files.notes);
    return 0;
  } catch (error) {
    return reportFailure(error, [ReleaseError, ChangelogError]);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
