/** A problem in the configuration, located as precisely as known. */
export class ConfigError extends Error {
  /** The file the problem is in, if it came from a file. */
  readonly file?: string;
  /** The 1-based line in that file, if known. */
  readonly line?: number;
  /** The dotted key, if the problem is about one key. */
  readonly key?: string;
  /** What is wrong, without the location. */
  readonly detail: string;

  /** Creates the error; the message reads `Invalid config "FILE" line N, key "K": detail`. */
  constructor(
    detail: string,
    where: { file?: string; line?: number; key?: string } = {},
    options?: ErrorOptions,
  ) {
    super(formatConfigError(detail, where), options);
    this.name = "ConfigError";
    this.file = where.file;
    this.line = where.line;
    this.key = where.key;
    this.detail = detail;
  }
}

/** Several configuration problems found at once. */
export class ConfigErrors extends Error {
  /** Every problem found. */
  readonly errors: ConfigError[];

  /** Creates the error from one or more problems. */
  constructor(errors: ConfigError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ConfigErrors";
    this.errors = errors;
  }
}

function formatConfigError(
  detail: string,
  where: { file?: string; line?: number; key?: string },
): string {
  const parts: string[] = [];
  if (where.file) parts.push(`"${where.file}"`);
  if (where.line) parts.push(`line ${where.line}`);
  if (where.key) parts.push(`key "${where.key}"`);
  return parts.length > 0 ? `Invalid config ${parts.join(", ")}: ${detail}` : `Invalid config: ${detail}`;
}
