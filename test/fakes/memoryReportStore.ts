import { sameReport, identityOf, type Digest, type ReportIdentity, type ReportKind, type ReportListFilter, type ReportRef, type StoredReport, type UnreadableReport } from "../../src/model/reports.js";
import { isOpen, type BurstSubject, type NewReport, type ReportCursor, type ReportPatch, type ReportStore, type TakenBatch } from "../../src/reports/store.js";

const keyOf = (ref: ReportRef) => `${ref.kind} ${ref.id}`;

/** ReportStore in memory, with the same meaning as the SQLite repository (a shared contract test checks both). */
export class MemoryReportStore implements ReportStore {
  /** By kind and number ("event 12", "user 3"). */
  readonly reports = new Map<string, StoredReport>();
  readonly digests = new Map<string, Digest>();
  readonly unreadable = new Map<string, UnreadableReport & { namedEventId?: string }>();
  readonly notices = new Set<string>();
  private readonly saved = new Map<ReportKind, ReportCursor>();

  cursor(kind: ReportKind): ReportCursor | undefined {
    return this.saved.get(kind);
  }

  take(kind: ReportKind, batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch {
    const reports: StoredReport[] = [];
    for (const report of batch.reports) {
      if (report.kind !== kind || this.knows(identityOf(report))) continue;
      const numbers = this.all(kind).map((stored) => stored.id);
      const id = numbers.includes(report.homeserverId) ? Math.max(...numbers) + 1 : report.homeserverId;
      const stored: StoredReport = { ...report, id };
      this.reports.set(keyOf(stored), stored);
      reports.push(stored);
    }
    this.saved.set(kind, batch.cursor);
    const unreadable = (batch.unreadable ?? []).filter((entry) => !this.unreadable.has(entry.key));
    for (const entry of unreadable) this.unreadable.set(entry.key, entry);
    return { reports, unreadable };
  }

  /** Puts reports in as they are, numbers included (for tests that start from a known state); the event cursor at the newest event report. */
  seed(reports: readonly StoredReport[], cursor: ReportCursor = { newestTs: Math.max(0, ...reports.filter((report) => report.kind === "event").map((report) => report.receivedTs)) }): void {
    for (const report of reports) this.reports.set(keyOf(report), report);
    this.saved.set("event", cursor);
  }

  knows(report: ReportIdentity): boolean {
    return [...this.reports.values()].some((stored) => sameReport(identityOf(stored), report));
  }

  get(ref: ReportRef): StoredReport | undefined {
    return this.reports.get(keyOf(ref));
  }

  withHomeserverId(kind: ReportKind, homeserverId: number): StoredReport[] {
    return this.all(kind)
      .filter((report) => report.homeserverId === homeserverId)
      .sort((a, b) => a.receivedTs - b.receivedTs || a.id - b.id);
  }

  update(ref: ReportRef, patch: ReportPatch): StoredReport | undefined {
    const current = this.reports.get(keyOf(ref));
    if (current === undefined) return undefined;
    const next = { ...current, ...patch };
    this.reports.set(keyOf(ref), next);
    return next;
  }

  unposted(): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.cardEventId === undefined).sort(receivedOrder);
  }

  list(filter: ReportListFilter, from: number, limit: number): { reports: StoredReport[]; total: number } {
    const matching = [...this.reports.values()]
      .filter(
        (report) =>
          (filter.includeResolved || isOpen(report.state)) &&
          (filter.kind === undefined || report.kind === filter.kind) &&
          (filter.roomId === undefined || (report.kind === "event" && report.roomId === filter.roomId)) &&
          (filter.user === undefined || report.reporter === filter.user || (report.kind === "event" ? report.sender === filter.user : report.target === filter.user)),
      )
      .sort((a, b) => receivedOrder(b, a));
    return { reports: matching.slice(from, from + limit), total: matching.length };
  }

  countRecent(subject: BurstSubject, since: number, before: Pick<StoredReport, "kind" | "id" | "receivedTs">): number {
    return [...this.reports.values()].filter(
      (report) =>
        (report.kind === before.kind ? report.id < before.id : report.receivedTs < before.receivedTs) &&
        report.receivedTs >= since &&
        ("roomId" in subject ? report.kind === "event" && report.roomId === subject.roomId : (report.kind === "event" ? report.sender : report.target) === subject.person),
    ).length;
  }

  digest(key: string): Digest | undefined {
    return this.digests.get(key);
  }

  saveDigest(digest: Digest): void {
    this.digests.set(digest.key, digest);
  }

  byCard(eventId: string): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.cardEventId === eventId).sort(receivedOrder);
  }

  unnamed(): UnreadableReport[] {
    return [...this.unreadable.values()]
      .filter((entry) => entry.namedEventId === undefined)
      .map((entry) => ({ kind: entry.kind, key: entry.key, problem: entry.problem, ...(entry.homeserverId === undefined ? {} : { homeserverId: entry.homeserverId }) }));
  }

  markNamed(keys: readonly string[], eventId: string): void {
    for (const key of keys) {
      const entry = this.unreadable.get(key);
      if (entry !== undefined) this.unreadable.set(key, { ...entry, namedEventId: eventId });
    }
  }

  noticePosted(key: string): boolean {
    return this.notices.has(key);
  }

  markNotice(key: string, posted: boolean): void {
    if (posted) this.notices.add(key);
    else this.notices.delete(key);
  }

  private all(kind: ReportKind): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.kind === kind);
  }
}

/** Oldest received first, as the SQLite store orders them (then event before user, then by number). */
function receivedOrder(a: StoredReport, b: StoredReport): number {
  return a.receivedTs - b.receivedTs || (a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1) || a.id - b.id;
}
