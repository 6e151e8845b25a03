import { rmSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { identityOf, type StoredReport } from "../../../src/model/reports.js";
import { ReportService } from "../../../src/reports/desk.js";
import { FIRST_START_WINDOW_MS, ReportPoller } from "../../../src/reports/poller.js";
import type { ReportStore } from "../../../src/reports/store.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteReportStore } from "../../../src/store/reports.js";
import { DedupingChat } from "../../fakes/dedupingChat.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import type { RecordingChat } from "../../fakes/recordingChat.js";
import { freshDirectory } from "../store/storeTestKit.js";

// Report intake (issue 18, section 5): every report once, even after deletes and restarts.

const MGMT = "!mgmt:example.org" as RoomId;
const MOD = "@mod:example.org";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function sqliteStore(): SqliteReportStore {
  const directory = freshDirectory();
  directories.push(directory);
  return new SqliteReportStore(WardenDatabase.open(directory));
}

function setup(options: { store?: ReportStore; admin?: FakeReportAdmin; chat?: DedupingChat; clock?: FixedClock; pageSize?: number; pagesPerPoll?: number } = {}) {
  const clock = options.clock ?? new FixedClock();
  const admin = options.admin ?? new FakeReportAdmin();
  const store = options.store ?? new MemoryReportStore();
  const chat = options.chat ?? new DedupingChat();
  const logger = new MemoryLogger();
  const poller = new ReportPoller(admin, store, chat, clock, logger.log, {
    pollEveryMs: 30_000,
    burst: 5,
    windowMs: 600_000,
    managementRoomId: MGMT,
    prefix: "!",
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.pagesPerPoll === undefined ? {} : { pagesPerPoll: options.pagesPerPoll }),
  });
  const desk = new ReportService(store, admin, chat, MGMT, "!", clock, logger.log);
  return { clock, admin, store, chat, poller, desk, logger };
}

/** Report cards (not digests, not notices) in the order they were sent. */
const cards = (chat: RecordingChat) => chat.sent.filter((entry) => entry.message.record?.["type"] === "report");

/** A report in a room and about a sender of its own, so that no burst folds it. */
function fileReport(admin: FakeReportAdmin, clock: FixedClock, name: string, ageMs = 60_000) {
  return admin.addReport({ room_id: `!${name}:example.org`, event_id: `$${name}`, received_ts: clock.now() - ageMs, sender: `@${name}:example.org` });
}

describe("a report whose id the homeserver hands out again", () => {
  it("after the newest report was deleted and Synapse restarted, is a new report with its own card and transaction id", async () => {
    const { admin, clock, chat, poller } = setup();
    fileReport(admin, clock, "first", 3000);
    const second = fileReport(admin, clock, "second", 2000);
    await poller.poll();
    expect(cards(chat)).toHaveLength(2);

    // Deleted on the homeserver (a dismissal, or another admin tool), then Synapse restarts.
    await admin.deleteEventReport(second.id);
    admin.restart();
    const reused = fileReport(admin, clock, "third", 1000);
    expect(reused.id).toBe(second.id);
    await poller.poll();

    const sent = cards(chat);
    expect(sent).toHaveLength(3);
    expect(sent[2]?.message.plain).toContain("Event: $third");
    expect(new Set(sent.map((entry) => entry.options?.transactionId)).size).toBe(3);
  });

  it("!report dismiss of the old report leaves the new one with that id on the homeserver", async () => {
    const { admin, clock, poller, desk } = setup();
    fileReport(admin, clock, "first", 3000);
    const second = fileReport(admin, clock, "second", 2000);
    await poller.poll();
    await admin.deleteEventReport(second.id);
    admin.restart();
    fileReport(admin, clock, "third", 1000);

    // Warden has not polled since: only the homeserver knows the new report.
    const dismissed = await desk.resolve({ kind: "event", id: second.id }, MOD, "dismissed");

    expect(dismissed.ok).toBe(true);
    expect(admin.reports.map((report) => report.event_id)).toEqual(["$first", "$third"]);
  });
});

describe("a backlog longer than one poll reads", () => {
  it("is read over the next polls, every report once", async () => {
    const { admin, clock, chat, poller } = setup();
    await poller.poll();
    for (let i = 0; i < 2600; i++) fileReport(admin, clock, `r${i}`, 50_000 - i);
    for (let poll = 0; poll < 4; poll++) await poller.poll();

    const ids = cards(chat).map((entry) => entry.message.record?.["report_id"]);
    expect(ids).toHaveLength(2600);
    expect(new Set(ids).size).toBe(2600);
  });
});

/** Every report the homeserver holds now is stored once and has a card (its own or a digest). */
function expectEachOnce(admin: FakeReportAdmin, store: MemoryReportStore): void {
  const stored = [...store.reports.values()];
  const key = (report: StoredReport) => JSON.stringify(identityOf(report));
  expect(new Set(stored.map(key)).size).toBe(stored.length);
  const missing = admin.reports.filter((report) => !store.knows({ kind: "event", homeserverId: report.id, eventId: report.event_id, reporter: report.user_id, receivedTs: report.received_ts }));
  expect(missing.map((report) => report.id)).toEqual([]);
  expect(store.unposted()).toEqual([]);
}

describe("a backlog read with a small page budget", () => {
  it("reads thousands of reports over many polls while reports are filed and deleted between them, each once", async () => {
    const store = new MemoryReportStore();
    const { admin, clock, chat, poller } = setup({ store, pageSize: 20, pagesPerPoll: 3 });
    await poller.poll();
    for (let i = 0; i < 3000; i++) fileReport(admin, clock, `b${i}`, 3_000_000 - i * 1000);
    let polls = 0;
    do {
      // Between polls: two reports filed, and three deleted at random places (seeded).
      for (let i = 0; i < 2; i++) fileReport(admin, clock, `new${polls}-${i}`, 0);
      for (let i = 0; i < 3; i++) admin.reports.splice((polls * 7919 + i * 104_729) % admin.reports.length, 1);
      clock.advance(1000);
      await poller.poll();
      polls++;
    } while (store.cursor("event")?.gap !== undefined && polls < 200);
    await poller.poll();

    expect(store.cursor("event")?.gap).toBeUndefined();
    expectEachOnce(admin, store);
    // At most 3 pages of 20 a poll: at least 50 polls; about two pages of the gap a poll (16 new each).
    expect(polls).toBeGreaterThanOrEqual(50);
    expect(polls).toBeLessThan(120);
    const transactionIds = chat.sent.map((entry) => entry.options?.transactionId);
    expect(new Set(transactionIds).size).toBe(transactionIds.length);
  });

  it("on the first start, counts the reports older than a day once the day's backlog is read to its end", async () => {
    const { admin, clock, chat, poller, store } = setup({ pageSize: 10, pagesPerPoll: 2 });
    for (let i = 0; i < 7; i++) fileReport(admin, clock, `old${i}`, FIRST_START_WINDOW_MS + 60_000 + i);
    for (let i = 0; i < 45; i++) fileReport(admin, clock, `day${i}`, 3_600_000 - i * 1000);
    await poller.poll();
    expect(store.cursor("event")?.gap).toMatchObject({ countOlder: true });
    expect(chat.plainBodies().filter((body) => body.includes("older than a day"))).toEqual([]);

    for (let poll = 0; poll < 5; poll++) await poller.poll();

    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(cards(chat)).toHaveLength(45);
    expect(chat.plainBodies().filter((body) => body.includes("older than a day"))).toEqual([
      "Warden reads event reports from now on. 7 reports older than a day were already on the homeserver and are not posted here.",
    ]);
  });

  it("joins a new gap to an older one when reports come faster than a poll reads", async () => {
    const store = new MemoryReportStore();
    const { admin, clock, poller } = setup({ store, pageSize: 10, pagesPerPoll: 2 });
    await poller.poll();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) fileReport(admin, clock, `r${round}-${i}`, -(round * 100_000 + i * 100));
      await poller.poll();
    }
    // From the first start's day (the newest time read then, with no report yet) to what the last poll read.
    expect(store.cursor("event")?.gap?.fromTs).toBe(clock.now() - FIRST_START_WINDOW_MS);
    for (let poll = 0; poll < 20 && store.cursor("event")?.gap !== undefined; poll++) await poller.poll();

    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(store.reports.size).toBe(120);
  });

  it("never skips a report whatever is filed, deleted or handed out again between and during polls", async () => {
    type Step = { readonly kind: "file"; readonly count: number; readonly tie: boolean } | { readonly kind: "delete"; readonly at: number } | { readonly kind: "restart" } | { readonly kind: "poll" };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("file" as const), count: fc.integer({ min: 1, max: 30 }), tie: fc.boolean() }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }), weight: 3 },
      { arbitrary: fc.constant({ kind: "restart" as const }), weight: 1 },
      { arbitrary: fc.constant({ kind: "poll" as const }), weight: 3 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.array(step, { maxLength: 30 }), fc.integer({ min: 3, max: 12 }), fc.integer({ min: 1, max: 4 }), async (steps, during, pageSize, pagesPerPoll) => {
        const store = new MemoryReportStore();
        const clock = new FixedClock();
        const { admin, poller } = setup({ store, clock, pageSize, pagesPerPoll });
        let filed = 0;
        // Reports received in the same millisecond are fine, but not more of them than a page holds: a
        // poll re-reads those received when the newest it read was, and a run of them longer than its
        // pages would be read again at every poll (a limit the README names).
        let sameMoment = 0;
        const apply = async (change: Step): Promise<void> => {
          switch (change.kind) {
            case "file":
              for (let i = 0; i < change.count; i++) {
                if (change.tie && sameMoment < pageSize - 1) sameMoment++;
                else {
                  clock.advance(1000);
                  sameMoment = 1;
                }
                fileReport(admin, clock, `f${filed++}`, 0);
              }
              return;
            case "delete":
              if (admin.reports.length > 0) admin.reports.splice(change.at % admin.reports.length, 1);
              return;
            case "restart":
              admin.restart();
              return;
            case "poll":
              await poller.poll();
          }
        };
        // Changes also land between the page reads of a poll.
        const pending = [...during];
        const list = admin.eventReports.bind(admin);
        admin.eventReports = async (query) => {
          const page = await list(query);
          const change = pending.shift();
          if (change !== undefined && change.kind !== "poll") await apply(change);
          return page;
        };
        for (const change of steps) await apply(change);
        pending.length = 0;
        for (let poll = 0; poll < 400 && (store.cursor("event")?.gap !== undefined || poll < 2); poll++) await poller.poll();
        expect(store.cursor("event")?.gap).toBeUndefined();
        expectEachOnce(admin, store);
      }),
      { numRuns: 150 },
    );
  });
});

describe("a report the schema cannot read", () => {
  it("does not stop the others; a non-numeric score (MSC4277) is no reason to leave a report out", async () => {
    const { admin, clock, chat, poller } = setup();
    fileReport(admin, clock, "plain", 4000);
    admin.oddEntries.push({ id: 50, received_ts: clock.now() - 3000, room_id: "!scored:example.org", event_id: "$scored", user_id: "@r:example.org", sender: "@s:example.org", score: "high", reason: "spam" });
    admin.oddEntries.push({ id: 51, received_ts: clock.now() - 2000, room_id: "!odd:example.org", event_id: 42, user_id: "@r:example.org" });
    fileReport(admin, clock, "later", 1000);
    await poller.poll();

    // Posted oldest received first (reports of both kinds interleave by received time, not by number).
    expect(cards(chat).map((entry) => entry.message.record?.["event_id"])).toEqual(["$plain", "$scored", "$later"]);
    const named = chat.plainBodies().filter((body) => body.includes("could not read"));
    expect(named).toHaveLength(1);
    expect(named[0]).toContain("51");
  });

  it("names an unreadable entry once, across polls and restarts, with a transaction id that makes a resend a repeat", async () => {
    const store = sqliteStore();
    const chat = new DedupingChat();
    const { admin, clock, poller, logger } = setup({ store, chat });
    admin.oddEntries.push({ id: 51, received_ts: clock.now() - 2000, room_id: "!odd:example.org", event_id: 42, user_id: "@r:example.org" });
    admin.oddEntries.push({ received_ts: clock.now() - 1000, event_id: "$no-id" });
    await poller.poll();
    await poller.poll();
    await setup({ store, chat, admin }).poller.poll();

    const named = chat.sent.filter((entry) => entry.message.record?.["type"] === "reports-unreadable");
    expect(named).toHaveLength(1);
    expect(named[0]?.message.plain.split("\n")).toEqual([
      "Warden could not read 2 event reports the homeserver listed; they have no card. The other reports are posted as usual.",
      "A report without a readable id: id: Invalid input: expected number, received undefined; room_id: Invalid input: expected string, received undefined; user_id: Invalid input: expected string, received undefined",
      "Homeserver report 51: event_id: Invalid input: expected string, received number",
    ]);
    expect(named[0]?.message.record).toEqual({ type: "reports-unreadable", reports: 2, homeserver_report_ids: [51] });
    expect(named[0]?.options?.transactionId).toMatch(/^warden-reports-unreadable-[0-9a-f]{24}$/);
    expect(logger.withMessage("an event report the homeserver listed could not be read").map((entry) => entry["homeserverReportId"])).toEqual([undefined, 51]);
    expect(store.unnamed()).toEqual([]);
  });

  it("names them at the next poll when the message could not be sent, and a message that went out but was not marked is not sent twice", async () => {
    const store = new MemoryReportStore();
    const chat = new DedupingChat();
    const { admin, clock, poller } = setup({ store, chat });
    admin.oddEntries.push({ id: 51, received_ts: clock.now() - 2000, event_id: 42 });
    chat.failWith = "network down";
    await poller.poll();
    expect(store.unnamed()).toHaveLength(1);
    chat.failWith = undefined;
    await poller.poll();
    expect(store.unnamed()).toEqual([]);
    const sent = chat.sent.filter((entry) => entry.message.record?.["type"] === "reports-unreadable");
    expect(sent).toHaveLength(2);

    // Sent, then Warden stopped before marking it: the next start sends the same message again, and the homeserver drops it.
    const named = [...store.unreadable.values()];
    for (const entry of named) store.unreadable.set(entry.key, { kind: entry.kind, key: entry.key, problem: entry.problem, ...(entry.homeserverId === undefined ? {} : { homeserverId: entry.homeserverId }) });
    const before = chat.plainBodies().length;
    await setup({ store, chat, admin }).poller.poll();
    expect(chat.plainBodies()).toHaveLength(before);
    expect(new Set(sent.map((entry) => entry.options?.transactionId)).size).toBe(1);
  });

  it("a score too large for an integer column (any client may send one) stops nothing", async () => {
    const { admin, clock, chat, poller } = setup({ store: sqliteStore() });
    admin.addReport({ room_id: "!a:example.org", event_id: "$huge", received_ts: clock.now() - 2000, sender: "@a:example.org", score: 1e20 });
    admin.addReport({ room_id: "!b:example.org", event_id: "$half", received_ts: clock.now() - 1000, sender: "@b:example.org", score: 0.5 });
    await poller.poll();

    expect(cards(chat)).toHaveLength(2);
  });
});
