import { describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { FIRST_START_WINDOW_MS, ReportPoller } from "../../../src/reports/poller.js";
import type { ReportStore } from "../../../src/reports/store.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import { DedupingChat } from "../../fakes/dedupingChat.js";
import type { RecordingChat } from "../../fakes/recordingChat.js";

const MGMT = "!mgmt:example.org" as RoomId;
const ROOM = "!lobby:example.org";

function setup(options: { store?: ReportStore; chat?: DedupingChat; admin?: FakeReportAdmin; clock?: FixedClock; burst?: number } = {}) {
  const clock = options.clock ?? new FixedClock();
  const admin = options.admin ?? new FakeReportAdmin();
  const store = options.store ?? new MemoryReportStore();
  const chat = options.chat ?? new DedupingChat();
  const seen: number[] = [];
  const poller = new ReportPoller(admin, store, chat, clock, new MemoryLogger().log, { pollEveryMs: 30_000, burst: options.burst ?? 5, windowMs: 600_000, managementRoomId: MGMT, prefix: "!" }, (count) => seen.push(count));
  return { clock, admin, store, chat, poller, seen };
}

const cards = (chat: RecordingChat) => chat.sent.map((entry) => entry.message.record?.["report_id"]).filter((id) => id !== undefined);

describe("ReportPoller", () => {
  it("on the first start posts only reports younger than a day, and counts the older ones", async () => {
    const { clock, admin, chat, poller, seen } = setup();
    for (let i = 0; i < 3; i++) admin.addReport({ room_id: ROOM, event_id: `$old${i}`, received_ts: clock.now() - FIRST_START_WINDOW_MS - 3600_000 + i });
    admin.addReport({ room_id: ROOM, event_id: "$new1", received_ts: clock.now() - 60_000, sender: "@a:example.org" });
    admin.addReport({ room_id: ROOM, event_id: "$new2", received_ts: clock.now() - 30_000, sender: "@b:example.org" });
    await poller.poll();

    expect(cards(chat)).toEqual([4, 5]);
    expect(chat.plainBodies()[0]).toContain("3 reports older than a day were already on the homeserver");
    expect(seen).toEqual([2]);
  });

  it("posts each report exactly once across polls, deletions of other reports and a restart", async () => {
    const store = new MemoryReportStore();
    const chat = new DedupingChat();
    const admin = new FakeReportAdmin();
    const clock = new FixedClock();
    const first = setup({ store, chat, admin, clock });
    for (let i = 0; i < 120; i++) admin.addReport({ room_id: `!r${i}:example.org`, event_id: `$e${i}`, received_ts: clock.now() - 100_000 + i, sender: `@s${i}:example.org` });
    await first.poller.poll();
    expect(cards(chat)).toHaveLength(120);

    // Other reports deleted (pages shift), new ones arrive, and Warden restarts with the same store.
    admin.reports.splice(10, 30);
    for (let i = 0; i < 7; i++) admin.addReport({ room_id: `!n${i}:example.org`, event_id: `$n${i}`, received_ts: clock.now() + i, sender: `@n${i}:example.org` });
    await first.poller.poll();
    const second = setup({ store, chat, admin, clock });
    await second.poller.poll();
    await second.poller.poll();

    const ids = cards(chat);
    expect(ids).toHaveLength(127);
    expect(new Set(ids).size).toBe(127);
  });

  it("finds every new report when reports are deleted between two page reads", async () => {
    const { clock, admin, chat, poller } = setup();
    await poller.poll();
    for (let i = 0; i < 140; i++) admin.addReport({ room_id: `!r${i}:example.org`, event_id: `$e${i}`, received_ts: clock.now() + i, sender: `@s${i}:example.org` });
    const list = admin.eventReports.bind(admin);
    let calls = 0;
    admin.eventReports = async (query) => {
      const page = await list(query);
      // After the first page, a moderator deletes five reports of that page elsewhere.
      if (++calls === 1 && page.ok) for (const report of page.value.event_reports.slice(0, 5)) void admin.deleteEventReport(report.id);
      return page;
    };
    await poller.poll();
    expect(new Set(cards(chat)).size).toBe(140);
  });

  it("resends a card after a crash between storing and posting with the same transaction id", async () => {
    const store = new MemoryReportStore();
    const chat = new DedupingChat();
    const { admin, clock, poller } = setup({ store, chat });
    admin.addReport({ room_id: ROOM, event_id: "$e", received_ts: new FixedClock().now() - 1000 });
    chat.failWith = "network down";
    await poller.poll();
    expect(store.unposted().map((report) => report.id)).toEqual([1]);
    chat.failWith = undefined;
    await setup({ store, chat, admin, clock }).poller.poll();
    expect(store.unposted()).toEqual([]);
    expect(chat.sent.map((entry) => entry.options?.transactionId)).toEqual(["warden-report-1", "warden-report-1"]);
  });

  it("folds a burst: after `burst` cards about one sender, later reports join one digest edited as it grows", async () => {
    const { clock, admin, chat, store, poller } = setup();
    await poller.poll();
    for (let i = 0; i < 10; i++) admin.addReport({ room_id: `!room${i}:example.org`, event_id: `$e${i}`, received_ts: clock.now() + i * 1000, sender: "@raider:example.org" });
    await poller.poll();

    expect(cards(chat)).toEqual([1, 2, 3, 4, 5]);
    const digests = chat.sent.filter((entry) => entry.message.record?.["type"] === "report-digest");
    expect(digests).toHaveLength(1);
    expect(chat.edited.filter((edit) => edit.eventId === digests[0]?.eventId)).toHaveLength(4);
    const last = chat.edited.at(-1)?.message.plain ?? "";
    expect(last).toContain("Burst of reports about sender @raider:example.org: 5 more reports folded here (5 open)");
    expect(last).toContain("!redact @raider:example.org");
    expect(store.get({ kind: "event", id: 10 })?.digestKey).toBe("sender @raider:example.org");
  });

  it("folds by room before sender, and starts a new digest after the window", async () => {
    const { clock, admin, chat, poller } = setup({ burst: 2 });
    await poller.poll();
    for (let i = 0; i < 4; i++) admin.addReport({ room_id: ROOM, event_id: `$e${i}`, received_ts: clock.now() + i, sender: `@s${i}:example.org` });
    admin.addReport({ room_id: ROOM, event_id: "$late", received_ts: clock.now() + 3_600_000, sender: "@late:example.org" });
    for (let i = 0; i < 3; i++) admin.addReport({ room_id: ROOM, event_id: `$l${i}`, received_ts: clock.now() + 3_600_000 + 1000 + i, sender: `@t${i}:example.org` });
    await poller.poll();
    const digests = chat.sent.filter((entry) => entry.message.record?.["type"] === "report-digest");
    expect(cards(chat)).toEqual([1, 2, 5, 6]);
    expect(digests).toHaveLength(2);
    expect(digests[0]?.message.plain).toContain(`Burst of reports about room (${ROOM})`);
  });

  it("keeps going when the homeserver does not answer, and catches up later", async () => {
    const { clock, admin, chat, poller } = setup();
    admin.addReport({ room_id: ROOM, event_id: "$e", received_ts: clock.now() - 1000 });
    admin.reportFailures.set("eventReports", adminError("unreachable"));
    await poller.poll();
    expect(chat.sent).toEqual([]);
    admin.reportFailures.delete("eventReports");
    await poller.poll();
    expect(cards(chat)).toEqual([1]);
  });
});
