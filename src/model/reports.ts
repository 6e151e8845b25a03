/**
 * Event reports as Warden keeps and shows them: the vocabulary shared by the reports service
 * (src/reports/), the commands that act on reports and the renderers. Plain data only.
 */

export const REPORT_STATES = ["open", "acknowledged", "resolved"] as const;
/** open: new; acknowledged: someone acted on it; resolved: done or dismissed. */
export type ReportState = (typeof REPORT_STATES)[number];

export interface StoredReport {
  /**
   * Warden's number for the report: what `!report <n>`, `!reports`, cards and the audit log
   * show. The homeserver's id when that number was free in Warden's database, else the next
   * free one: Synapse hands out a deleted newest id again after a restart, to another report.
   */
  readonly id: number;
  /** The homeserver's report id (the one its admin API takes). */
  readonly homeserverId: number;
  readonly receivedTs: number;
  readonly roomId: string;
  readonly roomName?: string;
  readonly canonicalAlias?: string;
  readonly eventId: string;
  readonly reporter: string;
  /** Absent when the homeserver does not have the reported event. */
  readonly sender?: string;
  readonly reason?: string;
  readonly score?: number;
  readonly state: ReportState;
  /** The card (or digest card) that shows it; absent until it has been posted. */
  readonly cardEventId?: string;
  /** Set when it was folded into a digest instead of getting its own card. */
  readonly digestKey?: string;
  readonly changedAt: number;
  readonly changedBy?: string;
  /** How it was resolved: "done" or "dismissed". */
  readonly resolution?: "done" | "dismissed";
  readonly deletedOnHomeserver: boolean;
}

/** What makes a homeserver report this one: its id alone does not (it is reused after a restart). */
export type ReportIdentity = Pick<StoredReport, "homeserverId" | "eventId" | "reporter" | "receivedTs">;

export function sameReport(a: ReportIdentity, b: ReportIdentity): boolean {
  return a.homeserverId === b.homeserverId && a.eventId === b.eventId && a.reporter === b.reporter && a.receivedTs === b.receivedTs;
}

/** A report the homeserver listed that Warden could not read, named once in the room and the log. */
export interface UnreadableReport {
  /** Tells the same entry apart when it is listed again (its id, time, event and reporter as sent). */
  readonly key: string;
  /** The homeserver's id, when the entry has a readable one. */
  readonly homeserverId?: number;
  /** What was wrong, field by field. */
  readonly problem: string;
}

/** One digest card per room or sender while a burst lasts. */
export interface Digest {
  /** "room <roomId>" or "sender <userId>". */
  readonly key: string;
  readonly kind: "room" | "sender";
  readonly subject: string;
  readonly reportIds: readonly number[];
  /** receivedTs of the newest report in it: the digest takes more while that is within the burst window. */
  readonly lastTs: number;
  readonly cardEventId?: string;
}

/** What the reported event looked like, as far as the homeserver could tell. */
export type EventContext =
  | { readonly kind: "shown"; readonly lines: readonly ContextLine[] }
  | { readonly kind: "unavailable"; readonly why: string };

export interface ContextLine {
  readonly sender: string;
  readonly at: number;
  /** Plain text, never HTML; "encrypted" and other placeholders are marked by `placeholder`. */
  readonly text: string;
  readonly placeholder: boolean;
  /** The reported event itself. */
  readonly reported: boolean;
}

/** Everything a report card shows. */
export interface ReportCard {
  readonly report: StoredReport;
  /** Earlier reports (lower ids) naming the same sender; undefined when it could not be counted. */
  readonly earlierAboutSender?: number;
  readonly context: EventContext;
}

export interface ReportListFilter {
  readonly includeResolved: boolean;
  readonly roomId?: string;
  /** Matches the reported sender or the reporter. */
  readonly user?: string;
}

export type ReportOutcome =
  | { readonly kind: "report-list"; readonly reports: readonly StoredReport[]; readonly total: number; readonly from: number; readonly filter: ReportListFilter; readonly nextPageCommand?: string }
  | { readonly kind: "report-one"; readonly card: ReportCard }
  | {
      readonly kind: "report-changed";
      readonly report: StoredReport;
      readonly change: "done" | "dismissed" | "acknowledged";
      /** Dismiss only: whether the homeserver's copy is gone, or why not. */
      readonly deletion?: ReportDeletion;
    };

/**
 * What a dismissal did on the homeserver: deleted the report (or found it gone already); left
 * alone another report that now has its id (`reusedBy`: Synapse reuses the id of a deleted
 * newest report after a restart, so this one is gone); or failed, to be retried.
 */
export type ReportDeletion =
  | { readonly ok: true; readonly reusedBy?: Omit<ReportIdentity, "homeserverId"> & { readonly wardenId?: number } }
  | { readonly ok: false; readonly problem: string };

/** The actions a card offers, each as the command it runs and the reaction that starts it. */
export type CardAction = "redact-room" | "purge" | "redact-server" | "shutdown" | "done";

export const CARD_REACTIONS: Readonly<Record<CardAction, string>> = {
  "redact-room": "🧹",
  purge: "🗑️",
  "redact-server": "🔨",
  shutdown: "💥",
  done: "👍",
};

/** The exact command text of an action on a report; undefined when it does not apply (no known sender). */
export function actionCommand(action: CardAction, report: Pick<StoredReport, "id" | "roomId" | "eventId" | "sender">, prefix: string): string | undefined {
  switch (action) {
    case "redact-room":
      return report.sender === undefined ? undefined : `${prefix}redact ${report.sender} --room ${report.roomId}`;
    case "purge":
      return `${prefix}purge ${report.roomId} ${report.eventId}`;
    case "redact-server":
      return report.sender === undefined ? undefined : `${prefix}redact ${report.sender}`;
    case "shutdown":
      return `${prefix}shutdown ${report.roomId}`;
    case "done":
      return `${prefix}report ${report.id} done`;
  }
}
