/**
 * scripts/install.sh against a real HTTP server on 127.0.0.1 serving a
 * release made by scripts/release.ts from stub binaries: it installs the
 * archive for the machine's OS and architecture after checking SHA256SUMS,
 * and refuses a corrupted archive without installing anything.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./support/assert.ts";
import { packageRelease } from "../scripts/release.ts";
import { type Target, TARGETS } from "../scripts/lib/targets.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const INSTALLER = `${ROOT}/scripts/install.sh`;
const VERSION = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).version as string;

/** A release folder whose stub binaries print `stub <target>`. */
async function makeRelease(dir: string): Promise<string> {
  const binDir = `${dir}/bin`;
  for (const target of TARGETS) {
    await Deno.mkdir(`${binDir}/${target}`, { recursive: true });
    const name = target.includes("windows") ? "dspy-agent.exe" : "dspy-agent";
    await Deno.writeTextFile(
      `${binDir}/${target}/${name}`,
      `#!/bin/sh\necho "stub ${target} $*"\n`,
    );
  }
  const outDir = `${dir}/release`;
  await packageRelease({ root: ROOT, targets: TARGETS, binDir, outDir });
  return outDir;
}

/** Serves a folder's files over HTTP/1.1 on 127.0.0.1 and records the paths asked for. */
function serveFolder(dir: string) {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const name = decodeURIComponent(new URL(request.url).pathname.slice(1));
    requested.push(name);
    try {
      return new Response(await Deno.readFile(`${dir}/${name}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requested,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

interface Installed {
  code: number;
  stderr: string;
}

/** Runs install.sh with a clean environment, optionally with a fake `uname`. */
async function install(
  home: string,
  args: string[],
  options: { uname?: [string, string]; env?: Record<string, string> } = {},
): Promise<Installed> {
  let path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  if (options.uname) {
    const fakeBin = await Deno.makeTempDir({ dir: home, prefix: "fake-bin-" });
    const [system, machine] = options.uname;
    await Deno.writeTextFile(
      `${fakeBin}/uname`,
      `#!/bin/sh\ncase "$1" in -s) echo ${system} ;; -m) echo ${machine} ;; *) exit 1 ;; esac\n`,
      { mode: 0o755 },
    );
    path = `${fakeBin}:${path}`;
  }
  const output = await new Deno.Command("sh", {
    args: [INSTALLER, ...args],
    clearEnv: true,
    env: { HOME: home, PATH: path, TMPDIR: home, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

async function runBinary(path: string): Promise<string> {
  const output = await new Deno.Command(path, { args: ["version"], stdout: "piped" }).output();
  assert(output.success, `${path} version failed`);
  return new TextDecoder().decode(output.stdout).trim();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function withRelease(fn: (dir: string, release: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dist-install-" });
  try {
    await fn(dir, await makeRelease(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const HOST_TARGET: Target = Deno.build.arch === "aarch64"
  ? (Deno.build.os === "darwin" ? "aarch64-apple-darwin" : "aarch64-unknown-linux-gnu")
  : (Deno.build.os === "darwin" ? "x86_64-apple-darwin" : "x86_64-unknown-linux-gnu");

Deno.test("install.sh installs this machine's archive after checking SHA256SUMS", async () => {
  await withRelease(async (dir, release) => {
    await using server = serveFolder(release);
    const result = await install(dir, ["--base-url", server.url, "--prefix", `${dir}/prefix`]);
    assertEquals(result.code, 0, result.stderr);
    const binary = `${dir}/prefix/bin/dspy-agent`;
    assertEquals((await Deno.stat(binary)).mode! & 0o777, 0o755);
    assertEquals(await runBinary(binary), `stub ${HOST_TARGET} version`);
    assertEquals(server.requested, ["SHA256SUMS", `dspy-agent-${VERSION}-${HOST_TARGET}.tar.gz`]);
    assertStringIncludes(result.stderr, `Installed ${binary}`);
  });
});

Deno.test("install.sh installs to ~/.local/bin when no prefix is given", async () => {
  await withRelease(async (dir, release) => {
    await using server = serveFolder(release);
    const result = await install(dir, [], { env: { DSPY_AGENT_BASE_URL: server.url } });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(await runBinary(`${dir}/.local/bin/dspy-agent`), `stub ${HOST_TARGET} version`);
    assertStringIncludes(result.stderr, `Add ${dir}/.local/bin to your PATH`);
  });
});

Deno.test("install.sh refuses a corrupted archive and leaves the installed binary alone", async () => {
  await withRelease(async (dir, release) => {
    const archive = `${release}/dspy-agent-${VERSION}-${HOST_TARGET}.tar.gz`;
    const bytes = await Deno.readFile(archive);
    bytes[bytes.length - 20] ^= 0xff; // one flipped byte, as a broken download would have
    await Deno.writeFile(archive, bytes);
    const previous = `${dir}/prefix/bin/dspy-agent`;
    await Deno.mkdir(`${dir}/prefix/bin`, { recursive: true });
    await Deno.writeTextFile(previous, "#!/bin/sh\necho previous\n", { mode: 0o755 });

    await using server = serveFolder(release);
    const result = await install(dir, ["--base-url", server.url, "--prefix", `${dir}/prefix`]);
    assertEquals(result.code, 1);
    assertMatch(
      result.stderr,
      new RegExp(
        `Cannot install dspy-agent: checksum mismatch for dspy-agent-${VERSION}-${HOST_TARGET}\\.tar\\.gz ` +
          `\\(SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}\\); .*nothing was installed`,
      ),
    );
    assertEquals(await runBinary(previous), "previous");
    assertEquals([...Deno.readDirSync(`${dir}/prefix/bin`)].map((entry) => entry.name), [
      "dspy-agent",
    ]);
  });
});

Deno.test("install.sh maps uname to the release target", async () => {
  const cases: [[string, string], Target][] = [
    [["Linux", "x86_64"], "x86_64-unknown-linux-gnu"],
    [["Linux", "aarch64"], "aarch64-unknown-linux-gnu"],
    [["Linux", "arm64"], "aarch64-unknown-linux-gnu"],
    [["Darwin", "x86_64"], "x86_64-apple-darwin"],
    [["Darwin", "arm64"], "aarch64-apple-darwin"],
  ];
  await withRelease(async (dir, release) => {
    await using server = serveFolder(release);
    for (const [uname, target] of cases) {
      const prefix = `${dir}/${uname.join("-")}`;
      const result = await install(dir, ["--base-url", server.url, "--prefix", prefix], { uname });
      assertEquals(result.code, 0, `${uname}: ${result.stderr}`);
      assertEquals(await runBinary(`${prefix}/bin/dspy-agent`), `stub ${target} version`);
    }
  });
});

Deno.test("install.sh explains machines it has no release for", async () => {
  await withRelease(async (dir, release) => {
    await using server = serveFolder(release);
    const args = ["--base-url", server.url, "--prefix", `${dir}/prefix`];
    const riscv = await install(dir, args, { uname: ["Linux", "riscv64"] });
    assertEquals(riscv.code, 1);
    assertStringIncludes(riscv.stderr, "no release for the riscv64 architecture");
    const windows = await install(dir, args, { uname: ["MINGW64_NT-10.0", "x86_64"] });
    assertEquals(windows.code, 1);
    assertStringIncludes(windows.stderr, "on Windows use scripts/install.ps1");
    assert(!(await exists(`${dir}/prefix`)));
  });
});

Deno.test("install.sh --version installs that version or says it is not listed", async () => {
  await withRelease(async (dir, release) => {
    await using server = serveFolder(release);
    const base = ["--base-url", server.url, "--prefix", `${dir}/prefix`];
    const listed = await install(dir, [...base, "--version", `v${VERSION}`]);
    assertEquals(listed.code, 0, listed.stderr);
    const missing = await install(dir, [...base, "--version", "9.9.9"]);
    assertEquals(missing.code, 1);
    assertStringIncludes(
      missing.stderr,
      `no archive for ${HOST_TARGET} (version 9.9.9) is listed in ${server.url}/SHA256SUMS`,
    );
    const unreachable = await install(dir, [...base, "--base-url", `${server.url}/nothing`]);
    assertEquals(unreachable.code, 1);
    assertStringIncludes(unreachable.stderr, `could not download ${server.url}/nothing/SHA256SUMS`);
  });
});

Deno.test({
  name: "install.sh --service installs the systemd unit and user for the installed binary",
  // Needs root, and must never enable a real unit on a machine that runs systemd.
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0 || existsSync("/run/systemd/system"),
  async fn() {
    await withRelease(async (dir, release) => {
      await using server = serveFolder(release);
      const env = { SYSTEMD_UNIT_DIR: `${dir}/units`, SYSUSERS_DIR: `${dir}/sysusers` };
      const prefix = `${dir}/usr-local`;
      const result = await install(dir, ["--base-url", server.url, "--prefix", prefix, "--service"], {
        env,
      });
      assertEquals(result.code, 0, result.stderr);
      const unit = await Deno.readTextFile(`${dir}/units/dspy-agent.service`);
      assertStringIncludes(unit, `ExecStart=${prefix}/bin/dspy-agent serve`);
      assertStringIncludes(await Deno.readTextFile(`${dir}/sysusers/dspy-agent.conf`), "u dspy-agent");
      const verify = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/units/dspy-agent.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(verify.code, 0, new TextDecoder().decode(verify.stderr));
      assertStringIncludes(result.stderr, "systemctl enable --now dspy-agent.service");

      const home = await install(dir, ["--base-url", server.url, "--prefix", "/home/someone/.local", "--service"], {
        env,
      });
      assertEquals(home.code, 1);
      assertStringIncludes(home.stderr, "ProtectHome= hides it; use --prefix /usr/local");
    });
  },
});

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
