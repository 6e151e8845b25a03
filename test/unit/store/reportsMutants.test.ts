import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { StoredReport } from "../../../src/model/reports.js";
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

function report(id: number, overrides: Partial<StoredReport> = {}): StoredReport {
  return { id, homeserverId: id, receivedTs: 1000 + id, roomId: "!r:x", eventId: `$e${id}`, reporter: "@rep:x", state: "open", changedAt: 5, deletedOnHomeserver: false, ...overrides };
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
    store.take({ reports: [full], cursor: { newestTs: 1 } });

    expect(store.get(1)).toEqual(full);
  });

  it("knows which reports it holds", () => {
    const { store } = open();
    store.take({ reports: [report(1)], cursor: { newestTs: 1 } });

    expect(store.knows(report(1))).toBe(true);
    expect(store.knows(report(2))).toBe(false);
  });

  it("an update that changes nothing gives the report back as it was", () => {
    const { store } = open();
    store.take({ reports: [report(1, { reason: "spam" })], cursor: { newestTs: 1 } });

    expect(store.update(1, {})).toEqual(report(1, { reason: "spam" }));
  });

  it("lists reports filtered by state and room together", () => {
    const { store } = open();
    store.take({ reports: [report(1), report(2, { roomId: "!o:x" }), report(3, { roomId: "!o:x", state: "resolved" })], cursor: { newestTs: 3 } });

    expect(store.list({ includeResolved: false, roomId: "!o:x" }, 0, 10)).toMatchObject({ total: 1, reports: [{ id: 2 }] });
  });

  it("a write that fails names what could not be recorded", () => {
    const { store, database } = open();
    store.take({ reports: [report(1)], cursor: { newestTs: 1 } });
    database.close();

    expect(() => {
      store.take({ reports: [report(2), report(3)], cursor: { newestTs: 3 } });
    }).toThrow(/^could not record 2 new event report\(s\): /);
    expect(() => store.update(1, { state: "resolved" })).toThrow(/^could not record event report 1: /);
    expect(() => {
      store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [1], lastTs: 1001 });
    }).toThrow(/^could not record the digest of sender @s:x: /);
  });
});
