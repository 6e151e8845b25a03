import type { Digest, ReportListFilter, ReportState, StoredReport } from "../model/reports.js";

/** How far the poller has read: reports up to `highWater` were seen; those up to `floor` are never shown. */
export interface ReportCursor {
  readonly highWater: number;
  readonly floor: number;
}

export type ReportPatch = Partial<Pick<StoredReport, "state" | "cardEventId" | "digestKey" | "changedAt" | "changedBy" | "resolution" | "deletedOnHomeserver">>;

/**
 * Where reports live between polls and restarts. The rows are also the set of reports already
 * taken: a report id is inserted once, and only an inserted report is ever posted.
 */
export interface ReportStore {
  /** Undefined before the first poll ever finished. */
  cursor(): ReportCursor | undefined;
  /** Stores the new reports and the moved cursor together (one transaction): both or neither. */
  take(reports: readonly StoredReport[], cursor: ReportCursor): void;
  has(id: number): boolean;
  get(id: number): StoredReport | undefined;
  update(id: number, patch: ReportPatch): StoredReport | undefined;
  /** Taken but not yet posted (a crash between the two), oldest first. */
  unposted(): StoredReport[];
  /** Newest first. */
  list(filter: ReportListFilter, from: number, limit: number): { readonly reports: StoredReport[]; readonly total: number };
  /** Reports of a room or about a sender received at or after `since`, with ids below `beforeId`. */
  countRecent(match: { readonly roomId?: string; readonly sender?: string }, since: number, beforeId: number): number;
  digest(key: string): Digest | undefined;
  saveDigest(digest: Digest): void;
  /** Reports whose card is this event (a single card, or a digest). */
  byCard(eventId: string): StoredReport[];
}

export function isOpen(state: ReportState): boolean {
  return state !== "resolved";
}
