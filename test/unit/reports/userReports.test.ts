import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { userReportRef as user, eventReportRef as ev } from "../../../src/model/reports.js";
import { ReportService } from "../../../src/reports/desk.js";
import { FIRST_START_WINDOW_MS, ReportPoller, USER_REPORTS_UNAVAILABLE } from "../../../src/reports/poller.js";
import type { ReportStore } from "../../../src/reports/store.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { KnownVersion } from "../../../src/synapse/features.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { DedupingChat } from "../../fakes/dedupingChat.js";
import { FakeReportAdmin, listUserReportsAsSynapse } from "../../fakes/fakeReportAdmin.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import type { RecordingChat } from "../../fakes/recordingChat.js";
import { freshDirectory } from "../store/storeTestKit.js";

// Reports about users (Synapse ≥ 1.152) go through the same poller, store, cards and digests as
// event reports: once each across restarts and reused ids, folded on a burst, and on an older
// Synapse named once as unavailable while event reports go on.

const MGMT = "!mgmt:example.org" as RoomId;
/** What a Synapse older than 1.152 answers for user_reports. */
const UNRECOGNIZED = { ...adminError("not-found", 404, "Unrecognized request"), errcode: "M_UNRECOGNIZED" };
const MOD = "@mod:example.org";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function sqliteDirectory(): string {
  const directory = freshDirectory();
  directories.push(directory);
  return directory;
}

interface Options {
  readonly store?: ReportStore;
  readonly admin?: FakeReportAdmin;
  readonly chat?: DedupingChat;
  readonly clock?: FixedClock;
  readonly version?: string;
  readonly burst?: number;
}

function setup(options: Options = {}) {
  const clock = options.clock ?? new FixedClock();
  const admin = options.admin ?? new FakeReportAdmin();
  const store = options.store ?? new MemoryReportStore();
  const chat = options.chat ?? new DedupingChat();
  const logger = new MemoryLogger();
  const homeserverVersion = new KnownVersion();
  homeserverVersion.set(options.version ?? "1.163.2");
  const seen: number[] = [];
  const poller = new ReportPoller(
    admin,
    store,
    chat,
    clock,
    logger.log,
    { pollEveryMs: 30_000, burst: options.burst ?? 5, windowMs: 600_000, managementRoomId: MGMT, prefix: "!", homeserverVersion },
    (count) => seen.push(count),
  );
  const desk = new ReportService(store, admin, chat, MGMT, "!", clock, logger.log);
  return { clock, admin, store, chat, poller, desk, logger, seen, homeserverVersion };
}

/** Cards of single reports, of the given kind, in the order they were sent. */
const cards = (chat: RecordingChat, kind: "event" | "user") => chat.sent.filter((entry) => entry.message.record?.["type"] === "report" && entry.message.record["report_kind"] === kind);

let filed = 0;
/** A report about a user of its own (no burst), received `ageMs` before now. */
function fileUserReport(admin: FakeReportAdmin, clock: FixedClock, ageMs = 60_000, target?: string) {
  filed++;
  return admin.addUserReport({ target_user_id: target ?? `@bad${filed}:example.org`, user_id: `@rep${filed}:example.org`, received_ts: clock.now() - ageMs, reason: `reason ${filed}` });
}

describe("reports about users", () => {
  it("get a card each, with the reporter, the reported user, the reason and the commands about them", async () => {
    const { admin, clock, chat, poller, store, seen } = setup();
    const filedReport = admin.addUserReport({ target_user_id: "@bad:example.org", user_id: "@alice:example.org", received_ts: clock.now() - 60_000, reason: "harassment" });
    await poller.poll();

    const [card] = cards(chat, "user");
    expect(card?.options?.transactionId).toBe(`warden-user-report-${filedReport.id}`);
    expect(card?.message.plain.split("\n")).toEqual([
      "Report u1 · 2025-01-15 11:59:00 UTC · open",
      "Reporter: @alice:example.org",
      "Reported user: @bad:example.org (0 earlier reports about them; 0 reports about events they sent)",
      "Reason: harassment",
      "About the user: !user @bad:example.org  ·  !suspend @bad:example.org  ·  !takedown @bad:example.org",
      "This report: !report u1 done  ·  !report u1 dismiss",
      "Or react: 👍 done. Each shows its preview first; nothing runs on one click.",
    ]);
    expect(card?.message.record).toEqual({ type: "report", report_kind: "user", report_id: 1, homeserver_report_id: 1, state: "open", target_user_id: "@bad:example.org", received_ts: clock.now() - 60_000 });
    expect(store.get(user(1))).toMatchObject({ kind: "user", target: "@bad:example.org", reporter: "@alice:example.org", reason: "harassment", cardEventId: card?.eventId, state: "open" });
    expect(seen).toEqual([1]);
  });

  it("are numbered apart from event reports: event report 1 and user report u1 are two cards, each addressed by its own label", async () => {
    const { admin, clock, chat, poller, store } = setup();
    admin.addReport({ room_id: "!r:example.org", event_id: "$e", received_ts: clock.now() - 2000, sender: "@s:example.org" });
    fileUserReport(admin, clock, 1000);
    await poller.poll();

    expect(cards(chat, "event").map((entry) => entry.message.record?.["report_id"])).toEqual([1]);
    expect(cards(chat, "user").map((entry) => entry.message.record?.["report_id"])).toEqual([1]);
    expect(store.get(ev(1))?.kind).toBe("event");
    expect(store.get(user(1))?.kind).toBe("user");
  });

  it.each([
    ["memory", () => new MemoryReportStore()],
    ["sqlite", () => new SqliteReportStore(WardenDatabase.open(sqliteDirectory()))],
  ] as const)("are posted once across polls and a restart of Warden (%s store)", async (_name, make) => {
    const store = make();
    const chat = new DedupingChat();
    const admin = new FakeReportAdmin();
    const clock = new FixedClock();
    for (let i = 0; i < 60; i++) fileUserReport(admin, clock, 100_000 - i);
    await setup({ store, chat, admin, clock }).poller.poll();
    await setup({ store, chat, admin, clock }).poller.poll();
    fileUserReport(admin, clock, 0);
    await setup({ store, chat, admin, clock }).poller.poll();

    const numbers = cards(chat, "user").map((entry) => entry.message.record?.["report_id"]);
    expect(numbers).toHaveLength(61);
    expect(new Set(numbers).size).toBe(61);
  });

  it("a deleted newest report's id handed out again after Synapse restarts is a new report with its own card and transaction id (sqlite)", async () => {
    const store = new SqliteReportStore(WardenDatabase.open(sqliteDirectory()));
    const { admin, clock, chat, poller } = setup({ store });
    fileUserReport(admin, clock, 3000, "@first:example.org");
    const second = fileUserReport(admin, clock, 2000, "@second:example.org");
    await poller.poll();

    await admin.deleteUserReport(second.id);
    admin.restart();
    const reused = fileUserReport(admin, clock, 1000, "@third:example.org");
    expect(reused.id).toBe(second.id);
    await poller.poll();
    await poller.poll();

    const sent = cards(chat, "user");
    expect(sent.map((entry) => entry.message.record?.["target_user_id"])).toEqual(["@first:example.org", "@second:example.org", "@third:example.org"]);
    expect(sent[2]?.message.plain.split("\n")[0]).toBe(`Report u3 (homeserver user report ${second.id}) · 2025-01-15 11:59:59 UTC · open`);
    expect(new Set(sent.map((entry) => entry.options?.transactionId)).size).toBe(3);
    expect(store.withHomeserverId("user", second.id).map((report) => report.id)).toEqual([2, 3]);
  });

  it("on the first read, only reports younger than a day get cards; the older ones are counted once", async () => {
    const { admin, clock, chat, poller } = setup();
    for (let i = 0; i < 2; i++) fileUserReport(admin, clock, FIRST_START_WINDOW_MS + 60_000 + i);
    fileUserReport(admin, clock, 60_000);
    await poller.poll();
    await poller.poll();

    expect(cards(chat, "user")).toHaveLength(1);
    const said = chat.sent.filter((entry) => entry.message.record?.["type"] === "reports-first-start");
    expect(said.map((entry) => [entry.message.plain, entry.message.record, entry.options?.transactionId])).toEqual([
      [
        "Warden reads reports about users from now on. 2 reports older than a day were already on the homeserver and are not posted here.",
        { type: "reports-first-start", kind: "user", older_not_posted: 2 },
        "warden-user-reports-first-start",
      ],
    ]);
  });

  it("names an entry it cannot read once, as a report about a user, and posts the others", async () => {
    const { admin, clock, chat, poller } = setup();
    fileUserReport(admin, clock, 3000);
    listUserReportsAsSynapse(admin, [{ id: 40, received_ts: clock.now() - 2000, target_user_id: 7, user_id: "@r:example.org" }]);
    await poller.poll();
    await poller.poll();

    expect(cards(chat, "user")).toHaveLength(1);
    const named = chat.sent.filter((entry) => entry.message.record?.["type"] === "reports-unreadable");
    expect(named.map((entry) => entry.message.plain.split("\n"))).toEqual([
      [
        "Warden could not read 1 report about a user the homeserver listed; it has no card. The other reports are posted as usual.",
        "Homeserver user report 40: target_user_id: Invalid input: expected string, received number",
      ],
    ]);
    expect(named[0]?.message.record).toEqual({ type: "reports-unreadable", reports: 1, homeserver_report_ids: [], homeserver_user_report_ids: [40] });
  });
});

describe("a burst", () => {
  it("folds reports about one user into one digest once `burst` of them had cards, with the commands about them", async () => {
    const { admin, clock, chat, poller, store } = setup({ burst: 3 });
    await poller.poll();
    for (let i = 0; i < 6; i++) admin.addUserReport({ target_user_id: "@raider:example.org", user_id: `@r${i}:example.org`, received_ts: clock.now() + i * 1000 });
    await poller.poll();

    expect(cards(chat, "user").map((entry) => entry.message.record?.["report_id"])).toEqual([1, 2, 3]);
    const digests = chat.sent.filter((entry) => entry.message.record?.["type"] === "report-digest");
    expect(digests).toHaveLength(1);
    expect(digests[0]?.options?.transactionId).toBe("warden-digest-u4");
    const last = chat.edited.filter((edit) => edit.eventId === digests[0]?.eventId).at(-1)?.message;
    expect(last?.plain.split("\n").slice(0, 3)).toEqual([
      "Burst of reports about user @raider:example.org: 3 more reports folded here (3 open)",
      "From 3 reporters, 3 reports about the user; since 2025-01-15 12:00:03 UTC, latest 2025-01-15 12:00:05 UTC.",
      "Reports: u4, u5, u6",
    ]);
    expect(last?.plain).toContain("Bulk actions: !redact @raider:example.org  ·  !user @raider:example.org  ·  !suspend @raider:example.org  ·  !takedown @raider:example.org");
    expect(last?.record).toMatchObject({ type: "report-digest", digest: "sender", reports: 3, report_ids: ["u4", "u5", "u6"] });
    expect(store.digest("sender @raider:example.org")?.reportIds).toEqual([user(4), user(5), user(6)]);
  });

  it("counts reports about a person whichever way they were reported: event reports about their messages, then reports about them, fold into one digest", async () => {
    const { admin, clock, chat, poller, store } = setup({ burst: 3 });
    await poller.poll();
    for (let i = 0; i < 3; i++) admin.addReport({ room_id: `!room${i}:example.org`, event_id: `$m${i}`, received_ts: clock.now() + i * 1000, sender: "@raider:example.org" });
    for (let i = 0; i < 2; i++) admin.addUserReport({ target_user_id: "@raider:example.org", user_id: `@r${i}:example.org`, received_ts: clock.now() + 10_000 + i * 1000 });
    admin.addReport({ room_id: "!room9:example.org", event_id: "$m9", received_ts: clock.now() + 20_000, sender: "@raider:example.org" });
    await poller.poll();

    expect(cards(chat, "event")).toHaveLength(3);
    expect(cards(chat, "user")).toEqual([]);
    const digest = store.digest("sender @raider:example.org");
    expect(digest?.reportIds).toEqual([user(1), user(2), ev(4)]);
    const last = chat.edited.filter((edit) => edit.eventId === digest?.cardEventId).at(-1)?.message.plain ?? "";
    expect(last.split("\n").slice(0, 3)).toEqual([
      "Burst of reports about user @raider:example.org: 3 more reports folded here (3 open)",
      "From 3 reporters, about 1 senders in 1 rooms and 1 events, and 2 reports about the user; since 2025-01-15 12:00:10 UTC, latest 2025-01-15 12:00:20 UTC.",
      "Reports: u1, u2, 4",
    ]);
  });

  it("resolving a user report in a digest edits the digest", async () => {
    const { admin, clock, chat, poller, desk, store } = setup({ burst: 1 });
    await poller.poll();
    for (let i = 0; i < 3; i++) admin.addUserReport({ target_user_id: "@raider:example.org", user_id: `@r${i}:example.org`, received_ts: clock.now() + i });
    await poller.poll();
    const digest = store.digest("sender @raider:example.org");
    chat.edited.length = 0;

    expect(await desk.resolve(user(3), MOD, "done")).toMatchObject({ ok: true });

    expect(chat.edited.map((edit) => edit.eventId)).toEqual([digest?.cardEventId]);
    expect(chat.edited[0]?.message.plain).toContain("2 more reports folded here (1 open)");
  });
});

describe("on a Synapse without reports about users", () => {
  it("says once that they need Synapse 1.152, asks nothing about them, and goes on with event reports, also after a restart", async () => {
    const store = new SqliteReportStore(WardenDatabase.open(sqliteDirectory()));
    const chat = new DedupingChat();
    const admin = new FakeReportAdmin();
    admin.userFailures.set("userReports", UNRECOGNIZED);
    const clock = new FixedClock();
    const first = setup({ store, chat, admin, clock, version: "1.150.0" });
    admin.addReport({ room_id: "!r:example.org", event_id: "$e1", received_ts: clock.now() - 1000, sender: "@s:example.org" });
    await first.poller.poll();
    await first.poller.poll();
    admin.addReport({ room_id: "!r2:example.org", event_id: "$e2", received_ts: clock.now(), sender: "@s2:example.org" });
    await setup({ store, chat, admin, clock, version: "1.150.0" }).poller.poll();

    const notices = chat.sent.filter((entry) => entry.message.record?.["type"] === "reports-unavailable");
    expect(notices.map((entry) => [entry.message.plain, entry.message.record, entry.options?.transactionId])).toEqual([
      [
        "Reports about users need Synapse 1.152 or later (this homeserver runs 1.150.0). Warden does not read them here; event reports are posted as before.",
        { type: "reports-unavailable", kind: "user", needs: "1.152", homeserver_version: "1.150.0" },
        "warden-user-reports-unavailable",
      ],
    ]);
    expect(admin.userCalls.filter((call) => call.method === "userReports")).toEqual([]);
    expect(cards(chat, "event")).toHaveLength(2);
    expect(store.noticePosted(USER_REPORTS_UNAVAILABLE)).toBe(true);
  });

  it("says it once when the homeserver answers M_UNRECOGNIZED whatever its version says, and stops asking in this run", async () => {
    const { admin, clock, chat, poller, homeserverVersion } = setup({ version: "1.160.0" });
    admin.userFailures.set("userReports", UNRECOGNIZED);
    admin.addReport({ room_id: "!r:example.org", event_id: "$e", received_ts: clock.now() - 1000, sender: "@s:example.org" });
    await poller.poll();
    await poller.poll();
    await poller.poll();

    expect(admin.userCalls.filter((call) => call.method === "userReports")).toHaveLength(1);
    expect(chat.plainBodies().filter((body) => body.startsWith("Reports about users need"))).toEqual([
      "Reports about users need Synapse 1.152 or later (this homeserver runs 1.160.0). Warden does not read them here; event reports are posted as before.",
    ]);
    expect(cards(chat, "event")).toHaveLength(1);
    expect(homeserverVersion.current()).toBe("1.160.0");
  });

  it("leaves the version out of the notice when it is unknown", async () => {
    const admin = new FakeReportAdmin();
    admin.userFailures.set("userReports", UNRECOGNIZED);
    const chat = new DedupingChat();
    const poller = new ReportPoller(admin, new MemoryReportStore(), chat, new FixedClock(), new MemoryLogger().log, { pollEveryMs: 30_000, burst: 5, windowMs: 600_000, managementRoomId: MGMT, prefix: "!" });
    await poller.poll();

    expect(chat.plainBodies()).toEqual(["Reports about users need Synapse 1.152 or later. Warden does not read them here; event reports are posted as before."]);
  });

  it("tries the notice again at the next poll when it could not be sent, and forgets it once the homeserver has them", async () => {
    const store = new MemoryReportStore();
    const { admin, clock, chat, poller } = setup({ store, version: "1.140.0" });
    chat.failWith = "network down";
    await poller.poll();
    expect(store.noticePosted(USER_REPORTS_UNAVAILABLE)).toBe(false);
    chat.failWith = undefined;
    await poller.poll();
    await poller.poll();
    expect(chat.plainBodies().filter((body) => body.startsWith("Reports about users need"))).toHaveLength(2);
    expect(store.noticePosted(USER_REPORTS_UNAVAILABLE)).toBe(true);

    // Synapse upgraded: the list answers, the notice is forgotten (a later downgrade would be said again).
    const upgraded = setup({ store, admin, clock, chat, version: "1.163.2" });
    fileUserReport(admin, clock, 1000);
    await upgraded.poller.poll();
    expect(store.noticePosted(USER_REPORTS_UNAVAILABLE)).toBe(false);
    expect(cards(chat, "user")).toHaveLength(1);
  });

  it("keeps reading reports about users when the list fails for another reason", async () => {
    const { admin, clock, chat, poller } = setup();
    admin.userFailures.set("userReports", adminError("server-error", 502));
    fileUserReport(admin, clock, 1000);
    await poller.poll();
    admin.userFailures.delete("userReports");
    await poller.poll();

    expect(cards(chat, "user")).toHaveLength(1);
    expect(chat.plainBodies().filter((body) => body.startsWith("Reports about users need"))).toEqual([]);
  });
});

describe("!report u<n> dismiss on the homeserver", () => {
  it("reads the homeserver's report about a user with that id, finds it is this one, and deletes it", async () => {
    const { admin, clock, poller, desk, store } = setup();
    fileUserReport(admin, clock, 2000);
    const target = fileUserReport(admin, clock, 1000);
    await poller.poll();
    admin.reportCalls.length = 0;

    const dismissed = await desk.resolve(user(target.id), MOD, "dismissed");

    expect(dismissed).toMatchObject({ ok: true, value: { change: "dismissed", deletion: { ok: true }, report: { kind: "user", state: "resolved", deletedOnHomeserver: true } } });
    expect(admin.reportCalls.filter((call) => call.method !== "eventReports")).toEqual([
      { method: "userReport", reportId: target.id },
      { method: "deleteUserReport", reportId: target.id },
    ]);
    expect(admin.userReportList.map((report) => report.id)).not.toContain(target.id);
    expect(store.get(user(target.id))?.deletedOnHomeserver).toBe(true);
  });

  it("leaves alone another report about a user that has the id now, and says whose it is", async () => {
    const { admin, clock, poller, desk } = setup();
    const ours = fileUserReport(admin, clock, 2000, "@ours:example.org");
    await poller.poll();
    await admin.deleteUserReport(ours.id);
    admin.restart();
    admin.addUserReport({ target_user_id: "@other:example.org", user_id: "@someone:example.org", received_ts: clock.now() });
    admin.reportCalls.length = 0;

    const dismissed = await desk.resolve(user(ours.id), MOD, "dismissed");

    expect(dismissed).toMatchObject({ ok: true, value: { deletion: { ok: true, reusedBy: { kind: "user", target: "@other:example.org", reporter: "@someone:example.org" } } } });
    // Only read (a refreshed card counts its earlier reports with the lists): nothing deleted.
    expect(admin.reportCalls.map((call) => call.method).filter((method) => method !== "eventReports")).toEqual(["userReport"]);
    expect(admin.userReportList.map((report) => report.target_user_id)).toEqual(["@other:example.org"]);
  });

  it("says Warden has no such report about a user, by its label", async () => {
    const { desk } = setup();
    expect(await desk.resolve(user(9), MOD, "done")).toEqual({ ok: false, error: "Warden has no report about a user u9: it knows the reports it posted here (see !reports --all)." });
  });
});
