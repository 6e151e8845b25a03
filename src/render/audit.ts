import type { AuditEntry } from "../audit/auditLog.js";
import type { AuditOutcome } from "../model/outcomes.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { formatUtc } from "../util/duration.js";
import { firstEntries, moreLine, textLine, type ListLimits } from "./budget.js";
import { escapeHtml, truncate } from "./html.js";

const LATEST = 15;

/** !audit: per person, what they asked and how it ended; then the latest actions. */
export function renderAudit(outcome: AuditOutcome): OutgoingMessage {
  const heading = `Audit since ${formatUtc(outcome.since)}${outcome.user === undefined ? "" : ` for ${outcome.user}`}: ${outcome.entries.length} record(s).`;
  const plain: string[] = [heading];
  const html: string[] = [`<b>${escapeHtml(heading)}</b>`];
  const actors = firstEntries([...byActor(outcome.entries)], ([actor, entries]) => textLine(truncate(`${actor}: ${summarise(entries)}`, 500)), AUDIT_LIST_LIMITS);
  for (const line of actors.rest > 0 ? [...actors.shown, moreLine(actors.rest, textLine("people (narrow it with --user)"))] : actors.shown) {
    plain.push(line.plain);
    html.push(line.html);
  }
  const latest = firstEntries(outcome.entries.slice(-LATEST).reverse(), (entry) => textLine(describe(entry)), AUDIT_LIST_LIMITS);
  if (latest.shown.length > 0) {
    plain.push("Latest:");
    html.push("<b>Latest:</b>");
    for (const line of latest.shown) {
      plain.push(`  ${line.plain}`);
      html.push(line.html);
    }
  }
  const record = { type: "audit", since: outcome.since, user: outcome.user ?? null, records: outcome.entries.length };
  return {
    plain: plain.join("\n"),
    html: html.join("<br>\n"),
    record,
    short: { plain: heading, html: `<b>${escapeHtml(heading)}</b>`, record },
  };
}

/** Each of the two lists (people, latest actions): 12 KiB. */
const AUDIT_LIST_LIMITS: ListLimits = { entries: 50, bytes: 12 * 1024 };

function byActor(entries: readonly AuditEntry[]): Map<string, AuditEntry[]> {
  const groups = new Map<string, AuditEntry[]>();
  for (const entry of entries) groups.set(entry.actor, [...(groups.get(entry.actor) ?? []), entry]);
  return groups;
}

function summarise(entries: readonly AuditEntry[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const key =
      entry.type === "refused-sender"
        ? "refused (not on the allowlist)"
        : entry.type === "task-finished"
          ? `${entry.command ?? "task"} ${entry.outcome ?? ""}`.trim()
          : `!${entry.command ?? "?"} ${entry.outcome ?? ""}`.trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${count}× ${key}`).join(", ");
}

function describe(entry: AuditEntry): string {
  const when = formatUtc(entry.at);
  const what =
    entry.type === "refused-sender"
      ? "was refused (not on the allowlist)"
      : entry.type === "task-finished"
        ? `${entry.command ?? "task"} ${entry.taskId ?? ""} ended ${entry.outcome ?? ""}`
        : `!${entry.command ?? "?"} → ${entry.outcome ?? ""}`;
  const target = entry.target === undefined ? "" : ` (${entry.target})`;
  const detail = entry.detail === undefined ? "" : `: ${truncate(entry.detail, 120)}`;
  return truncate(`${when} ${entry.actor} ${what}${target}${detail}`, 600);
}
