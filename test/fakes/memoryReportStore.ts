import { sameReport, type Digest, type ReportIdentity, type ReportListFilter, type StoredReport, type UnreadableReport } from "../../src/model/reports.js";
import { isOpen, type NewReport, type ReportCursor, type ReportPatch, type ReportStore, type TakenBatch } from "../../src/reports/store.js";

/** ReportStore in memory, with the same meaning as the SQLite repository (a shared contract test checks both). */
export class MemoryReportStore implements ReportStore {
  readonly reports = new Map<number, StoredReport>();
  readonly digests = new Map<string, Digest>();
  readonly unreadable = new Map<string, UnreadableReport & { namedEventId?: string }>();
  private saved: ReportCursor | undefined;

  cursor(): ReportCursor | undefined {
    return this.saved;
  }

  take(batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch {
    const reports: StoredReport[] = [];
    for (const report of batch.reports) {
      if (this.knows(report)) continue;
      const id = this.reports.has(report.homeserverId) ? Math.max(...this.reports.keys()) + 1 : report.homeserverId;
      const stored = { ...report, id };
      this.reports.set(id, stored);
      reports.push(stored);
    }
    this.saved = batch.cursor;
    const unreadable = (batch.unreadable ?? []).filter((entry) => !this.unreadable.has(entry.key));
    for (const entry of unreadable) this.unreadable.set(entry.key, entry);
    return { reports, unreadable };
  }

  /** Puts reports in as they are, numbers included (for tests that start from a known state). */
  seed(reports: readonly StoredReport[], cursor: ReportCursor = { newestTs: Math.max(0, ...reports.map((report) => report.receivedTs)) }): void {
    for (const report of reports) this.reports.set(report.id, report);
    this.saved = cursor;
  }

  knows(report: ReportIdentity): boolean {
    return [...this.reports.values()].some((stored) => sameReport(stored, report));
  }

  get(id: number): StoredReport | undefined {
    return this.reports.get(id);
  }

  withHomeserverId(homeserverId: number): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.homeserverId === homeserverId).sort((a, b) => a.receivedTs - b.receivedTs || a.id - b.id);
  }

  update(id: number, patch: ReportPatch): StoredReport | undefined {
    const current = this.reports.get(id);
    if (current === undefined) return undefined;
    const next = { ...current, ...patch };
    this.reports.set(id, next);
    return next;
  }

  unposted(): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.cardEventId === undefined).sort((a, b) => a.id - b.id);
  }

  list(filter: ReportListFilter, from: number, limit: number): { reports: StoredReport[]; total: number } {
    const matching = [...this.reports.values()]
      .filter(
        (report) =>
          (filter.includeResolved || isOpen(report.state)) &&
          (filter.roomId === undefined || report.roomId === filter.roomId) &&
          (filter.user === undefined || report.sender === filter.user || report.reporter === filter.user),
      )
      .sort((a, b) => b.id - a.id);
    return { reports: matching.slice(from, from + limit), total: matching.length };
  }

  countRecent(match: { roomId?: string; sender?: string }, since: number, beforeId: number): number {
    return [...this.reports.values()].filter(
      (report) =>
        report.id < beforeId &&
        report.receivedTs >= since &&
        (match.roomId === undefined || report.roomId === match.roomId) &&
        (match.sender === undefined || report.sender === match.sender),
    ).length;
  }

  digest(key: string): Digest | undefined {
    return this.digests.get(key);
  }

  saveDigest(digest: Digest): void {
    this.digests.set(digest.key, digest);
  }

  byCard(eventId: string): StoredReport[] {
    return [...this.reports.values()].filter((report) => report.cardEventId === eventId).sort((a, b) => a.id - b.id);
  }

  unnamed(): UnreadableReport[] {
    return [...this.unreadable.values()]
      .filter((entry) => entry.namedEventId === undefined)
      .map((entry) => ({ key: entry.key, problem: entry.problem, ...(entry.homeserverId === undefined ? {} : { homeserverId: entry.homeserverId }) }));
  }

  markNamed(keys: readonly string[], eventId: string): void {
    for (const key of keys) {
      const entry = this.unreadable.get(key);
      if (entry !== undefined) this.unreadable.set(key, { ...entry, namedEventId: eventId });
    }
  }
}
