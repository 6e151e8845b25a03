import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { eventReportRef as ev, userReportRef as user, type StoredEventReport, type StoredUserReport } from "../../../src/model/reports.js";
import type { NewEventReport, NewUserReport, ReportStore } from "../../../src/reports/store.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import { freshDirectory } from "./storeTestKit.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function report(id: number, overrides: Partial<StoredEventReport> = {}): StoredEventReport {
  return { kind: "event", id, homeserverId: id, receivedTs: 1000 + id, roomId: "!r:x", eventId: `$e${id}`, reporter: "@rep:x", sender: "@s:x", state: "open", changedAt: 5, deletedOnHomeserver: false, ...overrides };
}

/** As the poller hands it over: no number yet. */
function fresh(homeserverId: number, overrides: Partial<NewEventReport> = {}): NewEventReport {
  const { receivedTs, roomId, eventId, reporter, sender, state, changedAt, deletedOnHomeserver } = report(homeserverId);
  return { kind: "event", homeserverId, receivedTs, roomId, eventId, reporter, state, changedAt, deletedOnHomeserver, ...(sender === undefined ? {} : { sender }), ...overrides };
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
  it("takes reports once with the cursor, numbered as the homeserver numbers them, and finds the unposted ones", () => {
    const store = make();
    expect(store.cursor("event")).toBeUndefined();
    expect(store.take("event", { reports: [fresh(1), fresh(2, { roomName: "Lobby", reason: "spam", score: -100 })], cursor: { newestTs: 1002 } }).reports.map((r) => r.id)).toEqual([1, 2]);
    const again = store.take("event", { reports: [fresh(2, { reason: "changed" }), fresh(3)], cursor: { newestTs: 1003 } });
    expect(again.reports).toEqual([report(3)]);
    expect(store.cursor("event")).toEqual({ newestTs: 1003 });
    expect(store.get(ev(2))).toEqual(report(2, { roomName: "Lobby", reason: "spam", score: -100 }));
    expect(store.knows(report(3))).toBe(true);
    expect(store.knows(report(3, { receivedTs: 7 }))).toBe(false);
    store.update(ev(1), { cardEventId: "$c1" });
    expect(store.unposted().map((r) => r.id)).toEqual([2, 3]);
    expect(store.byCard("$c1").map((r) => r.id)).toEqual([1]);
  });

  it("knows a report by its homeserver id, event, reporter and received time: a reused id is a new report with the next free number", () => {
    const store = make();
    store.take("event", { reports: [fresh(1), fresh(2), fresh(3)], cursor: { newestTs: 1003 } });
    const reused = { ...fresh(3), eventId: "$other", receivedTs: 5000 };
    const taken = store.take("event", { reports: [reused, fresh(4, { receivedTs: 5001 })], cursor: { newestTs: 5001 } });
    // 3 is taken by the first report 3: the second gets 4, and the homeserver's report 4 then 5.
    expect(taken.reports.map((r) => [r.id, r.homeserverId])).toEqual([
      [4, 3],
      [5, 4],
    ]);
    expect(store.withHomeserverId("event", 3).map((r) => r.id)).toEqual([3, 4]);
    expect(store.withHomeserverId("event", 9)).toEqual([]);
    for (const field of [{ eventId: "$x" }, { reporter: "@x:x" }, { receivedTs: 1 }, { homeserverId: 9 }]) expect(store.knows({ ...report(1), ...field })).toBe(false);
    const shownElsewhere: StoredEventReport = { ...report(1), roomId: "!elsewhere:x", reason: "other" };
    expect(store.knows(shownElsewhere)).toBe(true);
  });

  it("keeps the cursor's gap until a cursor without one replaces it", () => {
    const store = make();
    const gap = { fromTs: 100, toTs: 900, offset: 450, countOlder: true };
    store.take("event", { reports: [], cursor: { newestTs: 2000, gap } });
    expect(store.cursor("event")).toEqual({ newestTs: 2000, gap });
    store.take("event", { reports: [], cursor: { newestTs: 2100, gap: { ...gap, countOlder: false } } });
    expect(store.cursor("event")).toEqual({ newestTs: 2100, gap: { ...gap, countOlder: false } });
    store.take("event", { reports: [], cursor: { newestTs: 2200 } });
    expect(store.cursor("event")).toEqual({ newestTs: 2200 });
  });

  it("keeps unreadable entries once each, until they are named", () => {
    const store = make();
    const first = { kind: "event" as const, key: "k1", homeserverId: 7, problem: "event_id: expected string" };
    const second = { kind: "event" as const, key: "k2", problem: "id: expected number" };
    expect(store.take("event", { reports: [], cursor: { newestTs: 1 }, unreadable: [first, second] }).unreadable).toEqual([first, second]);
    expect(store.take("event", { reports: [], cursor: { newestTs: 1 }, unreadable: [first] }).unreadable).toEqual([]);
    expect(store.unnamed()).toEqual([first, second]);
    store.markNamed(["k1"], "$notice");
    expect(store.unnamed()).toEqual([second]);
    expect(store.take("event", { reports: [], cursor: { newestTs: 1 }, unreadable: [first] }).unreadable).toEqual([]);
  });

  it("updates, lists with filters, counts recent reports and keeps digests", () => {
    const store = make();
    store.take("event", { reports: [fresh(1), fresh(2, { roomId: "!o:x", sender: "@t:x" }), fresh(3, { reporter: "@t:x" })], cursor: { newestTs: 1003 } });
    expect(store.update(ev(3), { state: "resolved", resolution: "dismissed", changedBy: "@m:x", deletedOnHomeserver: true })).toMatchObject({ state: "resolved", deletedOnHomeserver: true });
    expect(store.update(ev(99), { state: "resolved" })).toBeUndefined();
    expect(store.list({ includeResolved: false }, 0, 10)).toMatchObject({ total: 2, reports: [{ id: 2 }, { id: 1 }] });
    expect(store.list({ includeResolved: true, user: "@t:x" }, 0, 10).reports.map((r) => r.id)).toEqual([3, 2]);
    expect(store.list({ includeResolved: true, roomId: "!o:x" }, 0, 10).total).toBe(1);
    expect(store.list({ includeResolved: true }, 1, 1).reports.map((r) => r.id)).toEqual([2]);
    expect(store.countRecent({ roomId: "!r:x" }, 1002, { kind: "event", id: 4, receivedTs: 1004 })).toBe(1);
    expect(store.countRecent({ person: "@s:x" }, 0, { kind: "event", id: 3, receivedTs: 1003 })).toBe(1);
    store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [ev(1), ev(3)], lastTs: 1003 });
    store.saveDigest({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [ev(1), ev(3), ev(4)], lastTs: 1004, cardEventId: "$d" });
    expect(store.digest("sender @s:x")).toEqual({ key: "sender @s:x", kind: "sender", subject: "@s:x", reportIds: [ev(1), ev(3), ev(4)], lastTs: 1004, cardEventId: "$d" });
    expect(store.digest("room !r:x")).toBeUndefined();
  });
});

/** A report about a user as the poller hands it over: no number yet. */
function freshUser(homeserverId: number, overrides: Partial<NewUserReport> = {}): NewUserReport {
  return { kind: "user", homeserverId, receivedTs: 2000 + homeserverId, target: "@bad:x", reporter: "@rep:x", state: "open", changedAt: 5, deletedOnHomeserver: false, ...overrides };
}

describe.each(makers)("ReportStore with reports about users (%s)", (_name, make) => {
  it("numbers each kind on its own, with a cursor each, and gets a report by kind and number", () => {
    const store = make();
    store.take("event", { reports: [fresh(1), fresh(2)], cursor: { newestTs: 1002 } });
    const taken = store.take("user", { reports: [freshUser(1, { reason: "abuse" }), freshUser(2)], cursor: { newestTs: 2002 } });

    expect(taken.reports.map((r) => [r.kind, r.id])).toEqual([
      ["user", 1],
      ["user", 2],
    ]);
    expect(store.get(user(1))).toEqual({ ...freshUser(1, { reason: "abuse" }), id: 1 } satisfies StoredUserReport);
    expect(store.get(ev(1))?.kind).toBe("event");
    expect(store.cursor("event")).toEqual({ newestTs: 1002 });
    expect(store.cursor("user")).toEqual({ newestTs: 2002 });
    // A batch of the other kind is not this kind's.
    expect(store.take("user", { reports: [fresh(9)], cursor: { newestTs: 2002 } }).reports).toEqual([]);
  });

  it("knows a report about a user by its homeserver id, reported user, reporter and received time: a reused id is a new report with the next free number", () => {
    const store = make();
    store.take("user", { reports: [freshUser(1), freshUser(2)], cursor: { newestTs: 2002 } });
    const reused = freshUser(2, { target: "@other:x", receivedTs: 9000 });

    expect(store.take("user", { reports: [freshUser(2), reused], cursor: { newestTs: 9000 } }).reports.map((r) => [r.id, r.homeserverId])).toEqual([[3, 2]]);
    expect(store.withHomeserverId("user", 2).map((r) => r.id)).toEqual([2, 3]);
    expect(store.withHomeserverId("event", 2)).toEqual([]);
    const known = { kind: "user" as const, homeserverId: 1, target: "@bad:x", reporter: "@rep:x", receivedTs: 2001 };
    expect(store.knows(known)).toBe(true);
    for (const field of [{ target: "@x:x" }, { reporter: "@x:x" }, { receivedTs: 1 }, { homeserverId: 9 }]) expect(store.knows({ ...known, ...field })).toBe(false);
    // An event report with the same homeserver id is another report.
    expect(store.knows({ kind: "event", homeserverId: 1, eventId: "@bad:x", reporter: "@rep:x", receivedTs: 2001 })).toBe(false);
  });

  it("keeps a user cursor's gap, whose last report read is a report about a user", () => {
    const store = make();
    const gap = { fromTs: 1, toTs: 9, top: { kind: "user" as const, homeserverId: 4, target: "@bad:x", reporter: "@rep:x", receivedTs: 9 }, offset: 12, countOlder: true };
    store.take("user", { reports: [], cursor: { newestTs: 20, gap } });
    expect(store.cursor("user")).toEqual({ newestTs: 20, gap });
    expect(store.cursor("event")).toBeUndefined();
  });

  it("lists, updates, finds cards and the unposted across both kinds, oldest received first", () => {
    const store = make();
    store.take("event", { reports: [fresh(1, { receivedTs: 10 }), fresh(2, { receivedTs: 30, sender: "@bad:x" })], cursor: { newestTs: 30 } });
    store.take("user", { reports: [freshUser(1, { receivedTs: 20 }), freshUser(2, { receivedTs: 40, reporter: "@s:x" })], cursor: { newestTs: 40 } });
    expect(store.unposted().map((r) => `${r.kind} ${r.id}`)).toEqual(["event 1", "user 1", "event 2", "user 2"]);
    expect(store.update(user(1), { cardEventId: "$c", state: "resolved" })).toMatchObject({ kind: "user", id: 1, cardEventId: "$c" });
    expect(store.get(ev(1))?.cardEventId).toBeUndefined();
    expect(store.byCard("$c").map((r) => `${r.kind} ${r.id}`)).toEqual(["user 1"]);

    expect(store.list({ includeResolved: true }, 0, 10).reports.map((r) => `${r.kind} ${r.id}`)).toEqual(["user 2", "event 2", "user 1", "event 1"]);
    expect(store.list({ includeResolved: false }, 0, 10).total).toBe(3);
    expect(store.list({ includeResolved: true, kind: "user" }, 0, 10).reports.map((r) => r.id)).toEqual([2, 1]);
    // The reported user, the sender and the reporter all count as naming a user.
    expect(store.list({ includeResolved: true, user: "@bad:x" }, 0, 10).reports.map((r) => `${r.kind} ${r.id}`)).toEqual(["user 2", "event 2", "user 1"]);
    expect(store.list({ includeResolved: true, user: "@s:x" }, 0, 10).reports.map((r) => `${r.kind} ${r.id}`)).toEqual(["user 2", "event 1"]);
    expect(store.list({ includeResolved: true, roomId: "!r:x" }, 0, 10).total).toBe(2);
  });

  it("counts a person's recent reports of both kinds: of its own kind by number, of the other by received time", () => {
    const store = make();
    store.take("event", { reports: [fresh(1, { receivedTs: 100, sender: "@p:x" }), fresh(2, { receivedTs: 300, sender: "@p:x" })], cursor: { newestTs: 300 } });
    store.take("user", { reports: [freshUser(1, { receivedTs: 200, target: "@p:x" }), freshUser(2, { receivedTs: 400, target: "@p:x" }), freshUser(3, { receivedTs: 500, target: "@q:x" })], cursor: { newestTs: 500 } });

    expect(store.countRecent({ person: "@p:x" }, 0, { kind: "user", id: 2, receivedTs: 400 })).toBe(3);
    expect(store.countRecent({ person: "@p:x" }, 150, { kind: "user", id: 2, receivedTs: 400 })).toBe(2);
    expect(store.countRecent({ person: "@p:x" }, 0, { kind: "event", id: 2, receivedTs: 300 })).toBe(2);
    expect(store.countRecent({ person: "@p:x" }, 0, { kind: "user", id: 1, receivedTs: 200 })).toBe(1);
    // A room counts event reports only.
    expect(store.countRecent({ roomId: "!r:x" }, 0, { kind: "user", id: 9, receivedTs: 1000 })).toBe(2);
  });

  it("keeps a digest holding reports of both kinds, unreadable entries of either kind, and one-time notices", () => {
    const store = make();
    store.saveDigest({ key: "sender @p:x", kind: "sender", subject: "@p:x", reportIds: [ev(3), user(3), user(12)], lastTs: 7 });
    expect(store.digest("sender @p:x")?.reportIds).toEqual([ev(3), user(3), user(12)]);

    const entry = { kind: "user" as const, key: "u-k", homeserverId: 4, problem: "target_user_id: expected string" };
    expect(store.take("user", { reports: [], cursor: { newestTs: 1 }, unreadable: [entry] }).unreadable).toEqual([entry]);
    expect(store.unnamed()).toEqual([entry]);

    expect(store.noticePosted("user-reports-unavailable")).toBe(false);
    store.markNotice("user-reports-unavailable", true);
    store.markNotice("user-reports-unavailable", true);
    expect(store.noticePosted("user-reports-unavailable")).toBe(true);
    store.markNotice("user-reports-unavailable", false);
    expect(store.noticePosted("user-reports-unavailable")).toBe(false);
  });
});

describe("SqliteReportStore", () => {
  it("keeps reports and the cursor across a reopen", () => {
    const directory = freshDirectory();
    directories.push(directory);
    const first = WardenDatabase.open(directory);
    new SqliteReportStore(first).take("event", { reports: [fresh(7)], cursor: { newestTs: 1007, gap: { fromTs: 3, toTs: 5, offset: 60, countOlder: false } } });
    first.close();
    const reopened = new SqliteReportStore(WardenDatabase.open(directory));
    expect(reopened.cursor("event")).toEqual({ newestTs: 1007, gap: { fromTs: 3, toTs: 5, offset: 60, countOlder: false } });
    expect(reopened.get(ev(7))).toEqual(report(7));
  });
});
