/**
 * `dspy-agent completions bash|zsh|fish`: completion scripts generated from
 * the command table, so they never fall behind the commands.
 *
 * @module
 */

import { COMMANDS, GLOBAL_OPTIONS } from "../commands.ts";
import type { CommandContext } from "../context.ts";
import { ExitCode, UsageError } from "../errors.ts";

/** Runs `completions SHELL`. */
export function run(ctx: CommandContext): Promise<number> {
  const shell = ctx.positionals[0];
  const script = shell === "bash" ? bash() : shell === "zsh" ? zsh() : shell === "fish" ? fish() : undefined;
  if (!script) {
    throw new UsageError(`Unknown shell "${shell ?? ""}": use bash, zsh or fish`, { command: "completions" });
  }
  ctx.output.write(script);
  return Promise.resolve(ExitCode.ok);
}

function flagsOf(name: string): string[] {
  const command = COMMANDS.find((c) => c.name === name)!;
  return Object.entries({ ...GLOBAL_OPTIONS, ...command.options }).flatMap((
    [long, o],
  ) => [`--${long}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** The bash script (`source <(dspy-agent completions bash)`). */
export function bash(): string {
  const cases = COMMANDS.map((c) =>
    `    ${c.name}) words="${[...(c.subcommands ?? []), ...flagsOf(c.name)].join(" ")}" ;;`
  ).join("\n");
  return `# bash completion for dspy-agent; add to ~/.bashrc: source <(dspy-agent completions bash)
_dspy_agent() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  case "$cmd" in
    "") words="${COMMANDS.map((c) => c.name).join(" ")} --help --version" ;;
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _dspy_agent dspy-agent
`;
}

/** The zsh script (`dspy-agent completions zsh > "\${fpath[1]}/_dspy-agent"`). */
export function zsh(): string {
  const commands = COMMANDS.map((c) => `    '${c.name}:${c.summary.replace(/'/g, "")}'`).join("\n");
  const cases = COMMANDS.map((c) =>
    `    ${c.name}) _values 'argument' ${
      [...(c.subcommands ?? []), ...flagsOf(c.name)].map((w) => `'${w}'`).join(" ") || "''"
    } ;;`
  )
    .join("\n");
  return `#compdef dspy-agent
# zsh completion for dspy-agent; install: dspy-agent completions zsh > "\${fpath[1]}/_dspy-agent"
_dspy_agent() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
}
compdef _dspy_agent dspy-agent
`;
}

/** The fish script (`dspy-agent completions fish > ~/.config/fish/completions/dspy-agent.fish`). */
export function fish(): string {
  const lines = ["# fish completion for dspy-agent", "complete -c dspy-agent -f"];
  const names = COMMANDS.map((c) => c.name).join(" ");
  for (const c of COMMANDS) {
    lines.push(
      `complete -c dspy-agent -n "not __fish_seen_subcommand_from ${names}" -a ${c.name} -d '${
        c.summary.replace(/'/g, "")
      }'`,
    );
    for (const sub of c.subcommands ?? []) {
      lines.push(`complete -c dspy-agent -n "__fish_seen_subcommand_from ${c.name}" -a ${sub}`);
    }
    for (const [long, o] of Object.entries(c.options)) {
      lines.push(
        `complete -c dspy-agent -n "__fish_seen_subcommand_from ${c.name}" -l ${long}${
          o.short ? ` -s ${o.short}` : ""
        } -d '${o.help.replace(/'/g, "")}'`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
