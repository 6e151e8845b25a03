import { describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { eventReportRef as ev, type StoredEventReport } from "../../../src/model/reports.js";
import { renderReportOutcome } from "../../../src/render/reports.js";
import { ReportService } from "../../../src/reports/desk.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import { RecordingChat } from "../../fakes/recordingChat.js";

const MGMT = "!mgmt:example.org" as RoomId;
const MOD = "@mod:example.org";

/** The homeserver holds report 3 (filed at FIXED_NOW - 3000); Warden took it as its report 3, card $card3. */
function setup() {
  const admin = new FakeReportAdmin();
  for (let i = 1; i <= 3; i++) admin.addReport({ room_id: "!r:example.org", event_id: `$e${i}`, received_ts: FIXED_NOW - 1000 * (4 - i) });
  const store = new MemoryReportStore();
  const ours: StoredEventReport = { kind: "event", id: 3, homeserverId: 3, receivedTs: FIXED_NOW - 1000, roomId: "!r:example.org", eventId: "$e3", reporter: "@reporter:example.org", sender: "@spammer:example.org", state: "open", changedAt: FIXED_NOW, deletedOnHomeserver: false, cardEventId: "$card3" };
  store.seed([ours]);
  const chat = new RecordingChat();
  const logger = new MemoryLogger();
  const desk = new ReportService(store, admin, chat, MGMT, "!", new FixedClock(), logger.log);
  return { admin, store, chat, desk, logger, ours };
}

const calls = (admin: FakeReportAdmin) => admin.reportCalls.filter((call) => call.method !== "eventContext" && call.method !== "eventReports");

describe("!report <n> dismiss on the homeserver", () => {
  it("reads the homeserver's report with that id, finds it is this one, and deletes it", async () => {
    const { admin, store, desk } = setup();

    const dismissed = await desk.resolve(ev(3), MOD, "dismissed");

    expect(dismissed).toMatchObject({ ok: true, value: { change: "dismissed", deletion: { ok: true }, report: { deletedOnHomeserver: true, state: "resolved", changedBy: MOD } } });
    expect(calls(admin)).toEqual([
      { method: "eventReport", reportId: 3 },
      { method: "deleteEventReport", reportId: 3 },
    ]);
    expect(admin.reports.map((report) => report.id)).toEqual([1, 2]);
    expect(store.get(ev(3))?.deletedOnHomeserver).toBe(true);
  });

  it("leaves alone another report that has the id now, and says whose it is", async () => {
    const { admin, store, desk } = setup();
    await admin.deleteEventReport(3);
    admin.restart();
    admin.addReport({ room_id: "!r:example.org", event_id: "$other", received_ts: FIXED_NOW, user_id: "@someone:example.org" });
    admin.reportCalls.length = 0;

    const dismissed = await desk.resolve(ev(3), MOD, "dismissed");

    expect(dismissed).toMatchObject({ ok: true, value: { deletion: { ok: true, reusedBy: { eventId: "$other", reporter: "@someone:example.org", receivedTs: FIXED_NOW } } } });
    expect(calls(admin)).toEqual([{ method: "eventReport", reportId: 3 }]);
    expect(admin.reports.map((report) => report.event_id)).toEqual(["$e1", "$e2", "$other"]);
    expect(store.get(ev(3))).toMatchObject({ state: "resolved", deletedOnHomeserver: true });
    const text = dismissed.ok ? renderReportOutcome(dismissed.value, "!").plain : "";
    expect(text).toBe(
      "Report 3 is resolved (dismissed). The homeserver no longer has it: its id there, 3, now belongs to another report (filed by @someone:example.org about $other, 2025-01-15 12:00:00 UTC), which Warden left alone.",
    );
  });

  it("does not even ask when Warden took a later report with the same homeserver id: that proves this one is gone", async () => {
    const { admin, store, desk, ours } = setup();
    store.seed([{ ...ours, id: 4, eventId: "$other", receivedTs: FIXED_NOW + 5, cardEventId: "$card4" }]);

    const dismissed = await desk.resolve(ev(3), MOD, "dismissed");

    expect(dismissed).toMatchObject({ ok: true, value: { deletion: { ok: true, reusedBy: { wardenId: 4, eventId: "$other" } } } });
    expect(calls(admin)).toEqual([]);
    expect(dismissed.ok ? renderReportOutcome(dismissed.value, "!").plain : "").toContain("(Warden's report 4, filed by @reporter:example.org about $other, 2025-01-15 12:00:00 UTC)");
    // The other one is the newer: dismissing it deletes it, after the same check.
    admin.reports.push({ id: 3, received_ts: FIXED_NOW + 5, room_id: "!r:example.org", event_id: "$other", user_id: "@reporter:example.org" });
    await admin.deleteEventReport(3);
    admin.reports.push({ id: 3, received_ts: FIXED_NOW + 5, room_id: "!r:example.org", event_id: "$other", user_id: "@reporter:example.org" });
    admin.reportCalls.length = 0;
    expect(await desk.resolve(ev(4), MOD, "dismissed")).toMatchObject({ ok: true, value: { deletion: { ok: true } } });
    expect(calls(admin)).toEqual([
      { method: "eventReport", reportId: 3 },
      { method: "deleteEventReport", reportId: 3 },
    ]);
  });

  it("deletes it when the homeserver will not show it because its event was purged (a 404 there is not proof it is gone)", async () => {
    const { admin, desk } = setup();
    admin.purgedEvents.add("$e3");

    expect(await desk.resolve(ev(3), MOD, "dismissed")).toMatchObject({ ok: true, value: { deletion: { ok: true } } });
    expect(admin.reports.map((report) => report.id)).toEqual([1, 2]);
  });

  it("counts a report already gone (404 on both) as deleted", async () => {
    const { admin, store, desk } = setup();
    await admin.deleteEventReport(3);

    expect(await desk.resolve(ev(3), MOD, "dismissed")).toMatchObject({ ok: true, value: { deletion: { ok: true } } });
    expect(store.get(ev(3))?.deletedOnHomeserver).toBe(true);
  });

  it("deletes nothing while it cannot check, says why, and can be retried", async () => {
    const { admin, store, desk, logger } = setup();
    admin.reportFailures.set("eventReport", adminError("server-error", 502));

    const failed = await desk.resolve(ev(3), MOD, "dismissed");

    expect(failed).toMatchObject({ ok: true, value: { deletion: { ok: false, problem: expect.stringContaining("502") as unknown }, report: { state: "resolved", deletedOnHomeserver: false } } });
    expect(calls(admin)).toEqual([{ method: "eventReport", reportId: 3 }]);
    expect(logger.withMessage("could not delete a dismissed report on the homeserver")).toHaveLength(1);
    expect(store.get(ev(3))?.deletedOnHomeserver).toBe(false);

    admin.reportFailures.delete("eventReport");
    admin.reportFailures.set("deleteEventReport", adminError("server-error", 503));
    expect(await desk.resolve(ev(3), MOD, "dismissed")).toMatchObject({ ok: true, value: { deletion: { ok: false, problem: expect.stringContaining("503") as unknown } } });
    admin.reportFailures.delete("deleteEventReport");
    expect(await desk.resolve(ev(3), MOD, "dismissed")).toMatchObject({ ok: true, value: { deletion: { ok: true } } });
    expect(await desk.resolve(ev(3), MOD, "dismissed")).toMatchObject({ ok: false, error: expect.stringContaining("already resolved (dismissed by @mod:example.org)") as unknown });
  });
});

describe("ReportService: what the mutation run found unpinned", () => {
  it("refuses to resolve a resolved report again, except to retry a dismissal whose deletion failed", async () => {
    const { admin, desk } = setup();
    expect(await desk.resolve(ev(3), MOD, "done")).toMatchObject({ ok: true });
    expect(await desk.resolve(ev(3), MOD, "dismissed")).toEqual({ ok: false, error: "report 3 was already resolved (done by @mod:example.org); nothing changed." });

    const other = setup();
    other.admin.reportFailures.set("deleteEventReport", adminError("server-error", 502));
    await other.desk.resolve(ev(3), MOD, "dismissed");
    expect(await other.desk.resolve(ev(3), "@other:example.org", "done")).toEqual({ ok: false, error: "report 3 was already resolved (dismissed by @mod:example.org); nothing changed." });
    expect(admin.reports).toHaveLength(3);
  });

  it("says what it can of a report resolved without a record of how or by whom, and names an unknown number", async () => {
    const { store, desk, ours } = setup();
    store.seed([{ ...ours, state: "resolved" }]);

    expect(await desk.resolve(ev(3), MOD, "done")).toEqual({ ok: false, error: "report 3 was already resolved (done); nothing changed." });
    expect(await desk.resolve(ev(99), MOD, "done")).toEqual({ ok: false, error: "Warden has no report 99: it knows the reports it posted here (see !reports --all)." });
    expect(await desk.acknowledge(ev(99), MOD)).toEqual({ ok: false, error: "Warden has no report 99: it knows the reports it posted here (see !reports --all)." });
  });

  it("edits the digest card a report is on, and not a newer digest of the same room that it is not on", async () => {
    const { store, chat, desk, ours } = setup();
    store.seed([
      { ...ours, id: 3, digestKey: "room !r:example.org", cardEventId: "$old-digest" },
      { ...ours, id: 4, homeserverId: 4, eventId: "$e4", digestKey: "room !r:example.org", cardEventId: "$new-digest" },
    ]);
    store.saveDigest({ key: "room !r:example.org", kind: "room", subject: "!r:example.org", reportIds: [ev(4)], lastTs: FIXED_NOW, cardEventId: "$new-digest" });

    await desk.resolve(ev(3), MOD, "done");
    expect(chat.edited).toEqual([]);

    await desk.resolve(ev(4), MOD, "done");
    expect(chat.edited.map((edit) => edit.eventId)).toEqual(["$new-digest"]);
    expect(chat.edited[0]?.message.plain).toContain("1 more reports folded here (0 open)");
  });
});
