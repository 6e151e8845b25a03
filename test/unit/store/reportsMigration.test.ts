import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { MIGRATIONS } from "../../../src/store/migrations.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { eventReportRef as ev } from "../../../src/model/reports.js";
import { freshDirectory } from "./storeTestKit.js";

// The migration that makes reports known by more than their id: found by what it does, so that
// renumbering it (when another branch adds a migration first) leaves this test as it is.
const INDEX = MIGRATIONS.findIndex((migration) => migration.description.startsWith("event reports known by more than their id"));

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A database left just before the migration, filled by `fill` with rows as the older Warden wrote them. */
function upgradedFrom(fill: (database: WardenDatabase) => void): SqliteReportStore {
  const directory = freshDirectory();
  directories.push(directory);
  const before = WardenDatabase.open(directory, MIGRATIONS.slice(0, INDEX));
  fill(before);
  before.close();
  return new SqliteReportStore(WardenDatabase.open(directory));
}

function oldReport(database: WardenDatabase, id: number, receivedTs: number): void {
  database
    .statement("INSERT INTO reports (id, received_ts, room_id, event_id, reporter, state, changed_at, card_event_id) VALUES (?, ?, '!r:x', ?, '@rep:x', 'open', 1, ?)")
    .run(id, receivedTs, `$e${id}`, `$card${id}`);
}

describe("the migration to reports known by more than their id", () => {
  it("exists", () => {
    expect(INDEX).toBeGreaterThan(0);
  });

  it("keeps each report's number as its homeserver id, and turns the cursor into the newest received time taken", () => {
    const store = upgradedFrom((database) => {
      oldReport(database, 4, 4_000);
      oldReport(database, 9, 9_000);
      oldReport(database, 7, 7_000);
      database.statement("INSERT INTO report_cursor (only, high_water, floor) VALUES (1, 9, 2)").run();
    });

    expect(store.get(ev(9))).toMatchObject({ id: 9, homeserverId: 9, eventId: "$e9", cardEventId: "$card9" });
    expect(store.withHomeserverId("event", 4).map((report) => report.id)).toEqual([4]);
    expect(store.knows({ kind: "event", homeserverId: 7, eventId: "$e7", reporter: "@rep:x", receivedTs: 7_000 })).toBe(true);
    expect(store.cursor("event")).toEqual({ newestTs: 9_000 });
    // Numbering goes on: the homeserver's id 9 again (after a restart) is a new report, number 10.
    expect(store.take("event", { reports: [{ kind: "event", homeserverId: 9, receivedTs: 10_000, roomId: "!r:x", eventId: "$new", reporter: "@rep:x", state: "open", changedAt: 2, deletedOnHomeserver: false }], cursor: { newestTs: 10_000 } }).reports.map((report) => report.id)).toEqual([10]);
  });

  it("drops a cursor with no report taken (the next start counts as the first), and leaves none where there was none", () => {
    expect(
      upgradedFrom((database) => {
        database.statement("INSERT INTO report_cursor (only, high_water, floor) VALUES (1, 30, 30)").run();
      }).cursor("event"),
    ).toBeUndefined();
    expect(upgradedFrom(() => undefined).cursor("event")).toBeUndefined();
  });
});
