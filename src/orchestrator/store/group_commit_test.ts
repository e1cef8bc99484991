import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { GroupCommit } from "./group_commit.ts";

/** A real SQLite file in a temp folder with one table, and a second connection that sees only committed rows. */
function openPair(): { db: DatabaseSync; reader: DatabaseSync; [Symbol.dispose](): void } {
  const dir = Deno.makeTempDirSync({ prefix: "group-commit-" });
  const db = new DatabaseSync(`${dir}/t.db`);
  db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER)");
  const reader = new DatabaseSync(`${dir}/t.db`);
  return {
    db,
    reader,
    [Symbol.dispose]() {
      reader.close();
      db.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

function committedRows(reader: DatabaseSync): number {
  return Number((reader.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n);
}

Deno.test("GroupCommit.write() joins the writes of one event-loop turn into one transaction", async () => {
  using pair = openPair();
  const errors: unknown[] = [];
  const commits = new GroupCommit(pair.db, (e) => errors.push(e));
  const insert = pair.db.prepare("INSERT INTO t (v) VALUES (?)");
  const heard: number[] = [];
  for (let i = 0; i < 5; i++) commits.write(() => insert.run(i), () => heard.push(i));
  // Nothing is visible to another connection, and no listener has heard, before the turn ends.
  assertEquals(committedRows(pair.reader), 0);
  assertEquals(heard, []);
  const before = commits.generation;
  await commits.flushed();
  assertEquals(committedRows(pair.reader), 5);
  assertEquals(heard, [0, 1, 2, 3, 4]);
  assertEquals(commits.generation, before + 1);
  assertEquals(errors, []);
});

Deno.test("GroupCommit.flushed() resolves at once when nothing is pending", async () => {
  using pair = openPair();
  const commits = new GroupCommit(pair.db, () => {});
  await commits.flushed();
  assertEquals(committedRows(pair.reader), 0);
});

Deno.test("GroupCommit.beforeCommit() runs inside the open batch, just before it commits", async () => {
  using pair = openPair();
  const commits = new GroupCommit(pair.db, () => {});
  const insert = pair.db.prepare("INSERT INTO t (v) VALUES (?)");
  // No batch is open yet: the caller must write now.
  assertEquals(commits.beforeCommit(() => insert.run(-1)), false);
  commits.write(() => insert.run(1));
  assert(commits.beforeCommit(() => insert.run(2)));
  await commits.flushed();
  const values = (pair.reader.prepare("SELECT v FROM t ORDER BY v").all() as { v: number }[]).map((r) => r.v);
  assertEquals(values, [1, 2]);
});

Deno.test("GroupCommit rolls back a batch whose commit fails, rejects its waiters and skips its listeners", async () => {
  using pair = openPair();
  const errors: unknown[] = [];
  const commits = new GroupCommit(pair.db, (e) => errors.push(e));
  const insert = pair.db.prepare("INSERT INTO t (v) VALUES (?)");
  const heard: number[] = [];
  commits.write(() => insert.run(1), () => heard.push(1));
  assert(commits.beforeCommit(() => {
    throw new Error("disk full");
  }));
  let rejected: unknown;
  await commits.flushed().catch((e) => rejected = e);
  assert(rejected instanceof Error && rejected.message === "disk full");
  assertEquals(errors.length, 1);
  assertEquals(heard, []);
  assertEquals(committedRows(pair.reader), 0);
  // The next batch starts clean and commits.
  commits.write(() => insert.run(2));
  await commits.flushed();
  assertEquals(committedRows(pair.reader), 1);
});

Deno.test("GroupCommit.write() inside a caller's transaction commits with it", async () => {
  using pair = openPair();
  const commits = new GroupCommit(pair.db, () => {});
  const insert = pair.db.prepare("INSERT INTO t (v) VALUES (?)");
  const heard: string[] = [];
  pair.db.exec("BEGIN");
  commits.write(() => insert.run(1), () => heard.push("after"));
  pair.db.exec("COMMIT");
  assertEquals(committedRows(pair.reader), 1);
  await commits.flushed();
  assertEquals(heard, ["after"]);
});
