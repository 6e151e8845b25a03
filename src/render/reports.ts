import type { OutgoingMessage } from "../matrix/chat.js";
import {
  actionCommand,
  CARD_REACTIONS,
  type CardAction,
  type ContextLine,
  type Digest,
  type ReportCard,
  type ReportOutcome,
  type StoredReport,
} from "../model/reports.js";
import { formatUtc } from "../util/duration.js";
import { code, escapeHtml, truncate } from "./html.js";

/** Bounds that keep a card far below the ~32 KiB a message may take, whatever reporters and spammers write. */
const MAX_REASON = 500;
const MAX_CONTEXT_TEXT = 300;
const MAX_NAME = 80;
export const REPORTS_PER_PAGE = 20;
const DIGEST_IDS_SHOWN = 40;
const DIGEST_SUBJECTS_SHOWN = 10;

interface Line {
  readonly plain: string;
  readonly html: string;
}

/** Untrusted text on one line, bounded; escaped wherever it reaches HTML. */
function flat(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

function text(plain: string): Line {
  return { plain, html: escapeHtml(plain) };
}

function labelled(label: string, value: string): Line {
  return { plain: `${label}: ${value}`, html: `<b>${escapeHtml(label)}</b>: ${escapeHtml(value)}` };
}

function commands(label: string, items: readonly string[]): Line {
  return { plain: `${label}: ${items.join("  ·  ")}`, html: `<b>${escapeHtml(label)}</b>: ${items.map(code).join(" · ")}` };
}

function joined(lines: readonly Line[], record?: Record<string, unknown>): OutgoingMessage {
  return {
    plain: lines.map((line) => line.plain).join("\n"),
    html: lines.map((line) => line.html).join("<br>\n"),
    ...(record === undefined ? {} : { record }),
  };
}

export function roomText(report: Pick<StoredReport, "roomId" | "roomName" | "canonicalAlias">): string {
  const name = report.roomName === undefined || report.roomName === "" ? "" : `"${flat(report.roomName, MAX_NAME)}" `;
  const alias = report.canonicalAlias === undefined ? "" : `${report.canonicalAlias} `;
  return `${name}${alias}(${report.roomId})`;
}

function stateText(report: StoredReport): string {
  if (report.state === "resolved") {
    const how = report.resolution === "dismissed" ? `dismissed${report.deletedOnHomeserver ? " and deleted on the homeserver" : ""}` : "done";
    return `resolved (${how}${report.changedBy === undefined ? "" : ` by ${report.changedBy}`}, ${formatUtc(report.changedAt)})`;
  }
  if (report.state === "acknowledged") return `acknowledged${report.changedBy === undefined ? "" : ` by ${report.changedBy}`}`;
  return "open";
}

function contextLines(card: ReportCard): Line[] {
  if (card.context.kind === "unavailable") return [labelled("Event", `${card.report.eventId}: ${card.context.why}`)];
  const lines: Line[] = [labelled("Event", card.report.eventId)];
  for (const line of card.context.lines) lines.push(contextText(line));
  return lines;
}

function contextText(line: ContextLine): Line {
  const when = formatUtc(line.at).slice(11, 16);
  const body = line.placeholder ? `[${line.text}]` : flat(line.text, MAX_CONTEXT_TEXT);
  const marker = line.reported ? "▶ " : "  ";
  const plain = `${marker}${when} ${line.sender}: ${body}${line.reported ? "   ← reported" : ""}`;
  // The body is the spammer's text: escaped, in <code>, never rendered as HTML.
  const html = `${line.reported ? "▶ <b>" : "&nbsp;&nbsp;"}${escapeHtml(when)} ${escapeHtml(line.sender)}${line.reported ? "</b>" : ""}: ${line.placeholder ? `<i>${escapeHtml(body)}</i>` : code(body)}${line.reported ? " ← reported" : ""}`;
  return { plain, html };
}

function actions(report: StoredReport, prefix: string, full: boolean): Line[] {
  const of = (action: CardAction) => actionCommand(action, report, prefix);
  const present = (items: readonly (string | undefined)[]) => items.filter((item): item is string => item !== undefined);
  const lines = [
    commands("In the room", present([of("redact-room"), of("purge")])),
    commands("Across the server", present([of("redact-server"), of("shutdown")])),
    commands("This report", [`${prefix}report ${report.id} done`, `${prefix}report ${report.id} dismiss`]),
  ];
  if (full || report.state !== "resolved") {
    const reactions = (Object.keys(CARD_REACTIONS) as CardAction[])
      .filter((action) => of(action) !== undefined)
      .map((action) => `${CARD_REACTIONS[action]} ${REACTION_NAMES[action]}`);
    lines.push(text(`Or react: ${reactions.join(", ")}. Each shows its preview first; nothing runs on one click.`));
  }
  return lines;
}

const REACTION_NAMES: Readonly<Record<CardAction, string>> = {
  "redact-room": "redact in the room",
  purge: "purge up to the event",
  "redact-server": "redact everywhere",
  shutdown: "shut the room down",
  done: "done",
};

export function reportRecord(report: StoredReport): Record<string, unknown> {
  return { type: "report", report_id: report.id, state: report.state, room_id: report.roomId, event_id: report.eventId, received_ts: report.receivedTs };
}

/** The card posted once for each report, and edited when its state changes. */
export function renderReportCard(card: ReportCard, prefix: string): OutgoingMessage {
  const { report } = card;
  const sender =
    report.sender === undefined
      ? "unknown (the homeserver does not have the event)"
      : `${report.sender} (${card.earlierAboutSender === undefined ? "earlier reports not counted" : `${card.earlierAboutSender} earlier ${card.earlierAboutSender === 1 ? "report names" : "reports name"} them`})`;
  const lines: Line[] = [
    { plain: `Report ${report.id} · ${formatUtc(report.receivedTs)} · ${stateText(report)}`, html: `<b>Report ${report.id}</b> · ${escapeHtml(formatUtc(report.receivedTs))} · ${escapeHtml(stateText(report))}` },
    labelled("Reporter", report.reporter),
    labelled("Room", roomText(report)),
    labelled("Sender", sender),
    labelled("Reason", report.reason === undefined || report.reason.trim() === "" ? "none given" : flat(report.reason, MAX_REASON)),
    ...contextLines(card),
    ...actions(report, prefix, false),
  ];
  return joined(lines, reportRecord(report));
}

/** One digest card per room or sender during a burst, edited as it grows. */
export function renderDigest(digest: Digest, reports: readonly StoredReport[], prefix: string): OutgoingMessage {
  const first = reports[0];
  const subject = digest.kind === "room" && first !== undefined ? roomText(first) : digest.subject;
  const open = reports.filter((report) => report.state !== "resolved").length;
  const count = (values: readonly (string | undefined)[]) => new Set(values.filter((value) => value !== undefined)).size;
  const lines: Line[] = [
    {
      plain: `Burst of reports about ${digest.kind === "room" ? "room" : "sender"} ${subject}: ${reports.length} more reports folded here (${open} open)`,
      html: `<b>Burst of reports</b> about ${digest.kind === "room" ? "room" : "sender"} ${escapeHtml(subject)}: <b>${reports.length}</b> more reports folded here (${open} open)`,
    },
    text(
      `From ${count(reports.map((r) => r.reporter))} reporters, about ${count(reports.map((r) => r.sender))} senders in ${count(reports.map((r) => r.roomId))} rooms and ${count(reports.map((r) => r.eventId))} events; ${
        first === undefined ? "" : `since ${formatUtc(first.receivedTs)}, `
      }latest ${formatUtc(digest.lastTs)}.`,
    ),
    labelled("Reports", listed(reports.map((r) => String(r.id)), DIGEST_IDS_SHOWN)),
  ];
  const tally = (values: readonly (string | undefined)[]) => {
    const counts = new Map<string, number>();
    for (const value of values) if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} (${n})`);
  };
  if (digest.kind === "room") {
    lines.push(labelled("Senders", listed(tally(reports.map((r) => r.sender)), DIGEST_SUBJECTS_SHOWN)));
    const senders = [...new Set(reports.flatMap((r) => (r.sender === undefined ? [] : [r.sender])))].slice(0, 3);
    lines.push(
      commands("Bulk actions", [`${prefix}shutdown ${digest.subject}`, ...senders.map((sender) => `${prefix}redact ${sender} --room ${digest.subject}`)]),
      commands("See them", [`${prefix}reports --room ${digest.subject}`]),
    );
  } else {
    lines.push(labelled("Rooms", listed(tally(reports.map((r) => r.roomId)), DIGEST_SUBJECTS_SHOWN)));
    lines.push(commands("Bulk actions", [`${prefix}redact ${digest.subject}`]), commands("See them", [`${prefix}reports --user ${digest.subject}`]));
  }
  lines.push(text(`Each report: ${prefix}report <id> for its card, ${prefix}report <id> done or dismiss.`));
  return joined(lines, { type: "report-digest", digest: digest.key.split(" ")[0], report_ids: reports.slice(0, 500).map((r) => r.id) });
}

function listed(items: readonly string[], shown: number): string {
  if (items.length === 0) return "none";
  const head = items.slice(0, shown).join(", ");
  return items.length > shown ? `${head}, and ${items.length - shown} more` : head;
}

function summary(report: StoredReport): Line {
  const about = report.sender === undefined ? "unknown sender" : report.sender;
  const reason = report.reason === undefined || report.reason.trim() === "" ? "no reason" : `"${flat(report.reason, 80)}"`;
  const plain = `#${report.id} ${formatUtc(report.receivedTs)} · ${about} in ${roomText(report)} · ${reason} · ${stateText(report)}`;
  return { plain, html: `<b>#${report.id}</b> ${escapeHtml(plain.slice(String(report.id).length + 2))}` };
}

/** Replies for !reports and !report. */
export function renderReportOutcome(outcome: ReportOutcome, prefix: string): OutgoingMessage {
  switch (outcome.kind) {
    case "report-list": {
      const which = outcome.filter.includeResolved ? "Reports" : "Open reports";
      const narrowed = [
        ...(outcome.filter.roomId === undefined ? [] : [`in ${outcome.filter.roomId}`]),
        ...(outcome.filter.user === undefined ? [] : [`naming ${outcome.filter.user}`]),
      ].join(" ");
      const head = `${which}${narrowed === "" ? "" : ` ${narrowed}`}: ${outcome.total}${outcome.total > outcome.reports.length ? ` (showing ${outcome.from + 1}–${outcome.from + outcome.reports.length})` : ""}`;
      const lines: Line[] = [{ plain: head, html: `<b>${escapeHtml(head)}</b>` }, ...outcome.reports.map(summary)];
      if (outcome.nextPageCommand !== undefined) lines.push(commands("Next page", [outcome.nextPageCommand]));
      lines.push(text(`One in full: ${prefix}report <id>`));
      return joined(lines);
    }
    case "report-one": {
      const card = renderReportCard(outcome.card, prefix);
      return { ...card, plain: card.plain, html: card.html };
    }
    case "report-changed": {
      const { report } = outcome;
      const what =
        outcome.change === "done"
          ? `Report ${report.id} is resolved (done).`
          : outcome.change === "acknowledged"
            ? `Report ${report.id} is acknowledged.`
            : outcome.deletion?.ok === false
              ? `Report ${report.id} is resolved (dismissed), but deleting it on the homeserver failed: ${outcome.deletion.problem}. Send the command again to retry the deletion.`
              : `Report ${report.id} is resolved (dismissed) and deleted on the homeserver.`;
      return joined([text(what)], reportRecord(report));
    }
  }
}
