import type { Digest, ReportIdentity, ReportKind, ReportListFilter, ReportRef, ReportState, StoredEventReport, StoredReport, StoredUserReport, UnreadableReport } from "../model/reports.js";

/**
 * How far the poller has read one of the homeserver's lists (newest first, by received time;
 * Synapse has no other order, and pages by offset). Times, not ids: ids are not in list order,
 * and a deleted newest id is handed out again after Synapse restarts. Each kind of report has
 * its own list, and its own cursor.
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
export type NewEventReport = Omit<StoredEventReport, "id">;
export type NewUserReport = Omit<StoredUserReport, "id">;
export type NewReport = NewEventReport | NewUserReport;

export interface TakenBatch {
  /** The reports stored now (the others were known already), with their Warden numbers. */
  readonly reports: readonly StoredReport[];
  /** The unreadable entries seen for the first time. */
  readonly unreadable: readonly UnreadableReport[];
}

export type ReportPatch = Partial<Pick<StoredReport, "state" | "cardEventId" | "digestKey" | "changedAt" | "changedBy" | "resolution" | "deletedOnHomeserver">>;

/** The reports a burst counts: those of a room (event reports), or those about a person (the sender of reported events, or a reported user). */
export type BurstSubject = { readonly roomId: string } | { readonly person: string };

/**
 * Where reports live between polls and restarts. The rows are also the set of reports already
 * taken: a report (known by its kind, homeserver id, event or reported user, reporter and
 * received time) is inserted once, and only an inserted report is ever posted.
 */
export interface ReportStore {
  /** Undefined before the first poll of this kind ever finished. */
  cursor(kind: ReportKind): ReportCursor | undefined;
  /**
   * Stores the new reports of one kind, the unreadable entries and that kind's moved cursor
   * together (one transaction): all or nothing. A report already known is skipped; a new one
   * gets its homeserver id as its number when that is free among its kind, else the next free number.
   */
  take(kind: ReportKind, batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch;
  knows(report: ReportIdentity): boolean;
  /** By Warden's number and kind. */
  get(ref: ReportRef): StoredReport | undefined;
  /** Every stored report of the kind that had this homeserver id, oldest first (more than one once Synapse reused it). */
  withHomeserverId(kind: ReportKind, homeserverId: number): StoredReport[];
  update(ref: ReportRef, patch: ReportPatch): StoredReport | undefined;
  /** Taken but not yet posted (a crash between the two), both kinds, oldest received first. */
  unposted(): StoredReport[];
  /** Newest received first, both kinds unless the filter names one. */
  list(filter: ReportListFilter, from: number, limit: number): { readonly reports: StoredReport[]; readonly total: number };
  /**
   * Reports of a room or about a person received at or after `since` and taken before `before`:
   * of its kind with a lower number, of the other kind received before it.
   */
  countRecent(subject: BurstSubject, since: number, before: Pick<StoredReport, "kind" | "id" | "receivedTs">): number;
  digest(key: string): Digest | undefined;
  saveDigest(digest: Digest): void;
  /** Reports whose card is this event (a single card, or a digest). */
  byCard(eventId: string): StoredReport[];
  /** Unreadable entries stored but not yet named in the room, first seen first. */
  unnamed(): UnreadableReport[];
  /** They were named in the room by this message. */
  markNamed(keys: readonly string[], eventId: string): void;
  /** Whether a one-time notice (such as "reports about users need a newer Synapse") was posted. */
  noticePosted(key: string): boolean;
  /** Records (or, with `posted` false, forgets) that the notice was posted, so that a restart neither repeats it nor loses it. */
  markNotice(key: string, posted: boolean): void;
}

export function isOpen(state: ReportState): boolean {
  return state !== "resolved";
}
