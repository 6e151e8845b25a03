import type { OutgoingMessage } from "../matrix/chat.js";
import type { Extremity, ExtremitiesOutcome } from "../model/extremities.js";
import { formatUtc } from "../util/duration.js";
import { firstEntries, LIST_LIMITS, moreLine, textLine, type Line } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";

/** Matrix IDs are at most 255 bytes; a longer label or ID is cut like any untrusted text. */
const MAX_ID = 255;

function joined(lines: readonly Line[], short?: OutgoingMessage): OutgoingMessage {
  return {
    plain: lines.map((line) => line.plain).join("\n"),
    html: lines.map((line) => line.html).join("<br>\n"),
    ...(short === undefined ? {} : { short }),
  };
}

function extremityLine(extremity: Extremity): Line {
  const eventId = truncate(extremity.eventId, MAX_ID);
  const facts = [
    ...(extremity.depth === undefined ? [] : [`depth ${extremity.depth}`]),
    ...(extremity.receivedTs === undefined ? [] : [`received ${formatUtc(extremity.receivedTs)}`]),
  ].join(", ");
  return { plain: `- ${eventId}${facts === "" ? "" : ` (${facts})`}`, html: `• ${code(eventId)}${facts === "" ? "" : ` (${escapeHtml(facts)})`}` };
}

/** Replies for !extremities: the count and the newest few, or what a deletion removed. */
export function renderExtremities(outcome: ExtremitiesOutcome, prefix: string): OutgoingMessage {
  const label = truncate(outcome.label, MAX_ID);
  if (outcome.kind === "extremities-deleted") {
    return joined([textLine(`Deleted ${outcome.deleted} of the ${outcome.before} forward extremities of ${label}; the newest was kept.`)]);
  }
  const noun = outcome.count === 1 ? "forward extremity" : "forward extremities";
  const heading: Line = { plain: `${label} has ${outcome.count} ${noun}.`, html: `${escapeHtml(label)} has <b>${outcome.count}</b> ${noun}.` };
  const lines: Line[] = [heading];
  const { shown, rest } = firstEntries(outcome.newest, extremityLine, LIST_LIMITS);
  if (shown.length > 0) {
    lines.push(textLine(outcome.count > shown.length ? `The newest ${shown.length}:` : "They are:"), ...shown);
    // Only when the newest were cut for size: the heading already says how many there are in all.
    if (rest > 0) lines.push(moreLine(outcome.count - shown.length));
  }
  const hint: Line[] = [];
  if (outcome.count > 1) {
    const command = `${prefix}extremities ${truncate(outcome.roomId, MAX_ID)} --delete`;
    hint.push({ plain: `To delete all but the newest (after a preview): ${command}`, html: `To delete all but the newest (after a preview): ${code(command)}` });
  }
  return joined([...lines, ...hint], joined([heading, ...hint]));
}
