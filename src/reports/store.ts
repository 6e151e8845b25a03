import type { Digest, ReportIdentity, ReportListFilter, ReportState, StoredReport, UnreadableReport } from "../model/reports.js";

/**
 * How far the poller has read the homeserver's list (newest first, by received time; Synapse
 * has no other filter, and pages by offset). Times, not ids: ids are not in list order, and a
 * deleted newest id is handed out again after Synapse restarts.
 */
export interface ReportCursor {
  /** The newest received time read from the top of the list: the next poll reads down to it. */
  readonly newestTs: number;
  /** Reports the page budget left unread, below the top; read by the next polls. */
  readonly gap?: ReportGap;
}

/** A stretch of the list not read yet: reports received from `fromTs` to `toTs`, both included. */
export interface ReportGap {
  readonly fromTs: number;
  readonly toTs: number;
  /** The last report read above the gap (received at `toTs`), when there was one: the next read must find it, or begin above it. */
  readonly top?: ReportIdentity;
  /** Where in the list the next read starts (reports filed since move it down; the poller adds them). */
  readonly offset: number;
  /** Set while the first start's day is not read to its end: the older reports are counted when it is. */
  readonly countOlder: boolean;
}

/** A report as read from the homeserver, before Warden gives it its number. */
export type NewReport = Omit<StoredReport, "id">;

export interface TakenBatch {
  /** The reports stored now (the others were known already), with their Warden numbers. */
  readonly reports: readonly StoredReport[];
  /** The unreadable entries seen for the first time. */
  readonly unreadable: readonly UnreadableReport[];
}

export type ReportPatch = Partial<Pick<StoredReport, "state" | "cardEventId" | "digestKey" | "changedAt" | "changedBy" | "resolution" | "deletedOnHomeserver">>;

/**
 * Where reports live between polls and restarts. The rows are also the set of reports already
 * taken: a report (known by its homeserver id, event, reporter and received time) is inserted
 * once, and only an inserted report is ever posted.
 */
export interface ReportStore {
  /** Undefined before the first poll ever finished. */
  cursor(): ReportCursor | undefined;
  /**
   * Stores the new reports, the unreadable entries and the moved cursor together (one
   * transaction): all or nothing. A report already known is skipped; a new one gets its
   * homeserver id as its number when that is free, else the next free number.
   */
  take(batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch;
  knows(report: ReportIdentity): boolean;
  /** By Warden's number. */
  get(id: number): StoredReport | undefined;
  /** Every stored report that had this homeserver id, oldest first (more than one once Synapse reused it). */
  withHomeserverId(homeserverId: number): StoredReport[];
  update(id: number, patch: ReportPatch): StoredReport | undefined;
  /** Taken but not yet posted (a crash between the two), oldest first. */
  unposted(): StoredReport[];
  /** Newest first. */
  list(filter: ReportListFilter, from: number, limit: number): { readonly reports: StoredReport[]; readonly total: number };
  /** Reports of a room or about a sender received at or after `since`, with numbers below `beforeId`. */
  countRecent(match: { readonly roomId?: string; readonly sender?: string }, since: number, beforeId: number): number;
  digest(key: string): Digest | undefined;
  saveDigest(digest: Digest): void;
  /** Reports whose card is this event (a single card, or a digest). */
  byCard(eventId: string): StoredReport[];
  /** Unreadable entries stored but not yet named in the room, first seen first. */
  unnamed(): UnreadableReport[];
  /** They were named in the room by this message. */
  markNamed(keys: readonly string[], eventId: string): void;
}

export function isOpen(state: ReportState): boolean {
  return state !== "resolved";
}
