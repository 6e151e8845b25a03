import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import type { Digest, StoredReport } from "../model/reports.js";
import { renderDigest, renderReportCard } from "../render/reports.js";
import type { EventReport, SynapseAdminClient } from "../synapse/adminClient.js";
import { present } from "../model/lookups.js";
import type { Clock } from "../util/clock.js";
import { foldFor, type BurstRules, type Fold } from "./burst.js";
import { buildCard } from "./enrich.js";
import type { ReportStore } from "./store.js";

/** Reports per page of the admin API. */
const PAGE = 50;
/** Pages read in one poll at most; a backlog larger than this is read over the next polls. */
const MAX_PAGES = 40;
/**
 * Each next page starts this many reports earlier than the offset Synapse suggests: deleting
 * reports between two page reads shifts the later ones forward, and the overlap catches them.
 * Reports read twice are recognised by id.
 */
const PAGE_OVERLAP = 10;
/** On the very first start, only reports younger than this get a card; older ones are counted. */
export const FIRST_START_WINDOW_MS = 24 * 3600_000;

export interface ReportPollerOptions extends BurstRules {
  readonly pollEveryMs: number;
  readonly managementRoomId: RoomId;
  readonly prefix: string;
}

export type PollerAdmin = Pick<SynapseAdminClient, "eventReports" | "eventContext">;

/**
 * Brings the homeserver's event reports into the management room, each exactly once.
 *
 * Exactly once: a report is identified by its id. Each poll reads the list newest first from
 * the start until it reaches a page holding a report at or below the stored high-water mark,
 * and takes every report not yet in the store. New reports and the moved mark are stored in
 * one transaction before any card is posted; a card is posted with a transaction id made from
 * the report id, so a restart between storing and posting sends it again and the homeserver
 * drops the repeat. Deleted reports and pages that shift only change what a page holds, never
 * whether a stored id is posted again.
 */
export class ReportPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly admin: PollerAdmin,
    private readonly store: ReportStore,
    private readonly chat: Pick<ChatSender, "send" | "edit">,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: ReportPollerOptions,
    private readonly onSeen: (count: number) => void = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** One poll; overlapping calls share the poll in progress. Never throws. */
  poll(): Promise<void> {
    this.running ??= this.pollNow()
      .catch((error: unknown) => {
        this.log.error({ err: error }, "polling event reports failed");
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().then(() => {
        this.schedule(this.options.pollEveryMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async pollNow(): Promise<void> {
    const taken = await this.takeNew();
    if (taken === undefined) return;
    if (taken.count > 0) {
      this.log.info({ reports: taken.count }, "new event reports");
      this.onSeen(taken.count);
    }
    if (taken.olderSkipped > 0) await this.announceSkipped(taken.olderSkipped);
    await this.postPending();
  }

  /** Reads the new reports and stores them with the moved cursor. Undefined when the homeserver did not answer. */
  private async takeNew(): Promise<{ count: number; olderSkipped: number } | undefined> {
    const cursor = this.store.cursor();
    const now = this.clock.now();
    const firstStart = cursor === undefined;
    let highWater = cursor?.highWater ?? 0;
    let floor = cursor?.floor ?? 0;
    const fresh = new Map<number, EventReport>();
    let total = 0;
    let from = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const listed = await this.admin.eventReports({ from, limit: PAGE, direction: "b" });
      if (!listed.ok) {
        this.log.warn({ error: listed.error.kind, detail: listed.error.detail }, "could not read the event reports");
        return undefined;
      }
      if (page === 0) total = listed.value.total;
      let reachedKnown = false;
      for (const report of listed.value.event_reports) {
        if (firstStart && report.received_ts < now - FIRST_START_WINDOW_MS) {
          floor = Math.max(floor, report.id);
          reachedKnown = true;
          continue;
        }
        highWater = Math.max(highWater, report.id);
        if (cursor !== undefined && report.id <= cursor.highWater) reachedKnown = true;
        if (report.id <= floor || fresh.has(report.id) || this.store.has(report.id)) continue;
        fresh.set(report.id, report);
      }
      const next = listed.value.next_token;
      if (reachedKnown || next === undefined || next === null || listed.value.event_reports.length === 0) break;
      from = Math.max(from + 1, next - PAGE_OVERLAP);
    }
    const reports = [...fresh.values()].filter((report) => report.id > floor).map((report) => toStored(report, now));
    this.store.take(reports, { highWater: Math.max(highWater, floor), floor });
    return { count: reports.length, olderSkipped: firstStart ? Math.max(0, total - reports.length) : 0 };
  }

  private async announceSkipped(count: number): Promise<void> {
    const text = `Warden reads event reports from now on. ${count} report${count === 1 ? "" : "s"} older than a day ${count === 1 ? "was" : "were"} already on the homeserver and ${count === 1 ? "is" : "are"} not posted here.`;
    const sent = await this.chat.send(this.options.managementRoomId, { plain: text, html: text, record: { type: "reports-first-start", older_not_posted: count } }, { transactionId: "warden-reports-first-start" });
    if (!sent.ok) this.log.warn({ error: sent.error }, "could not announce the older reports");
  }

  /** Posts every stored report that has no card yet, oldest first; stops at the first failed send (the next poll retries). */
  async postPending(): Promise<void> {
    for (const report of this.store.unposted()) {
      const fold = foldFor(report, this.store, this.options);
      const posted = fold === undefined ? await this.postCard(report) : await this.fold(report, fold);
      if (!posted) return;
    }
  }

  private async postCard(report: StoredReport): Promise<boolean> {
    const card = await buildCard(report, this.admin);
    const sent = await this.chat.send(this.options.managementRoomId, renderReportCard(card, this.options.prefix), { transactionId: `warden-report-${report.id}` });
    if (!sent.ok) {
      this.log.warn({ reportId: report.id, error: sent.error }, "could not post a report card; retrying at the next poll");
      return false;
    }
    this.store.update(report.id, { cardEventId: sent.value });
    this.log.info({ reportId: report.id, cardEventId: sent.value }, "report card posted");
    return true;
  }

  private async fold(report: StoredReport, fold: Fold): Promise<boolean> {
    const existing = this.store.digest(fold.key);
    const joinable = existing?.cardEventId !== undefined && report.receivedTs - existing.lastTs <= this.options.windowMs;
    const digest: Digest = joinable
      ? { ...existing, reportIds: [...new Set([...existing.reportIds, report.id])], lastTs: Math.max(existing.lastTs, report.receivedTs) }
      : { key: fold.key, kind: fold.kind, subject: fold.subject, reportIds: [report.id], lastTs: report.receivedTs };
    this.store.saveDigest(digest);
    const members = digest.reportIds.flatMap((id) => {
      const stored = this.store.get(id);
      return stored === undefined ? [] : [stored];
    });
    const message = renderDigest(digest, members, this.options.prefix);
    if (digest.cardEventId !== undefined) {
      const edited = await this.chat.edit(this.options.managementRoomId, digest.cardEventId, message);
      if (!edited.ok) this.log.warn({ digest: fold.kind, error: edited.error }, "could not edit a digest card; it catches up at its next change");
      this.store.update(report.id, { digestKey: digest.key, cardEventId: digest.cardEventId });
      return true;
    }
    const sent = await this.chat.send(this.options.managementRoomId, message, { transactionId: `warden-digest-${report.id}` });
    if (!sent.ok) {
      this.log.warn({ reportId: report.id, error: sent.error }, "could not post a digest card; retrying at the next poll");
      return false;
    }
    this.store.saveDigest({ ...digest, cardEventId: sent.value });
    this.store.update(report.id, { digestKey: digest.key, cardEventId: sent.value });
    this.log.info({ reportId: report.id, digest: fold.kind, cardEventId: sent.value }, "burst: report folded into a new digest card");
    return true;
  }
}

function toStored(report: EventReport, now: number): StoredReport {
  return {
    id: report.id,
    receivedTs: report.received_ts,
    roomId: report.room_id,
    eventId: report.event_id,
    reporter: report.user_id,
    state: "open",
    changedAt: now,
    deletedOnHomeserver: false,
    ...present("roomName", report.name),
    ...present("canonicalAlias", report.canonical_alias),
    ...present("sender", report.sender),
    ...present("reason", report.reason),
    ...present("score", report.score),
  };
}
