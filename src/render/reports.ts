import { MESSAGE_BUDGET_BYTES, messageBytes, type OutgoingMessage } from "../matrix/chat.js";
import {
  actionCommand,
  CARD_REACTIONS,
  personCommands,
  reportLabel,
  type CardAction,
  type ContextLine,
  type Digest,
  type ReportCard,
  type ReportKind,
  type ReportOutcome,
  type ReusedBy,
  type StoredEventReport,
  type StoredReport,
  type UnreadableReport,
} from "../model/reports.js";
import { formatUtc } from "../util/duration.js";
import { firstEntries, inlineList, LIST_LIMITS, LONG_LIST_LIMITS, moreLine, RECORD_LIST_LIMITS, textLine, type Line, type ListLimits } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";

/** Bounds on single fields, whatever reporters and spammers write; lists are bounded by budget.ts. */
const MAX_REASON = 500;
const MAX_CONTEXT_TEXT = 300;
const MAX_NAME = 80;
/** Matrix IDs are at most 255 bytes; a longer one is not a real ID, and is cut like any untrusted text. */
const MAX_ID = 255;
/** A homeserver's error text has no length limit; this much of it is shown. */
const MAX_PROBLEM = 1_000;
export const REPORTS_PER_PAGE = 20;
const DIGEST_IDS: ListLimits = { entries: 40, bytes: LIST_LIMITS.bytes };
const DIGEST_SUBJECTS: ListLimits = { entries: 10, bytes: LIST_LIMITS.bytes };
/**
 * The context of a card (4 lines around the event, 10 for !report <id>) may take up to 12 KiB,
 * and never more than the rest of the card leaves: its IDs can fill two thirds of the budget.
 */
const CONTEXT_LIMITS: ListLimits = { entries: 25, bytes: 12 * 1024 };
/** Room for the "… and N more" line and the line breaks between the context lines. */
const CONTEXT_MARGIN = 1024;

/** Untrusted text on one line, bounded; escaped wherever it reaches HTML. */
function flat(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

const text = textLine;

/** The report with every ID and name cut to its bound, so each place that shows one shows it bounded. */
function bounded<R extends StoredReport>(report: R): R;
function bounded(report: StoredReport): StoredReport {
  const cut = (value: string | undefined) => (value === undefined ? {} : { value: truncate(value, MAX_ID) });
  const changedBy = cut(report.changedBy).value;
  const shared = { reporter: truncate(report.reporter, MAX_ID), ...(changedBy === undefined ? {} : { changedBy }) };
  if (report.kind === "user") return { ...report, ...shared, target: truncate(report.target, MAX_ID) };
  const alias = cut(report.canonicalAlias).value;
  const sender = cut(report.sender).value;
  return {
    ...report,
    ...shared,
    roomId: truncate(report.roomId, MAX_ID),
    eventId: truncate(report.eventId, MAX_ID),
    ...(alias === undefined ? {} : { canonicalAlias: alias }),
    ...(sender === undefined ? {} : { sender }),
  };
}

function labelled(label: string, value: string): Line {
  return { plain: `${label}: ${value}`, html: `<b>${escapeHtml(label)}</b>: ${escapeHtml(value)}` };
}

function commands(label: string, items: readonly string[]): Line {
  return { plain: `${label}: ${items.join("  ·  ")}`, html: `<b>${escapeHtml(label)}</b>: ${items.map(code).join(" · ")}` };
}

function joined(lines: readonly Line[], record?: Record<string, unknown>, short?: OutgoingMessage): OutgoingMessage {
  return {
    plain: lines.map((line) => line.plain).join("\n"),
    html: lines.map((line) => line.html).join("<br>\n"),
    ...(record === undefined ? {} : { record }),
    ...(short === undefined ? {} : { short }),
  };
}

export function roomText(report: Pick<StoredEventReport, "roomId" | "roomName" | "canonicalAlias">): string {
  const name = report.roomName === undefined || report.roomName === "" ? "" : `"${flat(report.roomName, MAX_NAME)}" `;
  const alias = report.canonicalAlias === undefined ? "" : `${truncate(report.canonicalAlias, MAX_ID)} `;
  return `${name}${alias}(${truncate(report.roomId, MAX_ID)})`;
}

function stateText(report: StoredReport): string {
  if (report.state === "resolved") {
    const how = report.resolution === "dismissed" ? `dismissed${report.deletedOnHomeserver ? " and deleted on the homeserver" : ""}` : "done";
    return `resolved (${how}${report.changedBy === undefined ? "" : ` by ${report.changedBy}`}, ${formatUtc(report.changedAt)})`;
  }
  if (report.state === "acknowledged") return `acknowledged${report.changedBy === undefined ? "" : ` by ${report.changedBy}`}`;
  return "open";
}

/** The reported event and the lines around it, as many as `bytes` leaves room for. */
function contextLines(card: Extract<ReportCard, { kind: "event" }>, bytes: number): Line[] {
  if (card.context.kind === "unavailable") return [labelled("Event", `${card.report.eventId}: ${flat(card.context.why, MAX_REASON)}`)];
  const limits = { ...CONTEXT_LIMITS, bytes: Math.min(CONTEXT_LIMITS.bytes, bytes) };
  const all = card.context.lines;
  // The reported line is the one that matters: earlier lines make way for it when not all fit.
  const reported = all.findIndex((line) => line.reported);
  let start = 0;
  while (start < reported && firstEntries(all.slice(start, reported + 1), contextText, limits).rest > 0) start++;
  const { shown, rest } = firstEntries(all.slice(start), contextText, limits);
  const earlier = start > 0 ? [text(`(${start} earlier ${start === 1 ? "line" : "lines"} of context left out)`)] : [];
  return [labelled("Event", card.report.eventId), ...earlier, ...shown, ...(rest > 0 ? [moreLine(rest, text("lines of context"))] : [])];
}

function contextText(line: ContextLine): Line {
  const when = formatUtc(line.at).slice(11, 16);
  const sender = truncate(line.sender, MAX_ID);
  const body = line.placeholder ? `[${flat(line.text, MAX_CONTEXT_TEXT)}]` : flat(line.text, MAX_CONTEXT_TEXT);
  const marker = line.reported ? "▶ " : "  ";
  const plain = `${marker}${when} ${sender}: ${body}${line.reported ? "   ← reported" : ""}`;
  // The body is the spammer's text: escaped, in <code>, never rendered as HTML.
  const html = `${line.reported ? "▶ <b>" : "&nbsp;&nbsp;"}${escapeHtml(when)} ${escapeHtml(sender)}${line.reported ? "</b>" : ""}: ${line.placeholder ? `<i>${escapeHtml(body)}</i>` : code(body)}${line.reported ? " ← reported" : ""}`;
  return { plain, html };
}

function actions(report: StoredReport, prefix: string, full: boolean): Line[] {
  const of = (action: CardAction) => actionCommand(action, report, prefix);
  const present = (items: readonly (string | undefined)[]) => items.filter((item): item is string => item !== undefined);
  const label = reportLabel(report);
  const lines =
    report.kind === "event"
      ? [commands("In the room", present([of("redact-room"), of("purge")])), commands("Across the server", present([of("redact-server"), ...personCommands(report, prefix), of("shutdown")]))]
      : [commands("About the user", personCommands(report, prefix))];
  lines.push(commands("This report", [`${prefix}report ${label} done`, `${prefix}report ${label} dismiss`]));
  if (full || report.state !== "resolved") lines.push(reactionLine(report, prefix));
  return lines;
}

/** The emoji that run the card's commands on this report (a reaction on a card, or on a digest of one report). */
function reactionLine(report: StoredReport, prefix: string): Line {
  const reactions = (Object.keys(CARD_REACTIONS) as CardAction[])
    .filter((action) => actionCommand(action, report, prefix) !== undefined)
    .map((action) => `${CARD_REACTIONS[action]} ${REACTION_NAMES[action]}`);
  return text(`Or react: ${reactions.join(", ")}. Each shows its preview first; nothing runs on one click.`);
}

const REACTION_NAMES: Readonly<Record<CardAction, string>> = {
  "redact-room": "redact in the room",
  purge: "purge up to the event",
  "redact-server": "redact everywhere",
  shutdown: "shut the room down",
  done: "done",
};

/** The card's machine-readable copy: `report_kind` tells an event report 12 from a user report u12, which share `report_id` 12. */
export function reportRecord(report: StoredReport): Record<string, unknown> {
  const about = report.kind === "event" ? { room_id: truncate(report.roomId, MAX_ID), event_id: truncate(report.eventId, MAX_ID) } : { target_user_id: truncate(report.target, MAX_ID) };
  return {
    type: "report",
    report_kind: report.kind,
    report_id: report.id,
    homeserver_report_id: report.homeserverId,
    state: report.state,
    ...about,
    received_ts: report.receivedTs,
  };
}

/** Warden's number, and the homeserver's id when that differs (Synapse gave a reused id to this one). */
function numbered(report: Pick<StoredReport, "kind" | "id" | "homeserverId">): string {
  const label = reportLabel(report);
  if (report.homeserverId === report.id) return label;
  return `${label} (homeserver ${report.kind === "user" ? "user report" : "report"} ${report.homeserverId})`;
}

function cardHeading(report: StoredReport): Line {
  return {
    plain: `Report ${numbered(report)} · ${formatUtc(report.receivedTs)} · ${stateText(report)}`,
    html: `<b>Report ${escapeHtml(numbered(report))}</b> · ${escapeHtml(formatUtc(report.receivedTs))} · ${escapeHtml(stateText(report))}`,
  };
}

/** The card posted once for each report, and edited when its state changes. */
export function renderReportCard(card: ReportCard, prefix: string): OutgoingMessage {
  return card.kind === "event" ? renderEventReportCard(card, prefix) : renderUserReportCard(card, prefix);
}

function reasonLine(report: StoredReport): Line {
  return labelled("Reason", report.reason === undefined || report.reason.trim() === "" ? "none given" : flat(report.reason, MAX_REASON));
}

function renderEventReportCard(card: Extract<ReportCard, { kind: "event" }>, prefix: string): OutgoingMessage {
  const report = bounded(card.report);
  const sender =
    report.sender === undefined
      ? "unknown (the homeserver does not have the event)"
      : `${report.sender} (${card.earlierAboutSender === undefined ? "earlier reports not counted" : `${card.earlierAboutSender} earlier ${card.earlierAboutSender === 1 ? "report names" : "reports name"} them`})`;
  const before: Line[] = [
    cardHeading(report),
    labelled("Reporter", report.reporter),
    labelled("Room", roomText(report)),
    labelled("Sender", sender),
    reasonLine(report),
  ];
  const after = actions(report, prefix, false);
  const record = reportRecord(report);
  const left = MESSAGE_BUDGET_BYTES - messageBytes(joined([...before, ...after], record)) - CONTEXT_MARGIN;
  // The shorter form keeps who, where and whom; the card's other lines are the long ones.
  const short = joined(
    [cardHeading(report), labelled("Room", truncate(report.roomId, MAX_ID)), labelled("Sender", sender), text("The reason, the context and the commands were left out to fit in one message.")],
    record,
  );
  return joined([...before, ...contextLines({ ...card, report }, left), ...after], record, short);
}

/** A report about a user: who reported whom and why, what else is known about them, and the commands about them. */
function renderUserReportCard(card: Extract<ReportCard, { kind: "user" }>, prefix: string): OutgoingMessage {
  const report = bounded(card.report);
  const earlier = card.earlierAboutTarget;
  const known = [
    earlier === undefined ? "earlier reports not counted" : `${earlier.atLeast ? "at least " : ""}${earlier.count} earlier ${earlier.count === 1 && !earlier.atLeast ? "report" : "reports"} about them`,
    ...(card.eventReportsAboutTarget === undefined ? [] : [`${card.eventReportsAboutTarget} ${card.eventReportsAboutTarget === 1 ? "report" : "reports"} about events they sent`]),
  ];
  const reported = labelled("Reported user", `${report.target} (${known.join("; ")})`);
  const record = reportRecord(report);
  const short = joined([cardHeading(report), reported, text("The reason and the commands were left out to fit in one message.")], record);
  return joined([cardHeading(report), labelled("Reporter", report.reporter), reported, reasonLine(report), ...actions(report, prefix, false)], record, short);
}

/**
 * One digest card per room or person during a burst, edited as it grows. A person's digest
 * may hold reports about events they sent and reports about them as a user; its heading calls
 * them the sender while it holds event reports only, as it did before reports about users.
 */
export function renderDigest(digest: Digest, reports: readonly StoredReport[], prefix: string): OutgoingMessage {
  const events = reports.filter((report): report is StoredEventReport => report.kind === "event");
  const users = reports.length - events.length;
  const first = events[0];
  const subjectId = truncate(digest.subject, MAX_ID);
  const subject = digest.kind === "room" && first !== undefined ? roomText(first) : subjectId;
  const open = reports.filter((report) => report.state !== "resolved").length;
  const count = (values: readonly (string | undefined)[]) => new Set(values.filter((value) => value !== undefined)).size;
  const about = digest.kind === "room" ? "room" : users > 0 ? "user" : "sender";
  const heading: Line = {
    plain: `Burst of reports about ${about} ${subject}: ${reports.length} more reports folded here (${open} open)`,
    html: `<b>Burst of reports</b> about ${about} ${escapeHtml(subject)}: <b>${reports.length}</b> more reports folded here (${open} open)`,
  };
  const earliest = reports[0];
  const parts = [
    ...(events.length > 0 || users === 0
      ? [`about ${count(events.map((r) => r.sender))} senders in ${count(events.map((r) => r.roomId))} rooms and ${count(events.map((r) => r.eventId))} events`]
      : []),
    ...(users > 0 ? [`${users} ${users === 1 ? "report" : "reports"} about the user`] : []),
  ];
  const counts = text(`From ${count(reports.map((r) => r.reporter))} reporters, ${parts.join(", and ")}; ${earliest === undefined ? "" : `since ${formatUtc(earliest.receivedTs)}, `}latest ${formatUtc(digest.lastTs)}.`);
  const lines: Line[] = [heading, counts, labelled("Reports", listed(reports.map((r) => reportLabel(r)), DIGEST_IDS))];
  const tally = (values: readonly (string | undefined)[]) => {
    const tallied = new Map<string, number>();
    for (const value of values) if (value !== undefined) tallied.set(value, (tallied.get(value) ?? 0) + 1);
    // Cut before the count is added, so that the count survives.
    return [...tallied].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${truncate(name, MAX_ID - 15)} (${n})`);
  };
  const seeThem = commands("See them", [`${prefix}reports --${digest.kind === "room" ? "room" : "user"} ${subjectId}`]);
  if (digest.kind === "room") {
    lines.push(labelled("Senders", listed(tally(events.map((r) => r.sender)), DIGEST_SUBJECTS)));
    const senders = [...new Set(events.flatMap((r) => (r.sender === undefined ? [] : [truncate(r.sender, MAX_ID)])))].slice(0, 3);
    lines.push(commands("Bulk actions", [`${prefix}shutdown ${subjectId}`, ...senders.map((sender) => `${prefix}redact ${sender} --room ${subjectId}`)]), seeThem);
  } else {
    if (events.length > 0) lines.push(labelled("Rooms", listed(tally(events.map((r) => r.roomId)), DIGEST_SUBJECTS)));
    const aboutUser = users > 0 ? [`${prefix}user ${subjectId}`, `${prefix}suspend ${subjectId}`] : [];
    lines.push(commands("Bulk actions", [`${prefix}redact ${subjectId}`, ...aboutUser, `${prefix}takedown ${subjectId}`]), seeThem);
  }
  const [only] = reports;
  // With one report in it the digest stands for that report: reactions act on it (see reactions.ts).
  if (reports.length === 1 && only !== undefined && only.state !== "resolved") lines.push(reactionLine(bounded(only), prefix));
  lines.push(text(`Each report: ${prefix}report <id> for its card, ${prefix}report <id> done or dismiss.`));
  const record = (withEntries: boolean) => ({
    type: "report-digest",
    digest: digest.key.split(" ")[0],
    reports: reports.length,
    // An event report by its number, a user report by its label (u12).
    report_ids: withEntries ? reports.slice(0, RECORD_LIST_LIMITS.entries).map((r) => (r.kind === "event" ? r.id : reportLabel(r))) : [],
  });
  return joined(lines, record(true), joined([heading, counts, seeThem], record(false)));
}

function listed(items: readonly string[], limits: ListLimits): string {
  return items.length === 0 ? "none" : inlineList(items, limits);
}

function summary(report: StoredReport): Line {
  const about =
    report.kind === "user" ? `about user ${truncate(report.target, MAX_ID)}` : `${report.sender === undefined ? "unknown sender" : truncate(report.sender, MAX_ID)} in ${roomText(report)}`;
  const reason = report.reason === undefined || report.reason.trim() === "" ? "no reason" : `"${flat(report.reason, 80)}"`;
  const number = `#${numbered(report)}`;
  const plain = `${number} ${formatUtc(report.receivedTs)} · ${about} · ${reason} · ${stateText(bounded(report))}`;
  return { plain, html: `<b>${escapeHtml(number)}</b> ${escapeHtml(plain.slice(number.length + 1))}` };
}

/** Replies for !reports and !report. */
export function renderReportOutcome(outcome: ReportOutcome, prefix: string): OutgoingMessage {
  switch (outcome.kind) {
    case "report-list": {
      const kinds = outcome.filter.kind === undefined ? "reports" : outcome.filter.kind === "event" ? "event reports" : "reports about users";
      const which = outcome.filter.includeResolved ? `${kinds.charAt(0).toUpperCase()}${kinds.slice(1)}` : `Open ${kinds}`;
      const narrowed = [
        ...(outcome.filter.roomId === undefined ? [] : [`in ${truncate(outcome.filter.roomId, MAX_ID)}`]),
        ...(outcome.filter.user === undefined ? [] : [`naming ${truncate(outcome.filter.user, MAX_ID)}`]),
      ].join(" ");
      const head = `${which}${narrowed === "" ? "" : ` ${narrowed}`}: ${outcome.total}${outcome.total > outcome.reports.length ? ` (showing ${outcome.from + 1}–${outcome.from + outcome.reports.length})` : ""}`;
      const heading: Line = { plain: head, html: `<b>${escapeHtml(head)}</b>` };
      const { shown, rest } = firstEntries(outcome.reports, summary, LONG_LIST_LIMITS);
      // The page was cut for size: the reports left out are reached by starting the list from them.
      const cut = rest > 0 ? [moreLine(rest, text(`on this page: add --from ${outcome.from + shown.length} to the command to see them`))] : [];
      const next = outcome.nextPageCommand === undefined ? [] : [commands("Next page", [truncate(outcome.nextPageCommand, 4 * MAX_ID)])];
      const oneInFull = text(`One in full: ${prefix}report <id> (u<id> for a report about a user)`);
      return joined([heading, ...shown, ...cut, ...next, oneInFull], undefined, joined([heading, ...next, oneInFull]));
    }
    case "report-one":
      return renderReportCard(outcome.card, prefix);
    case "report-changed": {
      const report = bounded(outcome.report);
      const deletion = outcome.deletion;
      const failed = deletion?.ok === false ? deletion : undefined;
      const reused = deletion?.ok === true ? deletion.reusedBy : undefined;
      const label = reportLabel(report);
      const what = (problem: string) =>
        outcome.change === "done"
          ? `Report ${label} is resolved (done).`
          : outcome.change === "acknowledged"
            ? `Report ${label} is acknowledged.`
            : failed !== undefined
              ? `Report ${label} is resolved (dismissed), but deleting it on the homeserver failed${problem}. Send the command again to retry the deletion.`
              : reused !== undefined
                ? `Report ${label} is resolved (dismissed). The homeserver no longer has it: its id there, ${report.homeserverId}, now belongs to another report (${reusedText(reused)}), which Warden left alone.`
                : `Report ${label} is resolved (dismissed) and deleted on the homeserver.`;
      const record = reportRecord(report);
      const problem = failed === undefined ? "" : `: ${truncate(failed.problem, MAX_PROBLEM)}`;
      return joined([text(what(problem))], record, joined([text(what(""))], record));
    }
  }
}

function reusedText(other: ReusedBy): string {
  const subject = other.kind === "event" ? truncate(other.eventId, MAX_ID) : `user ${truncate(other.target, MAX_ID)}`;
  const about = `${truncate(other.reporter, MAX_ID)} about ${subject}, ${formatUtc(other.receivedTs)}`;
  return other.wardenId === undefined ? `filed by ${about}` : `Warden's report ${reportLabel({ kind: other.kind, id: other.wardenId })}, filed by ${about}`;
}

const KIND_NOUNS: Readonly<Record<ReportKind, { readonly one: string; readonly many: string }>> = {
  event: { one: "event report", many: "event reports" },
  user: { one: "report about a user", many: "reports about users" },
};

/** Unreadable entries the homeserver listed, named once; the readable reports were posted. */
export function renderUnreadableReports(entries: readonly UnreadableReport[]): OutgoingMessage {
  const count = entries.length;
  const kinds = new Set(entries.map((entry) => entry.kind));
  const [only] = kinds;
  const noun = kinds.size === 1 && only !== undefined ? KIND_NOUNS[only] : { one: "report", many: "reports" };
  const heading = text(
    `Warden could not read ${count} ${count === 1 ? noun.one : noun.many} the homeserver listed; ${count === 1 ? "it has" : "they have"} no card. The other reports are posted as usual.`,
  );
  const line = (entry: UnreadableReport): Line =>
    text(`${entry.homeserverId === undefined ? "A report without a readable id" : `Homeserver ${entry.kind === "user" ? "user report" : "report"} ${entry.homeserverId}`}: ${flat(entry.problem, MAX_REASON)}`);
  const { shown, rest } = firstEntries(entries, line, LIST_LIMITS);
  const record = {
    type: "reports-unreadable",
    reports: count,
    homeserver_report_ids: entries.slice(0, RECORD_LIST_LIMITS.entries).flatMap((entry) => (entry.homeserverId === undefined || entry.kind !== "event" ? [] : [entry.homeserverId])),
    ...(kinds.has("user")
      ? { homeserver_user_report_ids: entries.slice(0, RECORD_LIST_LIMITS.entries).flatMap((entry) => (entry.homeserverId === undefined || entry.kind !== "user" ? [] : [entry.homeserverId])) }
      : {}),
  };
  return joined([heading, ...shown, ...(rest > 0 ? [moreLine(rest, text("unreadable reports"))] : [])], record, joined([heading], record));
}

/** The first poll of a list: the reports older than a day are counted, not posted. */
export function renderReportsFirstStart(kind: ReportKind, count: number): OutgoingMessage {
  const plain = `Warden reads ${KIND_NOUNS[kind].many} from now on. ${count} report${count === 1 ? "" : "s"} older than a day ${count === 1 ? "was" : "were"} already on the homeserver and ${count === 1 ? "is" : "are"} not posted here.`;
  // The event reports' record is the one it was before reports about users existed.
  return { plain, html: escapeHtml(plain), record: { type: "reports-first-start", ...(kind === "event" ? {} : { kind }), older_not_posted: count } };
}

/** Said once: this homeserver keeps no reports about users (`needs` is the first Synapse that does). */
export function renderUserReportsUnavailable(version: string | undefined, needs: string): OutgoingMessage {
  const running = version === undefined ? "" : ` (this homeserver runs ${truncate(version, MAX_NAME)})`;
  const plain = `Reports about users need Synapse ${needs} or later${running}. Warden does not read them here; event reports are posted as before.`;
  return { plain, html: escapeHtml(plain), record: { type: "reports-unavailable", kind: "user", needs, ...(version === undefined ? {} : { homeserver_version: truncate(version, MAX_NAME) }) } };
}
