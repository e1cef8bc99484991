/**
 * scripts/release with stub binaries (`--skip-compile`, since deno compile
 * cannot finish here): per-target archives that real tar, unzip and
 * sha256sum accept, SHA256SUMS, and release notes from CHANGELOG.md.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes, assertThrows } from "./support/assert.ts";
import { ChangelogError, releaseNotes } from "../scripts/lib/changelog.ts";
import { formatChecksums, parseChecksums, sha256Hex } from "../scripts/lib/checksums.ts";
import { packageRelease, ReleaseError } from "../scripts/release.ts";
import { archiveName, binaryName, TARGETS } from "../scripts/lib/targets.ts";

import { type CommandResult, runCommand } from "./support/run.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const VERSION = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).version as string;

function run(command: string, args: string[], cwd?: string): Promise<CommandResult> {
  const denoDir = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));
  return runCommand(command, args, {
    cwd,
    env: { NO_COLOR: "1", PATH: `${denoDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
  });
}

async function stubBinaries(binDir: string): Promise<void> {
  for (const target of TARGETS) {
    await Deno.mkdir(`${binDir}/${target}`, { recursive: true });
    await Deno.writeTextFile(`${binDir}/${target}/${binaryName(target)}`, `stub for ${target}\n`);
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dist-release-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("scripts/release --skip-compile writes archives, SHA256SUMS and notes", async () => {
  await withDir(async (dir) => {
    await stubBinaries(`${dir}/bin`);
    const out = `${dir}/release`;
    const result = await run(`${ROOT}/scripts/release`, [
      "--skip-compile",
      "--bin-dir",
      `${dir}/bin`,
      "--out-dir",
      out,
    ]);
    assertEquals(result.code, 0, result.stderr);

    const archives = TARGETS.map((target) => archiveName(VERSION, target));
    const files = [...Deno.readDirSync(out)].map((entry) => entry.name).sort();
    assertEquals(files, [...archives, "RELEASE_NOTES.md", "SHA256SUMS", "install.ps1", "install.sh"].sort());

    const check = await run("sha256sum", ["-c", "SHA256SUMS"], out);
    assertEquals(check.code, 0, check.stderr);
    assertEquals(check.stdout.trim().split("\n").length, archives.length + 2);

    const linux = await run("tar", ["-tvzf", `${out}/${archiveName(VERSION, "x86_64-unknown-linux-gnu")}`]);
    assertEquals(linux.code, 0, linux.stderr);
    const listing = linux.stdout.trim().split("\n").map((line) => {
      const fields = line.split(/\s+/);
      return `${fields[0]} ${fields.at(-1)}`;
    });
    assertEquals(listing, [
      "-rwxr-xr-x dspy-agent",
      "-rw-r--r-- dspy-agent.service",
      "-rw-r--r-- dspy-agent.sysusers",
    ]);
    const extracted = await run("tar", [
      "-xzOf",
      `${out}/${archiveName(VERSION, "aarch64-apple-darwin")}`,
      "dspy-agent",
    ]);
    assertEquals(extracted.stdout, "stub for aarch64-apple-darwin\n");

    const script = [
      "import sys, zipfile",
      "z = zipfile.ZipFile(sys.argv[1])",
      "assert z.testzip() is None",
      "print(*[f'{i.filename} {oct(i.external_attr >> 16)} {z.read(i).decode().strip()}' for i in z.infolist()])",
    ].join("\n");
    const windows = await run("/usr/bin/python3", [
      "-c",
      script,
      `${out}/${archiveName(VERSION, "x86_64-pc-windows-msvc")}`,
    ]);
    assertEquals(windows.code, 0, windows.stderr);
    assertEquals(windows.stdout.trim(), "dspy-agent.exe 0o100755 stub for x86_64-pc-windows-msvc");

    const changelog = await Deno.readTextFile(`${ROOT}/CHANGELOG.md`);
    assertEquals(await Deno.readTextFile(`${out}/RELEASE_NOTES.md`), `${releaseNotes(changelog, VERSION)}\n`);
  });
});

Deno.test("release archives are the same bytes on every run", async () => {
  await withDir(async (dir) => {
    await stubBinaries(`${dir}/bin`);
    const first = await packageRelease({ root: ROOT, targets: TARGETS, binDir: `${dir}/bin`, outDir: `${dir}/a` });
    const second = await packageRelease({ root: ROOT, targets: TARGETS, binDir: `${dir}/bin`, outDir: `${dir}/b` });
    assertEquals(await Deno.readTextFile(first.checksums), await Deno.readTextFile(second.checksums));
  });
});

Deno.test("scripts/release says which binary is missing", async () => {
  await withDir(async (dir) => {
    await stubBinaries(`${dir}/bin`);
    await Deno.remove(`${dir}/bin/aarch64-apple-darwin`, { recursive: true });
    const error = await assertRejects(
      () => packageRelease({ root: ROOT, targets: TARGETS, binDir: `${dir}/bin`, outDir: `${dir}/out` }),
      ReleaseError,
    );
    assertEquals(
      error.message,
      `Cannot package aarch64-apple-darwin: there is no binary at "${dir}/bin/aarch64-apple-darwin/dspy-agent"; ` +
        "run `deno task compile` first",
    );
    const result = await run(`${ROOT}/scripts/release`, [
      "--skip-compile",
      "--bin-dir",
      `${dir}/bin`,
      "--out-dir",
      `${dir}/out`,
    ]);
    assertEquals(result.code, 1);
    assertStringIncludes(result.stderr, "Cannot package aarch64-apple-darwin: there is no binary");
  });
});

Deno.test("releaseNotes() returns one version's section and refuses a missing one", () => {
  const changelog = [
    "# Changelog",
    "## [Unreleased]",
    "- next",
    "## [1.2.0] - 2026-01-02",
    "### Fixed",
    "- a bug",
    "",
    "## [1.1.0] - 2025-12-01",
    "- older",
    "[1.2.0]: https://example.com/1.2.0",
  ].join("\n");
  assertEquals(releaseNotes(changelog, "1.2.0"), "### Fixed\n- a bug");
  assertEquals(releaseNotes(changelog, "1.1.0"), "- older");
  const error = assertThrows(() => releaseNotes(changelog, "1.3.0"), ChangelogError);
  assertEquals(error.message, 'Cannot write release notes for 1.3.0: CHANGELOG.md has no "## [1.3.0]" section');
  assertThrows(() => releaseNotes("## [1.0.0]\n\n## [0.9.0]\n- x", "1.0.0"), ChangelogError);
});

Deno.test("SHA256SUMS round-trips in sha256sum's format", () => {
  const sums = new Map([["b.zip", sha256Hex(new Uint8Array([1]))], ["a.tar.gz", sha256Hex(new Uint8Array())]]);
  const text = formatChecksums(sums);
  assertEquals(
    text.split("\n")[0],
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.tar.gz",
  );
  assertEquals(parseChecksums(text), sums);
  assert(parseChecksums(`${"f".repeat(64)} *bin.exe\n`).has("bin.exe"));
});
