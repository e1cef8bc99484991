/**
 * Release notes from CHANGELOG.md.
 *
 * CHANGELOG.md follows Keep a Changelog: one `## [version] - date` section
 * per release. The notes of a release are that section's body.
 *
 * @module
 */

/** Raised when CHANGELOG.md has no section for a version. */
export class ChangelogError extends Error {
  /** The version looked for. */
  readonly version: string;

  /** Creates the error for a version. */
  constructor(version: string) {
    super(
      `Cannot write release notes for ${version}: CHANGELOG.md has no "## [${version}]" section`,
    );
    this.name = "ChangelogError";
    this.version = version;
  }
}

/** Returns the body of the `## [version]` (or `## version`) section, trimmed. */
export function releaseNotes(changelog: string, version: string): string {
  const lines = changelog.split("\n");
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const heading = new RegExp(`^##\\s+\\[?v?${escaped}\\]?(\\s|$)`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start === -1) throw new ChangelogError(version);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^##\s/.test(line) || /^\[[^\]]+\]:\s/.test(line));
  const body = (end === -1 ? rest : rest.slice(0, end)).join("\n").trim();
  if (body === "") throw new ChangelogError(version);
  return body;
}
