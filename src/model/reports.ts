/**
 * Reports as Warden keeps and shows them — about an event (Synapse's event_reports) or about a
 * user (Synapse ≥ 1.152's user_reports): the vocabulary shared by the reports service
 * (src/reports/), the commands that act on reports and the renderers. Plain data only.
 */

export const REPORT_STATES = ["open", "acknowledged", "resolved"] as const;
/** open: new; acknowledged: someone acted on it; resolved: done or dismissed. */
export type ReportState = (typeof REPORT_STATES)[number];

/** What a report is about: an event (and so a room and, usually, a sender) or a user. */
export const REPORT_KINDS = ["event", "user"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** What the homeserver says about the report, the same for both kinds. */
interface ReportFactsBase {
  /** The homeserver's report id (the one its admin API takes); each kind has its own ids. */
  readonly homeserverId: number;
  readonly receivedTs: number;
  readonly reporter: string;
  readonly reason?: string;
}

export interface EventReportFacts extends ReportFactsBase {
  readonly kind: "event";
  readonly roomId: string;
  readonly roomName?: string;
  readonly canonicalAlias?: string;
  readonly eventId: string;
  /** Absent when the homeserver does not have the reported event. */
  readonly sender?: string;
  readonly score?: number;
}

export interface UserReportFacts extends ReportFactsBase {
  readonly kind: "user";
  /** The reported user (Synapse keeps reports only about its own users). */
  readonly target: string;
}

/** A report as the homeserver lists it, in Warden's terms, before Warden handles it. */
export type ReportFacts = EventReportFacts | UserReportFacts;

/** What Warden adds: its number, the state, and where the report is shown. */
export interface ReportHandling {
  /**
   * Warden's number for the report, counted per kind: what `!report`, `!reports`, cards and the
   * audit log show (see reportLabel). The homeserver's id when that number was free in Warden's
   * database, else the next free one: Synapse hands out a deleted newest id again after a
   * restart, to another report.
   */
  readonly id: number;
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

export type StoredEventReport = EventReportFacts & ReportHandling;
export type StoredUserReport = UserReportFacts & ReportHandling;
export type StoredReport = StoredEventReport | StoredUserReport;

/** One report among both kinds: Warden's numbers repeat across kinds (event report 12, user report u12). */
export interface ReportRef {
  readonly kind: ReportKind;
  readonly id: number;
}

export const eventReportRef = (id: number): ReportRef => ({ kind: "event", id });
export const userReportRef = (id: number): ReportRef => ({ kind: "user", id });

export function refOf(report: Pick<StoredReport, "kind" | "id">): ReportRef {
  return { kind: report.kind, id: report.id };
}

export function sameRef(a: ReportRef, b: ReportRef): boolean {
  return a.kind === b.kind && a.id === b.id;
}

/** What a user report's number is written with: `u12`. Event reports keep bare numbers (`12`), as before user reports existed. */
export const USER_REPORT_PREFIX = "u";

/** A report's number as commands take it and cards show it: `12` (an event report) or `u12` (a report about a user). */
export function reportLabel(ref: ReportRef): string {
  return ref.kind === "user" ? `${USER_REPORT_PREFIX}${ref.id}` : String(ref.id);
}

/** The inverse of reportLabel (the `u` in either case); undefined for any other text. */
export function parseReportLabel(text: string): ReportRef | undefined {
  const match = /^(u?)(\d{1,15})$/i.exec(text.trim());
  if (match === null) return undefined;
  return { kind: match[1] === "" ? "event" : "user", id: Number(match[2]) };
}

/** What makes a homeserver report this one: its id alone does not (it is reused after a restart). */
export type ReportIdentity =
  | Pick<EventReportFacts, "kind" | "homeserverId" | "eventId" | "reporter" | "receivedTs">
  | Pick<UserReportFacts, "kind" | "homeserverId" | "target" | "reporter" | "receivedTs">;

export function identityOf(report: ReportFacts): ReportIdentity {
  const { homeserverId, reporter, receivedTs } = report;
  return report.kind === "event" ? { kind: "event", homeserverId, eventId: report.eventId, reporter, receivedTs } : { kind: "user", homeserverId, target: report.target, reporter, receivedTs };
}

export function sameReport(a: ReportIdentity, b: ReportIdentity): boolean {
  if (a.homeserverId !== b.homeserverId || a.reporter !== b.reporter || a.receivedTs !== b.receivedTs) return false;
  if (a.kind === "event") return b.kind === "event" && a.eventId === b.eventId;
  return b.kind === "user" && a.target === b.target;
}

/** The user a report is about: the sender of the reported event, or the reported user. */
export function personOf(report: ReportFacts): string | undefined {
  return report.kind === "event" ? report.sender : report.target;
}

/** A report the homeserver listed that Warden could not read, named once in the room and the log. */
export interface UnreadableReport {
  readonly kind: ReportKind;
  /** Tells the same entry apart when it is listed again (its kind, id, time, subject and reporter as sent). */
  readonly key: string;
  /** The homeserver's id, when the entry has a readable one. */
  readonly homeserverId?: number;
  /** What was wrong, field by field. */
  readonly problem: string;
}

/**
 * One digest card per room or person while a burst lasts. A person's digest ("sender") takes
 * both the reports about events they sent and the reports about them as a user: a raid by one
 * account is one digest, whichever way people report it.
 */
export interface Digest {
  /** "room <roomId>" or "sender <userId>". */
  readonly key: string;
  readonly kind: "room" | "sender";
  readonly subject: string;
  readonly reportIds: readonly ReportRef[];
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
export type ReportCard =
  | {
      readonly kind: "event";
      readonly report: StoredEventReport;
      /** Earlier reports naming the same sender; undefined when it could not be counted. */
      readonly earlierAboutSender?: number;
      readonly context: EventContext;
    }
  | {
      readonly kind: "user";
      readonly report: StoredUserReport;
      /** Earlier reports about the same user; `atLeast` when the homeserver had more than one read could count. Undefined when not counted. */
      readonly earlierAboutTarget?: { readonly count: number; readonly atLeast: boolean };
      /** Reports about events the user sent; undefined when not counted. */
      readonly eventReportsAboutTarget?: number;
    };

export interface ReportListFilter {
  readonly includeResolved: boolean;
  /** Only reports of this kind. */
  readonly kind?: ReportKind;
  /** Only event reports about this room. */
  readonly roomId?: string;
  /** Matches the reported sender, the reported user or the reporter. */
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

/** The report that now has a dismissed report's homeserver id; `wardenId` when Warden took it too. */
export type ReusedBy = (
  | { readonly kind: "event"; readonly eventId: string }
  | { readonly kind: "user"; readonly target: string }
) & { readonly reporter: string; readonly receivedTs: number; readonly wardenId?: number };

/**
 * What a dismissal did on the homeserver: deleted the report (or found it gone already); left
 * alone another report that now has its id (`reusedBy`: Synapse reuses the id of a deleted
 * newest report after a restart, so this one is gone); or failed, to be retried.
 */
export type ReportDeletion = { readonly ok: true; readonly reusedBy?: ReusedBy } | { readonly ok: false; readonly problem: string };

/** The actions a card offers, each as the command it runs and the reaction that starts it. */
export type CardAction = "redact-room" | "purge" | "redact-server" | "shutdown" | "done";

export const CARD_REACTIONS: Readonly<Record<CardAction, string>> = {
  "redact-room": "🧹",
  purge: "🗑️",
  "redact-server": "🔨",
  shutdown: "💥",
  done: "👍",
};

/**
 * The exact command text of an action on a report; undefined when it does not apply (no known
 * sender; a report about a user has no room or event, and its card offers only "done" as a
 * reaction: the commands about the user are printed, see readyCommands).
 */
export function actionCommand(action: CardAction, report: StoredReport, prefix: string): string | undefined {
  if (report.kind === "user") return action === "done" ? `${prefix}report ${reportLabel(report)} done` : undefined;
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

/**
 * The commands about the person a report names, printed on its card for a moderator to copy:
 * for a report about a user, look them up, suspend them or take them down; for an event report,
 * take the sender down (when the homeserver knows who sent it).
 */
export function personCommands(report: StoredReport, prefix: string): string[] {
  if (report.kind === "user") return [`${prefix}user ${report.target}`, `${prefix}suspend ${report.target}`, `${prefix}takedown ${report.target}`];
  return report.sender === undefined ? [] : [`${prefix}takedown ${report.sender}`];
}
