import { afterEach, describe, expect, it, vi } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { eventReportRef as ev, type StoredReport } from "../../../src/model/reports.js";
import { FIRST_START_WINDOW_MS, ReportPoller } from "../../../src/reports/poller.js";
import type { EventReportQuery } from "../../../src/synapse/adminClient.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryReportStore } from "../../fakes/memoryReportStore.js";
import { RecordingChat } from "../../fakes/recordingChat.js";

// What the mutation run found unpinned in the poller: its timer, the page budget between the
// top of the list and a gap, the first start's count, numbering, and how cards and digests go out.

const MGMT = "!mgmt:example.org" as RoomId;

interface Options {
  readonly store?: MemoryReportStore;
  readonly admin?: FakeReportAdmin;
  readonly chat?: RecordingChat;
  readonly clock?: FixedClock;
  readonly pageSize?: number;
  readonly pagesPerPoll?: number;
  readonly burst?: number;
}

function setup(options: Options = {}) {
  const clock = options.clock ?? new FixedClock();
  const admin = options.admin ?? new FakeReportAdmin();
  const store = options.store ?? new MemoryReportStore();
  const chat = options.chat ?? new RecordingChat();
  const logger = new MemoryLogger();
  const seen: number[] = [];
  const poller = new ReportPoller(
    admin,
    store,
    chat,
    clock,
    logger.log,
    { pollEveryMs: 30_000, burst: options.burst ?? 5, windowMs: 600_000, managementRoomId: MGMT, prefix: "!", pageSize: options.pageSize ?? 10, pagesPerPoll: options.pagesPerPoll ?? 3 },
    (count) => seen.push(count),
  );
  const list = admin.eventReports.bind(admin);
  const reads: EventReportQuery[] = [];
  admin.eventReports = (query) => {
    // The sender's earlier reports (a card's count) are not the poll's reads.
    if (query?.eventSender === undefined) reads.push(query ?? {});
    return list(query);
  };
  return { clock, admin, store, chat, poller, logger, seen, reads };
}

let filed = 0;
/** A report in a room and about a sender of its own (no burst), received `ageMs` before now. */
function file(admin: FakeReportAdmin, clock: FixedClock, ageMs = 0) {
  filed++;
  return admin.addReport({ room_id: `!r${filed}:example.org`, event_id: `$e${filed}`, received_ts: clock.now() - ageMs, sender: `@s${filed}:example.org` });
}

/** `count` reports received one second apart, the newest `ageMs` before now. */
function fileMany(admin: FakeReportAdmin, clock: FixedClock, count: number, ageMs = 0): void {
  for (let i = count - 1; i >= 0; i--) file(admin, clock, ageMs + i * 1000);
}

const cardCount = (chat: RecordingChat) => chat.sent.filter((entry) => entry.message.record?.["type"] === "report").length;

afterEach(() => {
  vi.useRealTimers();
});

describe("the poller's timer", () => {
  it("polls at once when started, then every pollEvery, and not after it is stopped", async () => {
    vi.useFakeTimers();
    const { reads, poller } = setup();
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reads).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reads).toHaveLength(3);

    poller.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reads).toHaveLength(3);
    poller.stop();
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(4);
    poller.stop();
  });

  it("stops a schedule that was waiting for its poll to end", async () => {
    vi.useFakeTimers();
    const { poller, admin } = setup();
    const list = admin.eventReports.bind(admin);
    const waiting: (() => void)[] = [];
    let asked = 0;
    // Each read is counted when asked, and answered only when released.
    admin.eventReports = async (query) => {
      asked++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return list(query);
    };
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toBe(1);
    poller.stop();
    for (const release of waiting.splice(0)) release();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked).toBe(1);
  });
});

describe("one poll", () => {
  it("counts new reports as seen only when there are some", async () => {
    const { admin, clock, poller, seen } = setup();
    file(admin, clock, 1000);
    await poller.poll();
    await poller.poll();
    expect(seen).toEqual([1]);
  });

  it("leaves the cursor alone when the homeserver does not answer at the first start, so the next poll is still the first", async () => {
    const { admin, clock, poller, store, logger, chat } = setup();
    fileMany(admin, clock, 3, FIRST_START_WINDOW_MS + 60_000);
    admin.reportFailures.set("eventReports", adminError("unreachable"));
    await poller.poll();
    expect(store.cursor("event")).toBeUndefined();
    expect(logger.withMessage("could not read the event reports")).toHaveLength(1);

    admin.reportFailures.delete("eventReports");
    await poller.poll();
    expect(chat.plainBodies()).toEqual(["Warden reads event reports from now on. 3 reports older than a day were already on the homeserver and are not posted here."]);
  });

  it("says it once, in the singular, for one older report, with a record and a fixed transaction id", async () => {
    const { admin, clock, poller, chat } = setup();
    file(admin, clock, FIRST_START_WINDOW_MS + 1);
    await poller.poll();
    expect(chat.sent.map((entry) => [entry.message.plain, entry.message.record, entry.options?.transactionId])).toEqual([
      ["Warden reads event reports from now on. 1 report older than a day was already on the homeserver and is not posted here.", { type: "reports-first-start", older_not_posted: 1 }, "warden-reports-first-start"],
    ]);
  });

  it("keeps what the homeserver said of a report: room name, alias, reason, score; not deleted there", async () => {
    const { admin, clock, poller, store } = setup();
    admin.addReport({ room_id: "!lobby:example.org", event_id: "$e", received_ts: clock.now() - 1000, name: "Lobby", canonical_alias: "#lobby:example.org", reason: "spam", score: -100 });
    await poller.poll();
    const [taken] = store.reports.values();
    expect(taken).toMatchObject({ roomName: "Lobby", canonicalAlias: "#lobby:example.org", reason: "spam", score: -100, deletedOnHomeserver: false, state: "open" });
  });

  it("numbers reports whose homeserver ids are taken in the order they were received (then by id)", async () => {
    const { admin, clock, poller, store } = setup();
    const base = clock.now() - 100_000;
    store.seed(Array.from({ length: 10 }, (_, i): StoredReport => ({ kind: "event", id: i + 1, homeserverId: i + 1, receivedTs: base + i, roomId: "!r:x", eventId: `$old${i + 1}`, reporter: "@r:x", state: "open", changedAt: 1, deletedOnHomeserver: false, cardEventId: `$c${i + 1}` })));
    const reused = (id: number, receivedTs: number) => admin.reports.push({ id, received_ts: receivedTs, room_id: `!n${id}:x`, event_id: `$new${id}`, user_id: "@r:x", sender: `@s${id}:x` });
    // Listed newest first, the two received at the same moment in the order 8, 7.
    reused(8, clock.now() - 2000);
    reused(7, clock.now() - 2000);
    reused(9, clock.now() - 3000);
    await poller.poll();
    expect([11, 12, 13].map((id) => store.get(ev(id))?.homeserverId)).toEqual([9, 7, 8]);
  });
});

describe("the page budget between the top of the list and a gap", () => {
  it("lets the top of the list use the whole budget when no gap waits", async () => {
    const { admin, clock, poller, store, reads } = setup();
    file(admin, clock, 100_000);
    await poller.poll();
    // 20 new reports and the one read before: pages at 0, 8 and 16 (10 a page, 2 overlapping).
    fileMany(admin, clock, 20);
    reads.length = 0;
    await poller.poll();
    expect(reads.map((query) => query.from)).toEqual([0, 8, 16]);
    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(store.reports.size).toBe(21);
  });

  it("keeps to the budget when a gap waits: the top gets all but one page", async () => {
    const { admin, clock, poller, store, reads } = setup();
    file(admin, clock, 1_000_000);
    await poller.poll();
    fileMany(admin, clock, 50, 100_000);
    await poller.poll();
    expect(store.cursor("event")?.gap).toBeDefined();
    fileMany(admin, clock, 20);
    reads.length = 0;
    await poller.poll();
    expect(reads.map((query) => query.from)).toEqual([0, 8]);
  });

  it("starts the gap as many places lower as reports were filed since", async () => {
    const store = new MemoryReportStore();
    const admin = new FakeReportAdmin();
    const clock = new FixedClock();
    const first = setup({ store, admin, clock });
    file(admin, clock, 1_000_000);
    await first.poller.poll();
    fileMany(admin, clock, 50, 100_000);
    await first.poller.poll();
    // Read 0–25 of the 51; the gap goes on at 24 (two entries before where the walk stopped).
    expect(store.cursor("event")?.gap?.offset).toBe(24);
    fileMany(admin, clock, 5);

    const roomier = setup({ store, admin, clock, pagesPerPoll: 10 });
    await roomier.poller.poll();
    // The top (one page), then the gap from 24 + 5 to the end of the list: 29, 37, 45, 53.
    expect(roomier.reads.map((query) => query.from)).toEqual([0, 29, 37, 45, 53]);
    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(store.reports.size).toBe(56);
  });

  it("counts older reports only for the first start's gap, also when a later gap joins it", async () => {
    const { admin, clock, poller, store, chat } = setup({ pagesPerPoll: 2 });
    fileMany(admin, clock, 7, FIRST_START_WINDOW_MS + 60_000);
    fileMany(admin, clock, 45, 3_600_000);
    await poller.poll();
    fileMany(admin, clock, 20);
    await poller.poll();
    expect(store.cursor("event")?.gap?.countOlder).toBe(true);
    for (let poll = 0; poll < 20 && store.cursor("event")?.gap !== undefined; poll++) await poller.poll();

    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(chat.plainBodies().filter((body) => body.includes("older than a day"))).toEqual([
      "Warden reads event reports from now on. 7 reports older than a day were already on the homeserver and are not posted here.",
    ]);
  });

  it("does not count the reports below a later gap as older than a day", async () => {
    const { admin, clock, poller, store, chat } = setup();
    fileMany(admin, clock, 3, 1_000_000);
    await poller.poll();
    fileMany(admin, clock, 50, 100_000);
    await poller.poll();
    expect(store.cursor("event")?.gap).toMatchObject({ countOlder: false });
    for (let poll = 0; poll < 20 && store.cursor("event")?.gap !== undefined; poll++) await poller.poll();

    expect(store.cursor("event")?.gap).toBeUndefined();
    expect(store.reports.size).toBe(53);
    expect(chat.plainBodies().filter((body) => body.includes("older than a day"))).toEqual([]);
  });
});

describe("posting cards and digests", () => {
  /** Fails every send of the given record type (a report card, a digest). */
  class FailingChat extends RecordingChat {
    constructor(private readonly failing: string) {
      super();
    }

    override send(...args: Parameters<RecordingChat["send"]>) {
      const sent = super.send(...args);
      return args[1].record?.["type"] === this.failing ? Promise.resolve({ ok: false as const, error: { kind: "failed" as const, detail: "refused" } }) : sent;
    }
  }

  it("stops at the first card that cannot be sent, and sends it first at the next poll", async () => {
    const chat = new FailingChat("report");
    const { admin, clock, poller, store } = setup({ chat });
    fileMany(admin, clock, 3, 10_000);
    await poller.poll();
    expect(chat.sent).toHaveLength(1);
    expect(store.unposted()).toHaveLength(3);
  });

  it("stops at a digest that cannot be sent, and leaves its report to the next poll", async () => {
    const chat = new FailingChat("report-digest");
    const { admin, clock, poller, store } = setup({ chat, burst: 1 });
    for (let i = 0; i < 3; i++) admin.addReport({ room_id: "!raid:example.org", event_id: `$raid${i}`, received_ts: clock.now() - 10_000 + i });
    await poller.poll();
    expect(chat.sent.map((entry) => entry.message.record?.["type"])).toEqual(["report", "report-digest"]);
    expect(store.unposted().map((report) => (report.kind === "event" ? report.eventId : ""))).toEqual(["$raid1", "$raid2"]);
  });

  it("sends a digest with a transaction id of its first report, joins a report received exactly a window after its last, and moves its last time on", async () => {
    const { admin, clock, poller, store, chat } = setup({ burst: 1 });
    const t0 = clock.now() - 2_000_000;
    admin.addReport({ room_id: "!raid:example.org", event_id: "$a", received_ts: t0 });
    admin.addReport({ room_id: "!raid:example.org", event_id: "$b", received_ts: t0 + 1 });
    admin.addReport({ room_id: "!raid:example.org", event_id: "$c", received_ts: t0 + 1 + 600_000 });
    await poller.poll();

    const digests = chat.sent.filter((entry) => entry.message.record?.["type"] === "report-digest");
    expect(digests.map((entry) => entry.options?.transactionId)).toEqual(["warden-digest-2"]);
    expect(chat.edited.map((edit) => edit.eventId)).toEqual([digests[0]?.eventId]);
    expect(store.digest("room !raid:example.org")).toMatchObject({ reportIds: [ev(2), ev(3)], lastTs: t0 + 1 + 600_000 });
  });

  it("sends a report's card with a transaction id of Warden's number for it, not the homeserver's id", async () => {
    const { admin, clock, poller, chat, store } = setup();
    store.seed([{ kind: "event", id: 1, homeserverId: 1, receivedTs: clock.now() - 5000, roomId: "!r:x", eventId: "$gone", reporter: "@r:x", state: "resolved", changedAt: 1, deletedOnHomeserver: true, cardEventId: "$c1" }]);
    file(admin, clock, 1000);
    await poller.poll();
    expect(chat.sent.map((entry) => entry.options?.transactionId)).toEqual(["warden-report-2"]);
    expect(cardCount(chat)).toBe(1);
  });
});

describe("the first start", () => {
  it("posts reports received exactly a day ago", async () => {
    const { admin, clock, poller, chat } = setup();
    file(admin, clock, FIRST_START_WINDOW_MS);
    file(admin, clock, FIRST_START_WINDOW_MS + 1);
    await poller.poll();
    expect(cardCount(chat)).toBe(1);
    expect(FIXED_NOW).toBe(clock.now());
  });
});
