import type { Digest, ReportListFilter, StoredReport } from "../../src/model/reports.js";
import { isOpen, type ReportCursor, type ReportPatch, type ReportStore } from "../../src/reports/store.js";

/** ReportStore in memory, with the same meaning as the SQLite repository (a shared contract test checks both). */
export class MemoryReportStore implements ReportStore {
  readonly reports = new Map<number, StoredReport>();
  readonly digests = new Map<string, Digest>();
  private saved: ReportCursor | undefined;

  cursor(): ReportCursor | undefined {
    return this.saved;
  }

  take(reports: readonly StoredReport[], cursor: ReportCursor): void {
    for (const report of reports) if (!this.reports.has(report.id)) this.reports.set(report.id, report);
    this.saved = cursor;
  }

  has(id: number): boolean {
    return this.reports.has(id);
  }

  get(id: number): StoredReport | undefined {
    return this.reports.get(id);
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
}
