import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { identityOf, reportLabel, sameRef, type Digest, type ReportFacts, type ReportKind, type ReportRef, type StoredReport, type UnreadableReport } from "../model/reports.js";
import { renderDigest, renderReportCard, renderReportsFirstStart, renderUnreadableReports, renderUserReportsUnavailable } from "../render/reports.js";
import type { AdminError, SynapseAdminClient } from "../synapse/adminClient.js";
import { FEATURE_VERSIONS, supports, unsupportedAnswer, type HomeserverVersion } from "../synapse/features.js";
import { present } from "../model/lookups.js";
import type { Clock } from "../util/clock.js";
import { foldFor, type BurstRules, type Fold } from "./burst.js";
import { buildCard } from "./enrich.js";
import { eventReportList, userReportList, type ReportList } from "./lists.js";
import type { NewReport, ReportGap, ReportStore } from "./store.js";
import { walkReports, type WalkPlace, type WalkResult } from "./walk.js";

/** Reports per page of the admin API. */
const PAGE = 50;
/** Pages read in one poll at most, per list; a backlog larger than this is read over the next polls. */
const MAX_PAGES = 40;
/** On the very first start, only reports younger than this get a card; older ones are counted. */
export const FIRST_START_WINDOW_MS = 24 * 3600_000;
/** The notice that reports about users cannot be read here, posted once (see noticePosted). */
export const USER_REPORTS_UNAVAILABLE = "user-reports-unavailable";

export interface ReportPollerOptions extends BurstRules {
  readonly pollEveryMs: number;
  readonly managementRoomId: RoomId;
  readonly prefix: string;
  /** Reports per page (default 50) and pages per poll (default 40): tests make them small. */
  readonly pageSize?: number;
  readonly pagesPerPoll?: number;
  /**
   * What Warden knows of the homeserver's version: reports about users are read from Synapse
   * 1.152 on. Without it (or when it does not read) they are tried, and an M_UNRECOGNIZED answer tells.
   */
  readonly homeserverVersion?: HomeserverVersion;
}

export type PollerAdmin = Pick<SynapseAdminClient, "eventReports" | "eventContext" | "userReports">;

/** How log lines name each kind. */
const NOUNS: Readonly<Record<ReportKind, { readonly plural: string; readonly one: string }>> = {
  event: { plural: "event reports", one: "an event report" },
  user: { plural: "reports about users", one: "a report about a user" },
};

/**
 * Brings the homeserver's reports into the management room, each exactly once: reports about
 * events, and (Synapse ≥ 1.152) reports about users. Both lists are read the same way, one
 * after the other in each poll, and their reports share the cards, states and digests.
 *
 * Exactly once: a report is known by its kind, homeserver id, event or reported user, reporter
 * and received time (the id alone is not enough: Synapse reuses a deleted newest id after a
 * restart). Each poll reads a list newest first from the top down to the newest time read
 * before, then goes on with any stretch an earlier poll's page budget left unread (the gap),
 * and stores every report not known yet together with that list's moved cursor, in one
 * transaction, before any card is posted. A card is posted with a transaction id made from
 * Warden's number for the report, so a restart between storing and posting sends it again and
 * the homeserver drops the repeat. Reports filed or deleted meanwhile only move entries up or
 * down the pages; walkReports never skips one.
 *
 * On a Synapse without reports about users (older than 1.152 by its version, or answering
 * M_UNRECOGNIZED), the room is told once — remembered across restarts — and that list is no
 * longer read; event reports go on.
 */
export class ReportPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  // Stryker disable next-line BooleanLiteral: equivalent — start() sets it before anything reads it
  private stopped = false;
  /** Set when the homeserver answered that it has no user_reports endpoint: not asked again in this run. */
  private userReportsRefused = false;
  private readonly events: ReportList;
  private readonly users: ReportList;

  constructor(
    private readonly admin: PollerAdmin,
    private readonly store: ReportStore,
    private readonly chat: Pick<ChatSender, "send" | "edit">,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: ReportPollerOptions,
    private readonly onSeen: (count: number) => void = () => undefined,
  ) {
    this.events = eventReportList(admin);
    this.users = userReportList(admin);
  }

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
        this.log.error({ err: error }, "polling reports failed");
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
    let answered = false;
    let count = 0;
    for (const list of [this.events, ...(await this.userListNow())]) {
      const taken = await this.takeNew(list);
      if (!taken.ok) {
        if (list.kind === "user" && taken.error !== undefined && unsupportedAnswer(taken.error)) await this.userReportsUnavailable();
        continue;
      }
      answered = true;
      if (list.kind === "user" && this.store.noticePosted(USER_REPORTS_UNAVAILABLE)) this.store.markNotice(USER_REPORTS_UNAVAILABLE, false);
      if (taken.count > 0) this.log.info({ kind: list.kind, reports: taken.count }, `new ${NOUNS[list.kind].plural}`);
      count += taken.count;
      if (taken.olderSkipped > 0) await this.announceSkipped(list.kind, taken.olderSkipped);
    }
    if (count > 0) this.onSeen(count);
    if (!answered) return;
    await this.postPending();
    await this.nameUnreadable();
  }

  /** The list of reports about users, when this homeserver has one (as far as Warden knows); else the room is told, once. */
  private async userListNow(): Promise<ReportList[]> {
    if (this.userReportsRefused) return [];
    if (supports(this.options.homeserverVersion?.current(), "userReports")) return [this.users];
    await this.userReportsUnavailable();
    return [];
  }

  /** Says once (across restarts) that reports about users need a newer Synapse, and stops asking for them in this run. */
  private async userReportsUnavailable(): Promise<void> {
    this.userReportsRefused = true;
    if (this.store.noticePosted(USER_REPORTS_UNAVAILABLE)) return;
    const version = this.options.homeserverVersion?.current();
    this.log.warn({ serverVersion: version }, "the homeserver has no reports about users (Synapse 1.152 or later); event reports go on");
    const sent = await this.chat.send(this.options.managementRoomId, renderUserReportsUnavailable(version, FEATURE_VERSIONS.userReports), { transactionId: "warden-user-reports-unavailable" });
    if (!sent.ok) {
      // Said at the next poll: the flag lets the list be asked again, and it answers the same.
      this.userReportsRefused = false;
      this.log.warn({ error: sent.error }, "could not say that reports about users are unavailable; retrying at the next poll");
      return;
    }
    this.store.markNotice(USER_REPORTS_UNAVAILABLE, true);
  }

  /** Reads one list's new reports and stores them with its moved cursor; the error when the homeserver did not answer. */
  private async takeNew(list: ReportList): Promise<{ ok: true; count: number; olderSkipped: number } | { ok: false; error: AdminError | undefined }> {
    const cursor = this.store.cursor(list.kind);
    const firstStart = cursor === undefined;
    const stopTs = cursor?.newestTs ?? this.clock.now() - FIRST_START_WINDOW_MS;
    const pageSize = this.options.pageSize ?? PAGE;
    const budget = this.options.pagesPerPoll ?? MAX_PAGES;
    let gap = cursor?.gap;
    // A gap waiting keeps one page of the budget for itself, so that a steady stream of new
    // reports at the top never stops it from being read.
    const top = await walkReports(list, { from: 0, stopTs, pages: gap === undefined ? budget : Math.max(1, budget - 1), pageSize });
    const read = new Reads(this.store, list.kind);
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
        const down = await walkReports(list, { from, above, stopTs: gap.fromTs, pages: Math.max(1, budget - top.pages), pageSize });
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
      this.log.warn({ kind: list.kind, error: top.end.failed?.kind, detail: top.end.failed?.detail }, `could not read the ${NOUNS[list.kind].plural}`);
      return { ok: false, error: top.end.failed };
    } else {
      // Out of pages before reaching what was read before: the rest is a gap, joined to an older
      // one (the known reports between are read again, and recognised).
      const at = top.end.at;
      gap = { fromTs: gap?.fromTs ?? stopTs, countOlder: (gap?.countOlder ?? false) || firstStart, ...gapTop(at) };
      this.log.info({ kind: list.kind, pages: top.pages, readTo: at.ts }, `${NOUNS[list.kind].plural} backlog: the rest is read at the next polls`);
    }
    const newestTs = Math.max(stopTs, ...top.reports.map((report) => report.receivedTs));
    const now = this.clock.now();
    const taken = this.store.take(list.kind, {
      reports: read.fresh().map((report) => toStored(report, now)),
      cursor: { newestTs, ...(gap === undefined ? {} : { gap }) },
      unreadable: read.unreadable(),
    });
    for (const entry of taken.unreadable) this.log.warn({ kind: list.kind, homeserverReportId: entry.homeserverId, problem: entry.problem }, `${NOUNS[list.kind].one} the homeserver listed could not be read`);
    return { ok: true, count: taken.reports.length, olderSkipped };
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
      this.log.warn({ error: sent.error }, "could not name the unreadable reports; retrying at the next poll");
      return;
    }
    this.store.markNamed(keys, sent.value);
  }

  private async announceSkipped(kind: ReportKind, count: number): Promise<void> {
    // The event reports' transaction id is the one it had before reports about users existed.
    const transactionId = kind === "event" ? "warden-reports-first-start" : "warden-user-reports-first-start";
    const sent = await this.chat.send(this.options.managementRoomId, renderReportsFirstStart(kind, count), { transactionId });
    if (!sent.ok) this.log.warn({ kind, error: sent.error }, "could not announce the older reports");
  }

  /** Posts every stored report that has no card yet, of both kinds, oldest first; stops at the first failed send (the next poll retries). */
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
    const transactionId = report.kind === "event" ? `warden-report-${report.id}` : `warden-user-report-${report.id}`;
    const sent = await this.chat.send(this.options.managementRoomId, renderReportCard(card, this.options.prefix), { transactionId });
    if (!sent.ok) {
      this.log.warn({ reportId: reportLabel(report), error: sent.error }, "could not post a report card; retrying at the next poll");
      return false;
    }
    this.store.update(report, { cardEventId: sent.value });
    this.log.info({ reportId: reportLabel(report), cardEventId: sent.value }, "report card posted");
    return true;
  }

  private async fold(report: StoredReport, fold: Fold): Promise<boolean> {
    const existing = this.store.digest(fold.key);
    const joinable = existing?.cardEventId !== undefined && report.receivedTs - existing.lastTs <= this.options.windowMs;
    const digest: Digest = joinable
      ? { ...existing, reportIds: withRef(existing.reportIds, report), lastTs: Math.max(existing.lastTs, report.receivedTs) }
      : { key: fold.key, kind: fold.kind, subject: fold.subject, reportIds: [{ kind: report.kind, id: report.id }], lastTs: report.receivedTs };
    this.store.saveDigest(digest);
    const members = digest.reportIds.flatMap((ref) => {
      const stored = this.store.get(ref);
      return stored === undefined ? [] : [stored];
    });
    const message = renderDigest(digest, members, this.options.prefix);
    if (digest.cardEventId !== undefined) {
      const edited = await this.chat.edit(this.options.managementRoomId, digest.cardEventId, message);
      if (!edited.ok) this.log.warn({ digest: fold.kind, error: edited.error }, "could not edit a digest card; it catches up at its next change");
      this.store.update(report, { digestKey: digest.key, cardEventId: digest.cardEventId });
      return true;
    }
    const sent = await this.chat.send(this.options.managementRoomId, message, { transactionId: `warden-digest-${reportLabel(report)}` });
    if (!sent.ok) {
      this.log.warn({ reportId: reportLabel(report), error: sent.error }, "could not post a digest card; retrying at the next poll");
      return false;
    }
    this.store.saveDigest({ ...digest, cardEventId: sent.value });
    this.store.update(report, { digestKey: digest.key, cardEventId: sent.value });
    this.log.info({ reportId: reportLabel(report), digest: fold.kind, cardEventId: sent.value }, "burst: report folded into a new digest card");
    return true;
  }
}

/** The gap's upper end: where a walk got to. */
function gapTop(at: WalkPlace): Pick<ReportGap, "toTs" | "top" | "offset"> {
  // Stryker disable next-line ConditionalExpression: equivalent — `top: undefined` is no top, for both stores and the walk
  return { toTs: at.ts, offset: at.offset, ...(at.report === undefined ? {} : { top: at.report }) };
}

/** The digest's reports with this one added, once. */
function withRef(refs: readonly ReportRef[], report: ReportRef): ReportRef[] {
  return refs.some((ref) => sameRef(ref, report)) ? [...refs] : [...refs, { kind: report.kind, id: report.id }];
}

/** Everything the walks of one poll read in one list: the reports not known yet (by identity) and the unreadable entries. */
class Reads {
  private readonly reports = new Map<string, ReportFacts>();
  private readonly entries = new Map<string, UnreadableReport>();

  constructor(
    private readonly store: Pick<ReportStore, "knows">,
    private readonly kind: ReportKind,
  ) {}

  add(walk: WalkResult): void {
    for (const report of walk.reports) {
      const identity = identityOf(report);
      const key = JSON.stringify(identity);
      if (!this.reports.has(key) && !this.store.knows(identity)) this.reports.set(key, report);
    }
    for (const entry of walk.unreadable) {
      // Event entries keep the keys they had before reports about users existed (their fields alone).
      const key = createHash("sha256")
        .update(this.kind === "event" ? entry.fields : `${this.kind}\n${entry.fields}`)
        .digest("hex");
      this.entries.set(key, { kind: this.kind, key, problem: entry.problem, ...present("homeserverId", entry.id) });
    }
  }

  count(): number {
    return this.reports.size;
  }

  /** Oldest first, so that numbers given in turn follow the order reports were received in. */
  fresh(): ReportFacts[] {
    return [...this.reports.values()].sort((a, b) => a.receivedTs - b.receivedTs || a.homeserverId - b.homeserverId);
  }

  unreadable(): UnreadableReport[] {
    return [...this.entries.values()];
  }
}

function toStored(report: ReportFacts, now: number): NewReport {
  return { ...report, state: "open", changedAt: now, deletedOnHomeserver: false };
}
