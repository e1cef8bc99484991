/**
 * The service definitions in deploy/: the systemd unit passes
 * `systemd-analyze verify`, its readiness check really waits for GET /health,
 * its sysusers file creates the dedicated user in the docker group, and the
 * launchd plist is a valid property list that runs `dspy-agent serve`
 * .
 */
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { type CommandResult, runCommand } from "./support/run.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const UNIT = `${ROOT}deploy/systemd/dspy-agent.service`;
const SYSUSERS = `${ROOT}deploy/systemd/dspy-agent.sysusers`;
const PLIST = `${ROOT}deploy/launchd/dev.dspy-agent.plist`;

function run(command: string, args: string[], env?: Record<string, string>): Promise<CommandResult> {
  return runCommand(command, args, { env, timeoutMs: 60_000 });
}

/** Parses a unit file into "Section.Key" -> values (a key may repeat). */
function parseUnit(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = "";
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const header = trimmed.match(/^\[(\w+)\]$/);
    if (header) {
      section = header[1];
      continue;
    }
    const equals = trimmed.indexOf("=");
    const key = `${section}.${trimmed.slice(0, equals)}`;
    entries.set(key, [...(entries.get(key) ?? []), trimmed.slice(equals + 1)]);
  }
  return entries;
}

/** Copies the unit into a temp folder with ExecStart pointing at a stub binary there. */
async function unitWithStub(dir: string, unitText: string): Promise<string> {
  const stub = `${dir}/dspy-agent`;
  await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const path = `${dir}/dspy-agent.service`;
  await Deno.writeTextFile(
    path,
    unitText.replaceAll("/usr/local/bin/dspy-agent", stub),
  );
  return path;
}

Deno.test("systemd-analyze verify accepts the dspy-agent unit without warnings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dist-systemd-" });
  try {
    const unit = await unitWithStub(dir, await Deno.readTextFile(UNIT));
    const result = await run("systemd-analyze", ["verify", unit]);
    assertEquals(result.code, 0, result.stderr);
    const aboutUnit = `${result.stdout}${result.stderr}`.split("\n")
      .filter((line) => line.includes("dspy-agent"));
    assertEquals(aboutUnit, [], "systemd-analyze warned about the unit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("systemd-analyze verify rejects the unit when its binary is missing", async () => {
  // Shows the check above can fail: verify really inspects ExecStart.
  const dir = await Deno.makeTempDir({ prefix: "dist-systemd-" });
  try {
    const text = (await Deno.readTextFile(UNIT))
      .replaceAll("/usr/local/bin/dspy-agent", `${dir}/missing/dspy-agent`);
    await Deno.writeTextFile(`${dir}/dspy-agent.service`, text);
    const result = await run("systemd-analyze", [
      "verify",
      `${dir}/dspy-agent.service`,
    ]);
    assert(result.code !== 0);
    assertMatch(result.stderr, /is not executable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the systemd unit runs `dspy-agent serve` as an unprivileged, sandboxed user", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const one = (key: string) => unit.get(key)?.at(-1);
  assertEquals(one("Service.ExecStart"), "/usr/local/bin/dspy-agent serve");
  assertEquals(one("Service.User"), "dspy-agent");
  assertEquals(one("Service.SupplementaryGroups"), "docker");
  assertEquals(one("Service.StateDirectory"), "dspy-agent");
  assert(
    unit.get("Service.Environment")?.includes(
      "DSPY_AGENT_HOME=/var/lib/dspy-agent",
    ),
  );
  assertEquals(one("Service.NoNewPrivileges"), "yes");
  assertEquals(one("Service.ProtectSystem"), "strict");
  assertEquals(one("Service.ProtectHome"), "yes");
  assertEquals(one("Service.PrivateTmp"), "yes");
  assertEquals(one("Service.Restart"), "on-failure");
  assert(one("Service.RestartSec"));
  assert(one("Unit.StartLimitIntervalSec") && one("Unit.StartLimitBurst"));
  assertEquals(one("Service.KillSignal"), "SIGTERM");
  assertMatch(one("Unit.After") ?? "", /\bdocker\.service\b/);
  assertMatch(one("Unit.Wants") ?? "", /\bdocker\.service\b/);
  // V8 needs writable+executable memory for its JIT.
  assertEquals(unit.get("Service.MemoryDenyWriteExecute"), undefined);
});

/** The ExecStartPost script as bash receives it, for a port and a number of tries. */
async function readinessScript(port: number, tries: number): Promise<string> {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const line = unit.get("Service.ExecStartPost")?.[0] ?? "";
  const quoted = line.match(/^\/bin\/bash -c '(.*)'$/);
  assert(quoted, `ExecStartPost is not "/bin/bash -c '...'": ${line}`);
  // systemd turns "$$" into "$" and unescapes C-style "\\" (systemd.service(5)).
  const script = quoted[1].replaceAll("$$", "$").replaceAll("\\\\", "\\");
  assertMatch(script, /port=9097; tries=60;/);
  return script.replace(
    "port=9097; tries=60;",
    `port=${port}; tries=${tries};`,
  );
}

Deno.test("the unit's readiness check passes once GET /health answers 200", async () => {
  const paths: string[] = [];
  await using server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (request) => {
    paths.push(new URL(request.url).pathname);
    return Response.json({ status: "ok" });
  });
  const result = await run("/bin/bash", [
    "-c",
    await readinessScript(server.addr.port, 5),
  ]);
  assertEquals(result.code, 0, result.stderr);
  assertEquals(paths, ["/health"]);
});

Deno.test("the unit's readiness check fails when /health never answers 200", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("starting", { status: 503 }),
  );
  const result = await run("/bin/bash", [
    "-c",
    await readinessScript(server.addr.port, 2),
  ]);
  assertEquals(result.code, 1);
  assertMatch(
    result.stderr,
    /did not answer GET \/health on 127\.0\.0\.1:\d+ within 2 s/,
  );
});

Deno.test("the unit's readiness check waits for a real `dspy-agent serve`, which stops cleanly on SIGTERM", async () => {
  const home = await Deno.makeTempDir({ prefix: "dist-systemd-serve-" });
  const ports = [0, 0].map(() => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    listener.close();
    return (listener.addr as Deno.NetAddr).port;
  });
  const daemon = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=dspy-agent", "--no-prompt", `${ROOT}src/main.ts`, "serve"],
    cwd: ROOT,
    env: {
      NO_COLOR: "1",
      DSPY_AGENT_HOME: home,
      ORCHESTRATOR_GRPC_ADDR: `127.0.0.1:${ports[0]}`,
      ORCHESTRATOR_HTTP_ADDR: `127.0.0.1:${ports[1]}`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = daemon.output();
  try {
    // Started together with the daemon, as systemd runs ExecStartPost= right after ExecStart=.
    const ready = await run("/bin/bash", ["-c", await readinessScript(ports[1], 60)]);
    assertEquals(ready.code, 0, ready.stderr);
  } finally {
    daemon.kill("SIGTERM");
    const stopped = await output;
    await Deno.remove(home, { recursive: true });
    assertEquals(stopped.code, 0, new TextDecoder().decode(stopped.stderr));
  }
});

Deno.test("the sysusers file creates user dspy-agent in the docker group", async () => {
  const root = await Deno.makeTempDir({ prefix: "dist-sysusers-" });
  try {
    await Deno.mkdir(`${root}/etc`);
    for (const file of ["passwd", "shadow", "gshadow"]) {
      await Deno.writeTextFile(`${root}/etc/${file}`, "");
    }
    await Deno.writeTextFile(`${root}/etc/group`, "docker:x:998:\n");
    const result = await run("systemd-sysusers", [`--root=${root}`, SYSUSERS]);
    assertEquals(result.code, 0, result.stderr);
    const passwd = await Deno.readTextFile(`${root}/etc/passwd`);
    assertMatch(
      passwd,
      /^dspy-agent:x:\d+:\d+:[^:]*:\/var\/lib\/dspy-agent:\/usr\/sbin\/nologin$/m,
    );
    assertMatch(
      await Deno.readTextFile(`${root}/etc/group`),
      /^docker:x:998:dspy-agent$/m,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the launchd plist is a valid property list running `dspy-agent serve`", async () => {
  const code = "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))";
  const result = await run("/usr/bin/python3", ["-c", code, PLIST]);
  assertEquals(result.code, 0, result.stderr);
  const plist = JSON.parse(result.stdout);
  assertEquals(plist.Label, "dev.dspy-agent");
  assertEquals(plist.ProgramArguments, ["@BIN@/dspy-agent", "serve"]);
  assertEquals(plist.KeepAlive, { SuccessfulExit: false });
  assertEquals(
    plist.EnvironmentVariables.DSPY_AGENT_HOME,
    "@HOME@/.dspy-agent",
  );
});
