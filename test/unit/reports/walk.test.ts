import { describe, expect, it } from "vitest";
import { eventReportList } from "../../../src/reports/lists.js";
import { pageOverlap, walkReports as walkList, type WalkPlan } from "../../../src/reports/walk.js";
import type { EventReportQuery } from "../../../src/synapse/adminClient.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";

/** `count` reports received at 1000, 1010, 1020, …: report n (ids from 1) at 1000 + 10 (n - 1). */
function listOf(count: number): FakeReportAdmin {
  const admin = new FakeReportAdmin();
  for (let i = 0; i < count; i++) admin.addReport({ room_id: "!r:x", event_id: `$e${i + 1}`, received_ts: 1000 + 10 * i });
  return admin;
}

const ts = (id: number) => 1000 + 10 * (id - 1);

/** Calls `between(n)` after the n-th page read (1, 2, …), to change the list between two reads. */
function changing(admin: FakeReportAdmin, between: (page: number) => void): { readonly queries: EventReportQuery[] } {
  const list = admin.eventReports.bind(admin);
  const queries: EventReportQuery[] = [];
  admin.eventReports = async (query) => {
    queries.push(query ?? {});
    const page = await list(query);
    between(queries.length);
    return page;
  };
  return { queries };
}

/** Walks the fake's event report list. */
const walkReports = (admin: FakeReportAdmin, plan: WalkPlan) => walkList(eventReportList(admin), plan);

const ids = (reports: readonly { homeserverId: number }[]) => [...new Set(reports.map((report) => report.homeserverId))].sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const PLAN: WalkPlan = { from: 0, stopTs: 0, pages: 100, pageSize: 20 };

describe("walkReports from the top", () => {
  it("reads newest first down to the first report received before stopTs, and counts the ones below", async () => {
    const admin = listOf(100);
    const { queries } = changing(admin, () => undefined);

    const walk = await walkReports(admin, { ...PLAN, stopTs: ts(31) });

    expect(ids(walk.reports)).toEqual(range(31, 100));
    expect(walk.end).toEqual({ complete: true, below: 30 });
    // Each next page starts a fifth of a page (4) before the end of the last, newest first.
    expect(pageOverlap(20)).toBe(4);
    expect(queries.map((query) => [query.from, query.limit, query.direction])).toEqual(range(0, 4).map((page) => [page * 16, 20, "b"]));
    expect(walk.pages).toBe(5);
  });

  it("takes a report received exactly at stopTs, and counts below it only what is older", async () => {
    const walk = await walkReports(listOf(10), { ...PLAN, stopTs: ts(4) });

    expect(ids(walk.reports)).toEqual(range(4, 10));
    expect(walk.end).toEqual({ complete: true, below: 3 });
  });

  it("is complete at the end of the list, with nothing below", async () => {
    const walk = await walkReports(listOf(45), PLAN);

    expect(ids(walk.reports)).toEqual(range(1, 45));
    expect(walk.end).toEqual({ complete: true, below: 0 });
    expect((await walkReports(listOf(0), PLAN)).end).toEqual({ complete: true, below: 0 });
  });

  it("counts unreadable entries in the places below the stretch", async () => {
    const admin = listOf(10);
    // Two odd entries between reports 6 and 5, one below report 2.
    admin.oddEntries.push({ id: 90, received_ts: ts(5) + 5, event_id: 1 }, { id: 91, received_ts: ts(5) + 4, event_id: 1 }, { id: 92, received_ts: ts(2) - 1, event_id: 1 });

    const walk = await walkReports(admin, { ...PLAN, stopTs: ts(5) });

    expect(ids(walk.reports)).toEqual(range(5, 10));
    expect(walk.unreadable.map((entry) => entry.id)).toEqual([90, 91, 92]);
    // Below report 5: reports 4, 3, 2, 1 and entry 92.
    expect(walk.end).toEqual({ complete: true, below: 5 });
  });

  it("stops when out of pages, saying how far it read and where to go on", async () => {
    const walk = await walkReports(listOf(100), { ...PLAN, pages: 2 });

    // Pages at 0 and 16 read reports 100 down to 65.
    expect(ids(walk.reports)).toEqual(range(65, 100));
    expect(walk.end).toEqual({ complete: false, at: { ts: ts(65), report: { kind: "event", homeserverId: 65, eventId: "$e65", reporter: "@reporter:example.org", receivedTs: ts(65) }, offset: 32 } });
    expect(walk.pages).toBe(2);
  });

  it("stops at a failed read with what it read, and says nothing was read when the first read fails", async () => {
    const admin = listOf(100);
    changing(admin, (page) => {
      if (page === 1) admin.reportFailures.set("eventReports", adminError("server-error", 502));
    });
    const walk = await walkReports(admin, PLAN);

    expect(ids(walk.reports)).toEqual(range(81, 100));
    expect(walk.end).toMatchObject({ complete: false, at: { ts: ts(81), report: { homeserverId: 81 }, offset: 16 }, failed: { kind: "server-error" } });
    const none = await walkReports(admin, PLAN);
    expect(none.end).toEqual({ complete: false, failed: expect.objectContaining({ kind: "server-error" }) as unknown });
    expect(none.reports).toEqual([]);
    expect(none.pages).toBe(1);
  });

  it("never skips a report when more reports than the overlap are deleted between two reads", async () => {
    const admin = listOf(100);
    const { queries } = changing(admin, (page) => {
      // After the first page (reports 100–81), 15 reports above its end are deleted elsewhere.
      if (page === 1) admin.reports.splice(admin.reports.findIndex((report) => report.id === 85), 15);
    });

    const walk = await walkReports(admin, PLAN);

    // 85–99 were read before they went; below them, nothing is missing.
    expect(ids(walk.reports)).toEqual(range(1, 100));
    expect(walk.end).toEqual({ complete: true, below: 0 });
    // The page at 16 began below report 81 (the last one read): the walk went back to 0.
    expect(queries.slice(0, 3).map((query) => query.from)).toEqual([0, 16, 0]);
  });

  it("goes on over reports filed meanwhile: they push the list down, and are read again or next time", async () => {
    const admin = listOf(100);
    changing(admin, (page) => {
      if (page === 1) for (let i = 0; i < 30; i++) admin.addReport({ room_id: "!r:x", event_id: `$late${i}`, received_ts: 5000 + i });
    });

    const walk = await walkReports(admin, PLAN);

    expect(ids(walk.reports).filter((id) => id <= 100)).toEqual(range(1, 100));
    expect(walk.end.complete).toBe(true);
  });

  it("steps back from an empty page when the list shrank below the offset", async () => {
    const admin = listOf(60);
    const { queries } = changing(admin, (page) => {
      // After the first page (60–41), reports 1–55 go.
      if (page === 1) admin.reports.splice(0, 55);
    });

    const walk = await walkReports(admin, PLAN);

    expect(ids(walk.reports)).toEqual(range(41, 60));
    expect(walk.end).toEqual({ complete: true, below: 0 });
    // 5 entries are left: the empty page at 16 sends the walk back to max(0, 5 - 20) = 0.
    expect(queries.map((query) => query.from)).toEqual([0, 16, 0]);
  });

  it("takes a page of unreadable entries only as it is, and goes on below it", async () => {
    const admin = listOf(5);
    for (let i = 0; i < 25; i++) admin.oddEntries.push({ id: 100 + i, received_ts: 9000 - i, event_id: 1 });

    const walk = await walkReports(admin, PLAN);

    // The second page begins inside the first (the overlap): some are read twice.
    expect(new Set(walk.unreadable.map((entry) => entry.id)).size).toBe(25);
    expect(ids(walk.reports)).toEqual(range(1, 5));
    expect(walk.end).toEqual({ complete: true, below: 0 });
  });
});

describe("walkReports over a gap", () => {
  it("starts where it is told when the page begins above the gap, and reads down to the gap's end", async () => {
    const admin = listOf(100);
    const { queries } = changing(admin, () => undefined);

    // The gap: reports 30–60; report 61 and above were read before.
    const walk = await walkReports(admin, { ...PLAN, from: 35, above: { ts: ts(60) + 1 }, stopTs: ts(30) });

    expect(ids(walk.reports)).toEqual(range(30, 65));
    expect(queries.map((query) => query.from)).toEqual([35, 51, 67]);
    expect(walk.end).toEqual({ complete: true, below: 29 });
  });

  it("steps back when the page begins inside the gap (reports above it were deleted), until it begins above", async () => {
    const admin = listOf(100);
    for (let id = 70; id <= 100; id++) admin.reports.splice(admin.reports.findIndex((report) => report.id === id), 1);
    const { queries } = changing(admin, () => undefined);

    const walk = await walkReports(admin, { ...PLAN, from: 50, above: { ts: ts(60) + 1 }, stopTs: ts(30) });

    expect(ids(walk.reports)).toEqual(range(30, 69));
    // Reports 69–1 are left. At 50, 30 and 10 the page begins below the gap's top: back a page each
    // time (report 60 might have been deleted or not: only the top of the list proves nothing is above).
    expect(queries.map((query) => query.from)).toEqual([50, 30, 10, 0, 16, 32]);
  });

  it("counts steps back against its pages, and ends where it was told to start when it read nothing", async () => {
    const admin = listOf(100);
    for (let id = 70; id <= 100; id++) admin.reports.splice(admin.reports.findIndex((report) => report.id === id), 1);

    const walk = await walkReports(admin, { ...PLAN, from: 50, above: { ts: ts(60) + 1 }, stopTs: ts(30), pages: 2 });

    expect(walk.reports).toEqual([]);
    expect(walk.pages).toBe(2);
    expect(walk.end).toEqual({ complete: false, at: { ts: ts(60) + 1, offset: 10 } });
    expect((await walkReports(admin, { ...PLAN, from: 7, above: { ts: 5 }, stopTs: 1, pages: 0 })).end).toEqual({ complete: false, at: { ts: 5, offset: 7 } });
  });

  it("accepts a page at the top of the list whatever it begins with", async () => {
    const walk = await walkReports(listOf(10), { ...PLAN, from: 0, above: { ts: ts(3) }, stopTs: ts(2) });

    expect(ids(walk.reports)).toEqual(range(2, 10));
  });

  it("with reports received at the same moment, goes back until a page begins with a later one", async () => {
    const admin = new FakeReportAdmin();
    for (let i = 0; i < 30; i++) admin.addReport({ room_id: "!r:x", event_id: `$same${i}`, received_ts: 5000 });
    for (let i = 0; i < 10; i++) admin.addReport({ room_id: "!r:x", event_id: `$new${i}`, received_ts: 6000 + i });
    const { queries } = changing(admin, () => undefined);

    const walk = await walkReports(admin, { ...PLAN, from: 25, above: { ts: 5000 }, stopTs: 5000, pageSize: 10 });

    expect(ids(walk.reports).filter((id) => id <= 30)).toEqual(range(1, 30));
    expect(queries.map((query) => query.from)).toEqual([25, 15, 5, 13, 21, 29, 37]);
  });
});

describe("walkReports: what the mutation run found unpinned", () => {
  it("takes nothing of a page that begins below the stretch", async () => {
    const walk = await walkReports(listOf(10), { ...PLAN, stopTs: ts(10) + 1 });

    expect(walk.reports).toEqual([]);
    expect(walk.end).toEqual({ complete: true, below: 10 });
  });

  it("counts an unreadable entry just above the first older report among those above it", async () => {
    const admin = listOf(10);
    admin.oddEntries.push({ id: 90, received_ts: ts(5) - 1, event_id: 1 });

    const walk = await walkReports(admin, { ...PLAN, stopTs: ts(5) });

    // Reports 10–5, the odd entry, then 4–1 below.
    expect(walk.end).toEqual({ complete: true, below: 4 });
  });

  it("moves on by at least one entry when a page comes back shorter than the overlap (Synapse leaves out rows whose JSON it cannot read)", async () => {
    const admin = listOf(40);
    const list = admin.eventReports.bind(admin);
    const queries: number[] = [];
    // Only every tenth row survives Synapse's own reading; next_token counts the rows it returned.
    admin.eventReports = async (query) => {
      const from = query?.from ?? 0;
      queries.push(from);
      const page = await list(query);
      if (!page.ok) return page;
      const kept = page.value.event_reports.filter((report) => report.id % 10 === 0);
      return { ok: true, value: { ...page.value, event_reports: kept, ...(page.value.next_token === undefined ? {} : { next_token: from + kept.length }) } };
    };

    const walk = await walkReports(admin, { ...PLAN, pages: 40 });

    expect(ids(walk.reports)).toEqual([10, 20, 30, 40]);
    expect(walk.end).toEqual({ complete: true, below: 0 });
    // Two rows a page at most, fewer than the overlap of 4: each next page one row further.
    expect(queries).toEqual(range(0, 20));
  });

  it("goes on past a page of unreadable entries only, in the middle of the list", async () => {
    const admin = listOf(10);
    for (let i = 0; i < 30; i++) admin.oddEntries.push({ id: 100 + i, received_ts: ts(5) + 1, event_id: 1 });
    const { queries } = changing(admin, () => undefined);

    const walk = await walkReports(admin, { ...PLAN, pageSize: 10 });

    expect(ids(walk.reports)).toEqual(range(1, 10));
    expect(walk.end).toEqual({ complete: true, below: 0 });
    expect(queries.map((query) => query.from)).toEqual([0, 8, 16, 24, 32]);
  });

  // The last report read above a gap was report 20 (deleted since). The page at its old place begins
  // with an entry like it in all but one field: not the same report, so the walk must step back.
  const twins: [string, Record<string, unknown>][] = [
    ["another id", { id: 99 }],
    ["another time", { received_ts: ts(20) - 1 }],
    ["another event", { event_id: "$other" }],
    ["another reporter", { user_id: "@other:example.org" }],
  ];
  it.each(twins)("does not take an entry with %s for the last report read", async (_what, difference) => {
    const admin = listOf(30);
    admin.reports.splice(19, 1);
    // As an entry of the page: the fake lists it through the same schema.
    admin.oddEntries.push({ id: 20, received_ts: ts(20), room_id: "!r:x", event_id: "$e20", user_id: "@reporter:example.org", ...difference });
    const { queries } = changing(admin, () => undefined);
    const above = { ts: ts(20), report: { kind: "event" as const, homeserverId: 20, eventId: "$e20", reporter: "@reporter:example.org", receivedTs: ts(20) } };

    await walkReports(admin, { ...PLAN, from: 10, above, stopTs: ts(15) });

    // The twin is at offset 10 (reports 30–21 above it): the page there begins with it, so back to 0.
    expect(queries.map((query) => query.from).slice(0, 2)).toEqual([10, 0]);
  });

  it("takes the page that holds the last report read, however it begins", async () => {
    const admin = listOf(30);
    const { queries } = changing(admin, () => undefined);
    const above = { ts: ts(20), report: { kind: "event" as const, homeserverId: 20, eventId: "$e20", reporter: "@reporter:example.org", receivedTs: ts(20) } };

    await walkReports(admin, { ...PLAN, from: 10, above, stopTs: ts(15) });

    expect(queries.map((query) => query.from)).toEqual([10]);
  });

  it("says it read nothing when out of pages with only unreadable entries read from the top", async () => {
    const admin = listOf(3);
    for (let i = 0; i < 30; i++) admin.oddEntries.push({ id: 100 + i, received_ts: 9000 - i, event_id: 1 });

    const walk = await walkReports(admin, { ...PLAN, pages: 1 });

    expect(walk.end).toEqual({ complete: false });
    expect(walk.unreadable).toHaveLength(20);
  });

  it("goes on from the top when Synapse left out every row of the first page", async () => {
    const admin = listOf(40);
    const list = admin.eventReports.bind(admin);
    const queries: number[] = [];
    admin.eventReports = async (query) => {
      const from = query?.from ?? 0;
      queries.push(from);
      const page = await list(query);
      if (!page.ok) return page;
      const kept = page.value.event_reports.filter((report) => report.id <= 5);
      return { ok: true, value: { ...page.value, event_reports: kept, ...(page.value.next_token === undefined ? {} : { next_token: from + kept.length }) } };
    };

    const walk = await walkReports(admin, { ...PLAN, pages: 40 });

    expect(ids(walk.reports)).toEqual(range(1, 5));
    expect(walk.end).toEqual({ complete: true, below: 0 });
    expect(queries).toEqual(range(0, 20));
  });

  /** Readable reports r(n) at 100n; unreadable entries u(n) with ids 900 + n at the given time. */
  function mixed(readable: number[], odd: [number, number][]): FakeReportAdmin {
    const admin = new FakeReportAdmin();
    for (const n of readable) admin.reports.push({ id: n, received_ts: 100 * n, room_id: "!r:x", event_id: `$e${n}`, user_id: "@rep:x" });
    for (const [n, at] of odd) admin.oddEntries.push({ id: 900 + n, received_ts: at, event_id: n });
    return admin;
  }

  it("finds a page's unreadable last entry on the next page, and steps back when that page holds only others", async () => {
    // r10–r6, u1–u5, r5, u6, u7, r4–r1; the first page (10) ends with u5.
    const admin = mixed(range(1, 10), [...range(1, 5).map((n): [number, number] => [n, 600 - n]), [6, 450], [7, 440]]);
    const { queries } = changing(admin, (page) => {
      // Then r10–r7 go: the page at 8 begins with u7, below u5 and r5.
      if (page === 1) admin.reports.splice(admin.reports.findIndex((report) => report.id === 7), 4);
    });

    const walk = await walkReports(admin, { ...PLAN, pageSize: 10 });

    expect(ids(walk.reports)).toEqual(range(1, 10));
    expect(queries.slice(0, 3).map((query) => query.from)).toEqual([0, 8, 0]);
  });

  it("anchors on a page's last entry when that one is readable, whatever unreadable entries came before it", async () => {
    // u1 above r20–r1; the first page (10) ends with r12.
    const admin = mixed(range(1, 20), [[1, 5000]]);
    const { queries } = changing(admin, (page) => {
      // Then r20 goes: the page at 8 begins with r12 itself.
      if (page === 1) admin.reports.splice(admin.reports.findIndex((report) => report.id === 20), 1);
    });

    await walkReports(admin, { ...PLAN, pageSize: 10, stopTs: 100 * 10 });

    expect(queries.map((query) => query.from)).toEqual([0, 8]);
  });
});
