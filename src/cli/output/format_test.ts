import { assertEquals } from "../../../tests/support/assert.ts";
import { formatBytes, formatDuration, parseSeconds, parseSince } from "./format.ts";
import { renderTable } from "./table.ts";
import { createColors, stripAnsi } from "./colors.ts";

Deno.test("formatDuration() and formatBytes() give short human forms", () => {
  assertEquals([850, 4200, 185_000, 8_040_000].map(formatDuration), ["850ms", "4.2s", "3m 05s", "2h 14m"]);
  assertEquals([512, 3.1 * 1024 * 1024, 1024 ** 3].map(formatBytes), ["512B", "3.1MiB", "1.0GiB"]);
});

Deno.test("parseSince() reads relative, unix and ISO times; parseSeconds() reads durations", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  assertEquals(parseSince("10m", now), now / 1000 - 600);
  assertEquals(parseSince("1700000000", now), 1700000000);
  assertEquals(parseSince("2026-01-01T11:00:00Z", now), now / 1000 - 3600);
  assertEquals(parseSince("yesterday-ish", now), undefined);
  assertEquals([parseSeconds("30"), parseSeconds("2m"), parseSeconds("1h"), parseSeconds("x")], [
    30,
    120,
    3600,
    undefined,
  ]);
});

Deno.test("renderTable() aligns columns by visible width, ignoring colour codes", () => {
  const c = createColors({ isTerminal: true, env: {} });
  const lines = renderTable(["NAME", "STATE"], [[c.green("web"), "running"], ["redis-long", "stopped"]]);
  assertEquals(lines.map(stripAnsi), ["NAME        STATE", "web         running", "redis-long  stopped"]);
});

Deno.test("createColors() is off for NO_COLOR, --no-color and non-terminals, on for FORCE_COLOR", () => {
  assertEquals(createColors({ isTerminal: true, env: { NO_COLOR: "1" } }).enabled, false);
  assertEquals(createColors({ isTerminal: true, env: {}, noColor: true }).enabled, false);
  assertEquals(createColors({ isTerminal: false, env: {} }).enabled, false);
  assertEquals(createColors({ isTerminal: false, env: { FORCE_COLOR: "1" } }).enabled, true);
  assertEquals(createColors({ isTerminal: true, env: {} }).red("x"), "\x1b[31mx\x1b[39m");
});
