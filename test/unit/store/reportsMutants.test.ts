import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { eventReportRef as ev, type StoredEventReport } from "../../../src/model/reports.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { freshDirectory } from "./storeTestKit.js";

// What the mutation run found unpinned in the SQLite report store: fields that only a full
// round trip shows, the empty update, a list filtered two ways, and what a failed write names.

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function open(): { store: SqliteReportStore; database: WardenDatabase } {
  const directory = freshDirectory();
  directories.push(directory);
  const database = WardenDatabase.open(directory);
  return { store: new SqliteReportStore(database), database };
}

function report(id: number, overrides: Partial<StoredEventReport> = {}): StoredEventReport {
  return { kind: "event", id, homeserverId: id, receivedTs: 1000 + id, roomId: "!r:x", eventId: `$e${id}`, reporter: "@rep:x", state: "open", changedAt: 5, deletedOnHomeserver: false, ...overrides };
}

describe("SqliteReportStore: what the mutation run found", () => {
  it("gives back every field a report was stored with", () => {
    const { store } = open();
    const full = report(1, {
      roomName: "Lobby",
      canonicalAlias: "#lobby:x",
      sender: "@s:x",
      reason: "spam",
      score: -100,
      cardEventId: "$card",
      digestKey: "sender @s:x",
      changedBy: "@mod:x",
      resolution: "dismissed",
      state: "resolved",
      deletedOnHomeserver: true,
    });
    store.take("event", { reports: [full], cursor: { newestTs: 1 } });

    expect(store.get(ev(1))).toEqual(full);
  });

  it("knows which reports it holds", () => {
    const { store } = open();
    store.take("event", { reports: [report(1)], cursor: { newestTs: 1 } });

    expect(store.knows(report(1))).toBe(true);
    expect(store.knows(report(2))).toBe(false);
  });

  it("an update that changes nothing gives the report back as it was", () => {
    const { store } = open();
    store.take("event", { reports: [report(1, { reason: "spam" })], cursor: { newestTs: 1 } });

    expect(store.update(ev(1), {})).toEqual(report(1, { reason: "spam" }));
  });

  it("lists reports filtered by state and room together", () => {
    const { store } = open();
    store.take("event", { reports: [report(1), report(2, { roomId: "!o:x" }), report(3, { roomId: "!o:x", state: "resolved" })], cursor: { newestTs: 3 } });

    expect(store.list({ includeResolved: false, roomId: "!o:x" }, 0, 10)).toMatchObject({ total: 1, reports: [{ id: 2 }] });
  });

  it("a write that fails names what could not be recorded", () => {
    const { store, database } = open();
    store.take("event", { reports: [report(1)], cursor: { newestTs: 1 } });
    database.close();

    expect(() => {
      store.take("event", { reports: [report(2), report(3)], cursor: { newestTs: 3 } });
    }).toThrow(/^could not record 2 new event report\(s\): /);
    expect(() => store.update(ev(1), { state: "resolved" })).toThrow(/^could not record event report 1: /);
    expect(() => {
      store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [ev(1)], lastTs: 1001 });
    }).toThrow(/^could not record the digest of sender @s:x: /);
  });

  it("keeps a gap's last report read, and drops a gap that does not read rather than stopping the polls", () => {
    const { store, database } = open();
    const gap = { fromTs: 1, toTs: 9, top: { kind: "event" as const, homeserverId: 4, eventId: "$e4", reporter: "@rep:x", receivedTs: 9 }, offset: 12, countOlder: false };
    store.take("event", { reports: [], cursor: { newestTs: 20, gap } });
    expect(store.cursor("event")).toEqual({ newestTs: 20, gap });

    for (const broken of ["not json", JSON.stringify({ ...gap, offset: "twelve" }), "null"]) {
      database.statement("UPDATE report_cursor SET gap = ?").run(broken);
      expect(store.cursor("event")).toEqual({ newestTs: 20 });
    }
  });

  it("marks unreadable entries named only by their keys, and a write that fails names what could not be recorded", () => {
    const { store, database } = open();
    store.take("event", { reports: [], cursor: { newestTs: 1 }, unreadable: [{ kind: "event", key: "a", problem: "p" }, { kind: "event", key: "b", homeserverId: 2, problem: "q" }, { kind: "event", key: "c", problem: "r" }] });
    store.markNamed(["a", "c"], "$notice");
    expect(store.unnamed()).toEqual([{ kind: "event", key: "b", homeserverId: 2, problem: "q" }]);
    expect(database.statement("SELECT key, named_event_id FROM report_unreadable ORDER BY key").all()).toEqual([
      { key: "a", named_event_id: "$notice" },
      { key: "b", named_event_id: null },
      { key: "c", named_event_id: "$notice" },
    ]);
    database.close();
    expect(() => {
      store.markNamed(["b"], "$again");
    }).toThrow(/^could not record 1 unreadable report\(s\) named: /);
  });
});
