import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { eventReportRef as ev, userReportRef as user } from "../../../src/model/reports.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { MIGRATIONS } from "../../../src/store/migrations.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { freshDirectory } from "./storeTestKit.js";

// The migration that adds reports about users: found by what it does, so that renumbering it
// (when another branch adds a migration first) leaves this test as it is.
const INDEX = MIGRATIONS.findIndex((migration) => migration.description.startsWith("reports about users beside event reports"));

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function directory(): string {
  const made = freshDirectory();
  directories.push(made);
  return made;
}

/** A database left just before the migration, filled by `fill` with rows as the older Warden wrote them. */
function upgradedFrom(fill: (database: WardenDatabase) => void): { store: SqliteReportStore; database: WardenDatabase } {
  const at = directory();
  const before = WardenDatabase.open(at, MIGRATIONS.slice(0, INDEX));
  fill(before);
  before.close();
  const database = WardenDatabase.open(at);
  return { store: new SqliteReportStore(database), database };
}

function oldReport(database: WardenDatabase, id: number, homeserverId: number, receivedTs: number, extra = ""): void {
  database
    .statement(
      `INSERT INTO reports (id, homeserver_id, received_ts, room_id, room_name, event_id, reporter, sender, reason, score, state, card_event_id, digest_key, changed_at, changed_by, resolution, deleted_on_homeserver) VALUES (?, ?, ?, '!r:x', 'Lobby', ?, '@rep:x', '@s:x', 'spam', -3, 'resolved', ?, ?, 9, '@mod:x', 'dismissed', 1)`,
    )
    .run(id, homeserverId, receivedTs, `$e${id}`, `$card${id}`, extra === "" ? null : extra);
}

describe("the migration to reports about users", () => {
  it("exists, after the one that made reports known by more than their id", () => {
    const identity = MIGRATIONS.findIndex((migration) => migration.description.startsWith("event reports known by more than their id"));
    expect(INDEX).toBeGreaterThan(identity);
  });

  it("keeps every event report with its number and fields, its cursor with its gap, its digests and unreadable entries", () => {
    const gap = JSON.stringify({ fromTs: 1, toTs: 9, top: { homeserverId: 4, eventId: "$e4", reporter: "@rep:x", receivedTs: 9 }, offset: 12, countOlder: false });
    const { store } = upgradedFrom((database) => {
      oldReport(database, 4, 4, 4_000, "room !r:x");
      oldReport(database, 9, 4, 9_000);
      database.statement("INSERT INTO report_cursor (only, newest_ts, gap) VALUES (1, 9000, ?)").run(gap);
      database.statement("INSERT INTO report_digests (key, kind, subject, report_ids, last_ts, card_event_id) VALUES ('room !r:x', 'room', '!r:x', '[4]', 4000, '$digest')").run();
      database.statement("INSERT INTO report_unreadable (key, homeserver_id, problem) VALUES ('k', 3, 'event_id: bad')").run();
    });

    expect(store.get(ev(4))).toEqual({
      kind: "event",
      id: 4,
      homeserverId: 4,
      receivedTs: 4_000,
      roomId: "!r:x",
      roomName: "Lobby",
      eventId: "$e4",
      reporter: "@rep:x",
      sender: "@s:x",
      reason: "spam",
      score: -3,
      state: "resolved",
      cardEventId: "$card4",
      digestKey: "room !r:x",
      changedAt: 9,
      changedBy: "@mod:x",
      resolution: "dismissed",
      deletedOnHomeserver: true,
    });
    expect(store.withHomeserverId("event", 4).map((report) => report.id)).toEqual([4, 9]);
    expect(store.cursor("event")).toEqual({ newestTs: 9_000, gap: { fromTs: 1, toTs: 9, top: { kind: "event", homeserverId: 4, eventId: "$e4", reporter: "@rep:x", receivedTs: 9 }, offset: 12, countOlder: false } });
    expect(store.cursor("user")).toBeUndefined();
    expect(store.digest("room !r:x")).toMatchObject({ reportIds: [ev(4)], cardEventId: "$digest" });
    expect(store.unnamed()).toEqual([{ kind: "event", key: "k", homeserverId: 3, problem: "event_id: bad" }]);
    expect(store.knows({ kind: "event", homeserverId: 4, eventId: "$e9", reporter: "@rep:x", receivedTs: 9_000 })).toBe(true);
  });

  it("numbers the first report about a user from its homeserver id whatever event reports hold that number, and refuses a second copy of a report", () => {
    const { store, database } = upgradedFrom((database) => {
      oldReport(database, 1, 1, 1_000);
    });
    const taken = store.take("user", { reports: [{ kind: "user", homeserverId: 1, receivedTs: 5, target: "@bad:x", reporter: "@rep:x", state: "open", changedAt: 5, deletedOnHomeserver: false }], cursor: { newestTs: 5 } });
    expect(taken.reports.map((report) => [report.kind, report.id])).toEqual([["user", 1]]);
    expect(store.get(user(1))).toMatchObject({ target: "@bad:x" });
    expect(() =>
      database
        .statement("INSERT INTO reports (kind, id, homeserver_id, received_ts, target, reporter, state, changed_at) VALUES ('user', 2, 1, 5, '@bad:x', '@rep:x', 'open', 5)")
        .run(),
    ).toThrow(/UNIQUE/);
    expect(() => database.statement("INSERT INTO reports (kind, id, homeserver_id, received_ts, reporter, state, changed_at) VALUES ('user', 3, 1, 5, '@rep:x', 'open', 5)").run()).toThrow(/CHECK/);
  });

  it("leaves no cursor where there was none (the next start is a first start for both lists)", () => {
    const { store } = upgradedFrom(() => undefined);
    expect(store.cursor("event")).toBeUndefined();
    expect(store.cursor("user")).toBeUndefined();
  });
});

describe("SqliteReportStore across a reopen", () => {
  it("keeps reports about users, digests holding both kinds and notices", () => {
    const at = directory();
    const first = WardenDatabase.open(at);
    const store = new SqliteReportStore(first);
    store.take("user", { reports: [{ kind: "user", homeserverId: 2, receivedTs: 5, target: "@bad:x", reporter: "@rep:x", state: "open", changedAt: 5, deletedOnHomeserver: false }], cursor: { newestTs: 5 } });
    store.saveDigest({ key: "sender @bad:x", kind: "sender", subject: "@bad:x", reportIds: [ev(7), user(2)], lastTs: 5, cardEventId: "$d" });
    store.markNotice("user-reports-unavailable", true);
    first.close();

    const reopened = new SqliteReportStore(WardenDatabase.open(at));
    expect(reopened.get(user(2))).toMatchObject({ kind: "user", target: "@bad:x" });
    expect(reopened.digest("sender @bad:x")?.reportIds).toEqual([ev(7), user(2)]);
    expect(reopened.noticePosted("user-reports-unavailable")).toBe(true);
    expect(reopened.cursor("user")).toEqual({ newestTs: 5 });
  });
});
