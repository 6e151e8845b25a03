import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import type { Digest, ReportIdentity, StoredReport, UnreadableReport } from "../model/reports.js";
import { renderDigest, renderReportCard, renderUnreadableReports } from "../render/reports.js";
import type { EventReport, SynapseAdminClient } from "../synapse/adminClient.js";
import { present } from "../model/lookups.js";
import type { Clock } from "../util/clock.js";
import { foldFor, type BurstRules, type Fold } from "./burst.js";
import { buildCard } from "./enrich.js";
import type { NewReport, ReportGap, ReportStore } from "./store.js";
import { walkReports, type WalkPlace, type WalkResult } from "./walk.js";

/** Reports per page of the admin API. */
const PAGE = 50;
/** Pages read in one poll at most; a backlog larger than this is read over the next polls. */
const MAX_PAGES = 40;
/** On the very first start, only reports younger than this get a card; older ones are counted. */
export const FIRST_START_WINDOW_MS = 24 * 3600_000;

export interface ReportPollerOptions extends BurstRules {
  readonly pollEveryMs: number;
  readonly managementRoomId: RoomId;
  readonly prefix: string;
  /** Reports per page (default 50) and pages per poll (default 40): tests make them small. */
  readonly pageSize?: number;
  readonly pagesPerPoll?: number;
}

export type PollerAdmin = Pick<SynapseAdminClient, "eventReports" | "eventContext">;

/**
 * Brings the homeserver's event reports into the management room, each exactly once.
 *
 * Exactly once: a report is known by its homeserver id, event, reporter and received time (the
 * id alone is not enough: Synapse reuses a deleted newest id after a restart). Each poll reads
 * the list newest first from the top down to the newest time read before, then goes on with
 * any stretch an earlier poll's page budget left unread (the gap), and stores every report not
 * known yet together with the moved cursor, in one transaction, before any card is posted. A
 * card is posted with a transaction id made from Warden's number for the report, so a restart
 * between storing and posting sends it again and the homeserver drops the repeat. Reports filed
 * or deleted meanwhile only move entries up or down the pages; walkReports never skips one.
 */
export class ReportPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  // Stryker disable next-line BooleanLiteral: equivalent — start() sets it before anything reads it
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
    // Stryker disable next-line ConditionalExpression: equivalent — clearTimeout(undefined) does nothing
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
    // Stryker disable next-line CallExpression: equivalent for tests — unref only lets the process exit while a poll waits
    this.timer.unref();
  }

  private async pollNow(): Promise<void> {
    // Named before reading on: after a crash between storing and naming, the same entries make
    // the same message, and its transaction id lets the homeserver drop a repeat.
    await this.nameUnreadable();
    const taken = await this.takeNew();
    if (taken === undefined) return;
    if (taken.count > 0) {
      this.log.info({ reports: taken.count }, "new event reports");
      this.onSeen(taken.count);
    }
    if (taken.olderSkipped > 0) await this.announceSkipped(taken.olderSkipped);
    await this.postPending();
    await this.nameUnreadable();
  }

  /** Reads the new reports and stores them with the moved cursor. Undefined when the homeserver did not answer. */
  private async takeNew(): Promise<{ count: number; olderSkipped: number } | undefined> {
    const cursor = this.store.cursor();
    const firstStart = cursor === undefined;
    const stopTs = cursor?.newestTs ?? this.clock.now() - FIRST_START_WINDOW_MS;
    const pageSize = this.options.pageSize ?? PAGE;
    const budget = this.options.pagesPerPoll ?? MAX_PAGES;
    let gap = cursor?.gap;
    // A gap waiting keeps one page of the budget for itself, so that a steady stream of new
    // reports at the top never stops it from being read.
    const top = await walkReports(this.admin, { from: 0, stopTs, pages: gap === undefined ? budget : Math.max(1, budget - 1), pageSize });
    const read = new Reads(this.store);
    read.add(top);
    // Reports filed since the last poll moved the gap down the list by as many places.
    const filed = read.count();
    let olderSkipped = 0;
    if (top.end.complete) {
      if (firstStart) olderSkipped = top.end.below;
      if (gap !== undefined) {
        const from = gap.offset + filed;
        // Stryker disable next-line ConditionalExpression: equivalent — `report: undefined` is no report, as the walk reads it
        const above = { ts: gap.toTs, ...(gap.top === undefined ? {} : { report: gap.top }) };
        const down = await walkReports(this.admin, { from, above, stopTs: gap.fromTs, pages: Math.max(1, budget - top.pages), pageSize });
        read.add(down);
        if (down.end.complete) {
          if (gap.countOlder) olderSkipped = down.end.below;
          gap = undefined;
        } else {
          // A walk with `above` always knows where it got to; the fallback only satisfies the type.
          // Stryker disable next-line LogicalOperator,ObjectLiteral: equivalent, see above
          const at = down.end.at ?? { ...above, offset: from };
          gap = { fromTs: gap.fromTs, countOlder: gap.countOlder, ...gapTop(at) };
        }
      }
    } else if (top.end.at === undefined) {
      this.log.warn({ error: top.end.failed?.kind, detail: top.end.failed?.detail }, "could not read the event reports");
      return undefined;
    } else {
      // Out of pages before reaching what was read before: the rest is a gap, joined to an older
      // one (the known reports between are read again, and recognised).
      const at = top.end.at;
      gap = { fromTs: gap?.fromTs ?? stopTs, countOlder: (gap?.countOlder ?? false) || firstStart, ...gapTop(at) };
      this.log.info({ pages: top.pages, readTo: at.ts }, "event report backlog: the rest is read at the next polls");
    }
    const newestTs = Math.max(stopTs, ...top.reports.map((report) => report.received_ts));
    const now = this.clock.now();
    const taken = this.store.take({ reports: read.fresh().map((report) => toStored(report, now)), cursor: { newestTs, ...(gap === undefined ? {} : { gap }) }, unreadable: read.unreadable() });
    for (const entry of taken.unreadable) this.log.warn({ homeserverReportId: entry.homeserverId, problem: entry.problem }, "an event report the homeserver listed could not be read");
    return { count: taken.reports.length, olderSkipped };
  }

  /** Names the unreadable entries not named yet in one message (bounded), and marks them named. */
  private async nameUnreadable(): Promise<void> {
    const entries = this.store.unnamed();
    if (entries.length === 0) return;
    const keys = entries.map((entry) => entry.key);
    // Stryker disable next-line StringLiteral: equivalent — the keys are hex digests of one length, so any separator tells the same sets apart
    const transactionId = `warden-reports-unreadable-${createHash("sha256").update(keys.join("\n")).digest("hex").slice(0, 24)}`;
    const sent = await this.chat.send(this.options.managementRoomId, renderUnreadableReports(entries), { transactionId });
    if (!sent.ok) {
      this.log.warn({ error: sent.error }, "could not name the unreadable event reports; retrying at the next poll");
      return;
    }
    this.store.markNamed(keys, sent.value);
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
    // Warden's number, not the homeserver's id: a reused id must not look like a repeat.
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

/** The gap's upper end: where a walk got to. */
function gapTop(at: WalkPlace): Pick<ReportGap, "toTs" | "top" | "offset"> {
  // Stryker disable next-line ConditionalExpression: equivalent — `top: undefined` is no top, for both stores and the walk
  return { toTs: at.ts, offset: at.offset, ...(at.report === undefined ? {} : { top: at.report }) };
}

/** Everything the walks of one poll read: the reports not known yet (by identity) and the unreadable entries. */
class Reads {
  private readonly reports = new Map<string, EventReport>();
  private readonly entries = new Map<string, UnreadableReport>();

  constructor(private readonly store: Pick<ReportStore, "knows">) {}

  add(walk: WalkResult): void {
    for (const report of walk.reports) {
      const key = identityKey(report);
      if (!this.reports.has(key) && !this.store.knows(identityOf(report))) this.reports.set(key, report);
    }
    for (const entry of walk.unreadable) {
      const key = createHash("sha256").update(entry.fields).digest("hex");
      this.entries.set(key, { key, problem: entry.problem, ...present("homeserverId", entry.id) });
    }
  }

  count(): number {
    return this.reports.size;
  }

  /** Oldest first, so that numbers given in turn follow the order reports were received in. */
  fresh(): EventReport[] {
    return [...this.reports.values()].sort((a, b) => a.received_ts - b.received_ts || a.id - b.id);
  }

  unreadable(): UnreadableReport[] {
    return [...this.entries.values()];
  }
}

function identityOf(report: EventReport): ReportIdentity {
  return { homeserverId: report.id, eventId: report.event_id, reporter: report.user_id, receivedTs: report.received_ts };
}

function identityKey(report: EventReport): string {
  return JSON.stringify([report.id, report.event_id, report.user_id, report.received_ts]);
}

function toStored(report: EventReport, now: number): NewReport {
  return {
    homeserverId: report.id,
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
