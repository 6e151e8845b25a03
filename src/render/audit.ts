import type { AuditEntry } from "../audit/auditLog.js";
import type { AuditOutcome } from "../model/outcomes.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { formatUtc } from "../util/duration.js";
import { escapeHtml, truncate } from "./html.js";

const LATEST = 15;

/** !audit: per person, what they asked and how it ended; then the latest actions. */
export function renderAudit(outcome: AuditOutcome): OutgoingMessage {
  const heading = `Audit since ${formatUtc(outcome.since)}${outcome.user === undefined ? "" : ` for ${outcome.user}`}: ${outcome.entries.length} record(s).`;
  const plain: string[] = [heading];
  const html: string[] = [`<b>${escapeHtml(heading)}</b>`];
  for (const [actor, entries] of byActor(outcome.entries)) {
    const line = `${actor}: ${summarise(entries)}`;
    plain.push(line);
    html.push(escapeHtml(line));
  }
  const latest = outcome.entries.slice(-LATEST).reverse();
  if (latest.length > 0) {
    plain.push("Latest:");
    html.push("<b>Latest:</b>");
    for (const entry of latest) {
      const line = describe(entry);
      plain.push(`  ${line}`);
      html.push(escapeHtml(line));
    }
  }
  return {
    plain: plain.join("\n"),
    html: html.join("<br>\n"),
    record: { type: "audit", since: outcome.since, user: outcome.user ?? null, records: outcome.entries.length },
  };
}

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
  return `${when} ${entry.actor} ${what}${target}${detail}`;
}
