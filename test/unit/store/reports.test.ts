import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { StoredReport } from "../../../src/model/reports.js";
import type { ReportStore } from "../../../src/reports/store.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import { freshDirectory } from "./storeTestKit.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function report(id: number, overrides: Partial<StoredReport> = {}): StoredReport {
  return { id, receivedTs: 1000 + id, roomId: "!r:x", eventId: `$e${id}`, reporter: "@rep:x", sender: "@s:x", state: "open", changedAt: 5, deletedOnHomeserver: false, ...overrides };
}

const makers: [string, () => ReportStore][] = [
  ["memory", () => new MemoryReportStore()],
  [
    "sqlite",
    () => {
      const directory = freshDirectory();
      directories.push(directory);
      return new SqliteReportStore(WardenDatabase.open(directory));
    },
  ],
];

describe.each(makers)("ReportStore (%s)", (_name, make) => {
  it("takes reports once with the cursor, and finds the unposted ones", () => {
    const store = make();
    expect(store.cursor()).toBeUndefined();
    store.take([report(1), report(2, { roomName: "Lobby", reason: "spam", score: -100 })], { highWater: 2, floor: 0 });
    store.take([report(2, { reason: "changed" }), report(3)], { highWater: 3, floor: 0 });
    expect(store.cursor()).toEqual({ highWater: 3, floor: 0 });
    expect(store.get(2)).toEqual(report(2, { roomName: "Lobby", reason: "spam", score: -100 }));
    expect(store.has(3)).toBe(true);
    store.update(1, { cardEventId: "$c1" });
    expect(store.unposted().map((r) => r.id)).toEqual([2, 3]);
    expect(store.byCard("$c1").map((r) => r.id)).toEqual([1]);
  });

  it("updates, lists with filters, counts recent reports and keeps digests", () => {
    const store = make();
    store.take([report(1), report(2, { roomId: "!o:x", sender: "@t:x" }), report(3, { reporter: "@t:x" })], { highWater: 3, floor: 0 });
    expect(store.update(3, { state: "resolved", resolution: "dismissed", changedBy: "@m:x", deletedOnHomeserver: true })).toMatchObject({ state: "resolved", deletedOnHomeserver: true });
    expect(store.list({ includeResolved: false }, 0, 10)).toMatchObject({ total: 2, reports: [{ id: 2 }, { id: 1 }] });
    expect(store.list({ includeResolved: true, user: "@t:x" }, 0, 10).reports.map((r) => r.id)).toEqual([3, 2]);
    expect(store.list({ includeResolved: true, roomId: "!o:x" }, 0, 10).total).toBe(1);
    expect(store.list({ includeResolved: true }, 1, 1).reports.map((r) => r.id)).toEqual([2]);
    expect(store.countRecent({ roomId: "!r:x" }, 1002, 4)).toBe(1);
    expect(store.countRecent({ sender: "@s:x" }, 0, 3)).toBe(1);
    store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [1, 3], lastTs: 1003 });
    store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [1, 3, 4], lastTs: 1004, cardEventId: "$d" });
    expect(store.digest("sender @s:x")).toEqual({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [1, 3, 4], lastTs: 1004, cardEventId: "$d" });
    expect(store.digest("room !r:x")).toBeUndefined();
  });
});

describe("SqliteReportStore", () => {
  it("keeps reports and the cursor across a reopen", () => {
    const directory = freshDirectory();
    directories.push(directory);
    const first = WardenDatabase.open(directory);
    new SqliteReportStore(first).take([report(7)], { highWater: 7, floor: 3 });
    first.close();
    const reopened = new SqliteReportStore(WardenDatabase.open(directory));
    expect(reopened.cursor()).toEqual({ highWater: 7, floor: 3 });
    expect(reopened.get(7)).toEqual(report(7));
  });
});
