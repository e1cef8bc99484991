import { assertEquals } from "../../../tests/support/assert.ts";
import { PullAggregator, type PullProgress } from "./pull_progress.ts";
import type { ProgressMessage } from "./engine.ts";

// The shape of a real `docker pull` stream (Engine API 1.41), two layers.
const MESSAGES: ProgressMessage[] = [
  { status: "Pulling from library/example", id: "1" },
  { status: "Pulling fs layer", id: "a", progressDetail: {} },
  { status: "Pulling fs layer", id: "b", progressDetail: {} },
  { status: "Downloading", id: "a", progressDetail: { current: 100, total: 1000 } },
  { status: "Downloading", id: "b", progressDetail: { current: 500, total: 3000 } },
  { status: "Downloading", id: "a", progressDetail: { current: 1000, total: 1000 } },
  { status: "Verifying Checksum", id: "a", progressDetail: {} },
  { status: "Download complete", id: "a", progressDetail: {} },
  { status: "Downloading", id: "b", progressDetail: { current: 3000, total: 3000 } },
  { status: "Download complete", id: "b", progressDetail: {} },
  { status: "Extracting", id: "a", progressDetail: { current: 500, total: 1000 } },
  { status: "Pull complete", id: "a", progressDetail: {} },
  { status: "Extracting", id: "b", progressDetail: { current: 3000, total: 3000 } },
  { status: "Pull complete", id: "b", progressDetail: {} },
  { status: "Digest: sha256:0123" },
  { status: "Status: Downloaded newer image for example:1" },
];

Deno.test("PullAggregator sums layers into downloading, then extracting, then complete", () => {
  const aggregator = new PullAggregator("example:1");
  const updates: PullProgress[] = MESSAGES.map((m) => aggregator.apply(m));
  const pick = (p: PullProgress) => [p.status, p.current, p.total, p.percent];
  assertEquals(pick(updates[3]), ["downloading", 100, 1000, 10]);
  assertEquals(pick(updates[4]), ["downloading", 600, 4000, 15]);
  assertEquals(pick(updates[8]), ["extracting", 0, 4000, 0]);
  assertEquals(pick(updates[10]), ["extracting", 500, 4000, 12]);
  assertEquals(pick(updates[11]), ["extracting", 1000, 4000, 25]);
  assertEquals(pick(updates[13]), ["extracting", 4000, 4000, 100]);
  assertEquals(updates[3].message, "a Downloading");
  const done = aggregator.complete();
  assertEquals(pick(done), ["complete", 4000, 4000, 100]);
  assertEquals(done.message, "Status: Downloaded newer image for example:1");
});

Deno.test("PullAggregator counts layers that already exist as done", () => {
  const aggregator = new PullAggregator("example:2");
  aggregator.apply({ status: "Already exists", id: "a" });
  const update = aggregator.apply({ status: "Downloading", id: "b", progressDetail: { current: 5, total: 10 } });
  assertEquals([update.status, update.current, update.total], ["downloading", 5, 10]);
});
