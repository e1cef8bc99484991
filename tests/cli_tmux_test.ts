/**
 * What a person sees: `dspy-agent start` in a real terminal (tmux) draws one
 * line per service with a spinner and elapsed time that ends in ✓, then
 * gives the prompt back.
 */

import { assert } from "./support/assert.ts";
import { buildBusyboxImage, ensureDockerEngine } from "./support/docker.ts";
import { cliCommand, freePort } from "./support/daemon.ts";
import { createCliEnv, projectToml, testProject, webService } from "./support/cli.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "start in a terminal shows a spinner line per service that ends in ✓, then returns",
  ignore: (await new Deno.Command("sh", { args: ["-c", "command -v tmux"], stdout: "null" }).output()).code !== 0,
  ...sanitize,
  async fn() {
    const engine = await ensureDockerEngine();
    const image = await buildBusyboxImage(engine);
    const project = testProject("x");
    await using cli = await createCliEnv({
      configToml: projectToml(project, webService("web", image, await freePort(), 3)),
    });
    const session = `dspy-agent-test-${crypto.randomUUID().slice(0, 8)}`;
    const { cmd, args } = cliCommand();
    const env = Object.entries(cli.env).filter(([k]) => k !== "NO_COLOR").map(([k, v]) => `export ${k}='${v}'`);
    const script = `${cli.home}/run.sh`;
    await Deno.writeTextFile(
      script,
      [
        ...env,
        "export TERM=xterm-256color",
        `${[cmd, ...args].map((a) => `'${a}'`).join(" ")} start`,
        'echo "EXIT=$?"',
        "sleep 120",
        "",
      ]
        .join("\n"),
    );
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "20", `sh ${script}`);
    try {
      let sawSpinner = false;
      let screen = "";
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        screen = await tmux("capture-pane", "-p", "-t", session);
        if (/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] web\s+\d/.test(screen)) sawSpinner = true;
        if (screen.includes("EXIT=")) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      assert(screen.includes("EXIT=0"), `start returned 0:\n${screen}`);
      assert(sawSpinner, "a spinner line for web was drawn while it started");
      assert(/✓ daemon\s+\S+\s+ready on/.test(screen), screen);
      assert(/✓ web\s+\d+(\.\d)?s\s+healthy/.test(screen), screen);
      assert(!/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(screen), `no spinner is left on the final screen:\n${screen}`);
      assert(
        screen.split("\n").filter((l) => l.includes(" web ")).length === 1,
        `one line for web (redrawn in place):\n${screen}`,
      );
    } finally {
      await tmux("kill-session", "-t", session).catch(() => "");
      await cli.run(["stop", "--remove", "--force"]);
    }
  },
});
