import type { OutgoingMessage } from "../matrix/chat.js";
import type { ExtremitiesOutcome } from "../model/extremities.js";
import { formatUtc } from "../util/duration.js";
import { code, escapeHtml } from "./html.js";

/** Replies for !extremities: the count and the newest few, or what a deletion removed. */
export function renderExtremities(outcome: ExtremitiesOutcome, prefix: string): OutgoingMessage {
  if (outcome.kind === "extremities-deleted") {
    const text = `Deleted ${outcome.deleted} of the ${outcome.before} forward extremities of ${outcome.label}; the newest was kept.`;
    return { plain: text, html: escapeHtml(text) };
  }
  const noun = outcome.count === 1 ? "forward extremity" : "forward extremities";
  const plain = [`${outcome.label} has ${outcome.count} ${noun}.`];
  const html = [`${escapeHtml(outcome.label)} has <b>${outcome.count}</b> ${noun}.`];
  if (outcome.newest.length > 0) {
    plain.push(outcome.count > outcome.newest.length ? `The newest ${outcome.newest.length}:` : "They are:");
    html.push(escapeHtml(outcome.count > outcome.newest.length ? `The newest ${outcome.newest.length}:` : "They are:"));
    for (const extremity of outcome.newest) {
      const facts = [
        ...(extremity.depth === undefined ? [] : [`depth ${extremity.depth}`]),
        ...(extremity.receivedTs === undefined ? [] : [`received ${formatUtc(extremity.receivedTs)}`]),
      ].join(", ");
      plain.push(`- ${extremity.eventId}${facts === "" ? "" : ` (${facts})`}`);
      html.push(`• ${code(extremity.eventId)}${facts === "" ? "" : ` (${escapeHtml(facts)})`}`);
    }
  }
  if (outcome.count > 1) {
    const hint = `${prefix}extremities ${outcome.roomId} --delete`;
    plain.push(`To delete all but the newest (after a preview): ${hint}`);
    html.push(`To delete all but the newest (after a preview): ${code(hint)}`);
  }
  return { plain: plain.join("\n"), html: html.join("<br>\n") };
}
