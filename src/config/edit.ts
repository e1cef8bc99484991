/**
 * `config set`: changes one key of config.toml in place, keeping the user's comments and layout.
 *
 * @module
 */
import { stringify } from "smol-toml";
import { checkConfigText } from "./load.ts";
import { ConfigErrors } from "./errors.ts";

/**
 * Returns config-file text with one dotted key set to a value, keeping every
 * other line (and comment) as it was. Values are TOML literals (`true`, `5`,
 * `"text"`); a bare word is taken as a string. Throws when the result is invalid.
 */
export function setConfigValue(
  text: string,
  key: string,
  value: string,
  file = "config.toml",
): string {
  const path = key.split(".");
  const literal = toTomlLiteral(value);
  const table = path.slice(0, -1).join(".");
  const leaf = path[path.length - 1];
  const lines = text.split("\n");
  let current = "";
  let insertAt = table === "" ? firstTableLine(lines) : -1;
  for (let i = 0; i < lines.length; i++) {
    const header = lines[i].trim().match(/^\[([^\]]+)\]$/);
    if (header) {
      if (current === table && insertAt === -1) insertAt = i;
      current = header[1].trim();
      continue;
    }
    const m = lines[i].match(/^\s*([A-Za-z0-9_-]+)\s*=/);
    if (m && current === table && m[1] === leaf) {
      lines[i] = `${leaf} = ${literal}`;
      return checked(lines.join("\n"), file);
    }
  }
  if (insertAt === -1 && current === table) insertAt = lines.length;
  if (insertAt === -1) {
    lines.push("", `[${table}]`, `${leaf} = ${literal}`);
  } else {
    lines.splice(insertAt, 0, `${leaf} = ${literal}`);
  }
  return checked(lines.join("\n"), file);
}

function firstTableLine(lines: string[]): number {
  const i = lines.findIndex((l) => /^\s*\[/.test(l));
  return i === -1 ? lines.length : i;
}

function toTomlLiteral(value: string): string {
  if (/^(true|false|-?\d+(\.\d+)?)$/.test(value) || /^["'[{]/.test(value)) {
    return value;
  }
  return stringify({ v: value }).slice(4).trim();
}

function checked(text: string, file: string): string {
  const errors = checkConfigText(text, file);
  if (errors.length > 0) throw new ConfigErrors(errors);
  return text;
}
