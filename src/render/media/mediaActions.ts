import type { OutgoingMessage } from "../../matrix/chat.js";
import {
  COUNT_NOTE,
  MAX_MEDIA_TARGETS,
  protectedNote,
  QUARANTINE_WRITER_HINT,
  SAME_CONTENT_NOTE,
  UNDO_SAME_CONTENT_NOTE,
  undoNote,
  type MediaAction,
  type MediaActionOutcome,
  type MediaTargetEntry,
  type MediaUnchanged,
} from "../../model/mediaActions.js";
import { inlineList, listLines, textLine, type Line, type ListLimits } from "../budget.js";
import { escapeHtml, truncate } from "../html.js";
import { joined, MAX_ID, plural } from "./media.js";


/** Why a target was left as it was, after its label: the same words in a preview and in a reply. */
export function describeUnchanged(unchanged: MediaUnchanged, prefix: string): string {
  switch (unchanged.why) {
    case "no-such-file":
      return unchanged.remote
        ? "this server holds no such file (it has no cached copy of that server's file); nothing changed"
        : "this server holds no such file; nothing changed";
    case "already-quarantined":
      return `already quarantined${unchanged.by === undefined ? "" : ` (by ${truncate(unchanged.by, MAX_ID)})`}; nothing changed`;
    case "protected":
      return `protected from quarantine, and Synapse leaves a protected file served even when it is named alone; nothing changed (${prefix}unprotect it first)`;
    case "not-quarantined":
      return "not quarantined; nothing changed";
    case "already-protected":
      return "already protected; nothing changed";
    case "not-protected":
      return "not protected; nothing changed";
    case "unknown-room":
      return "not a room this homeserver knows; nothing changed";
    case "unknown-user":
      return "not a user of this homeserver; nothing changed";
  }
}

const PAST: Record<MediaAction, string> = {
  quarantine: "Quarantine",
  unquarantine: "Quarantine undone",
  protect: "Protect",
  unprotect: "Unprotect",
};

function done(action: MediaAction, entry: MediaTargetEntry & { result: { status: "done" } }, prefix: string): string {
  const { count, stillQuarantined } = entry.result;
  switch (action) {
    case "quarantine":
      return count === undefined ? "quarantined" : `${plural(count, "file")} quarantined`;
    case "unquarantine":
      return "served again";
    case "protect":
      return stillQuarantined === true ? `protected; it is quarantined and stays so until ${prefix}quarantine --undo` : "protected from quarantine";
    case "unprotect":
      return stillQuarantined === true ? "no longer protected (it is quarantined)" : "no longer protected: a room or user quarantine can reach it now";
  }
}

function entryLine(action: MediaAction, entry: MediaTargetEntry, prefix: string): Line | undefined {
  const label = truncate(entry.label, MAX_ID);
  switch (entry.result.status) {
    case "done":
      return textLine(`- ${label}: ${done(action, { ...entry, result: entry.result }, prefix)}`);
    case "unchanged":
      return textLine(`- ${label}: ${describeUnchanged(entry.result.unchanged, prefix)}`);
    case "failed":
    case "not-tried":
      return undefined; // grouped by reason below the list
  }
}

/**
 * The reply's share of the message budget: the per-target lines take most of it, the failures
 * (grouped, each reason once) a fifth; the counts in the heading are complete whatever is cut.
 */
const TARGET_LIMITS: ListLimits = { entries: MAX_MEDIA_TARGETS, bytes: 16 * 1024 };
const FAILURE_LIMITS: ListLimits = { entries: 10, bytes: 6 * 1024 };

/** Failures grouped by the homeserver's reason, which is often one long text for every target. */
function failureLines(entries: readonly MediaTargetEntry[]): Line[] {
  const byReason = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.result.status !== "failed") continue;
    byReason.set(entry.result.reason, [...(byReason.get(entry.result.reason) ?? []), entry.label]);
  }
  const groups = [...byReason].map(([reason, labels]) => textLine(`Failed, not changed (${labels.length}): ${inlineList(labels)}: ${truncate(reason, 1_000)}`));
  return listLines(groups, (line) => line, FAILURE_LIMITS);
}

function counts(outcome: MediaActionOutcome): string {
  const count = (status: MediaTargetEntry["result"]["status"]): number => outcome.entries.filter((entry) => entry.result.status === status).length;
  const parts = [
    `${count("done")} done`,
    ...(count("unchanged") > 0 ? [`${count("unchanged")} left as ${count("unchanged") === 1 ? "it was" : "they were"}`] : []),
    ...(count("failed") > 0 ? [`${count("failed")} failed`] : []),
    ...(count("not-tried") > 0 ? [`${count("not-tried")} not tried`] : []),
  ];
  return `${PAST[outcome.action]} of ${plural(outcome.entries.length, "target")}: ${parts.join(", ")}.`;
}

/** The notes a reply ends with: what Synapse did beyond the targets named, and how to undo it. */
function notes(outcome: MediaActionOutcome, prefix: string): string[] {
  const done = outcome.entries.filter((entry) => entry.result.status === "done");
  if (outcome.action === "unquarantine") return done.length > 0 ? [UNDO_SAME_CONTENT_NOTE] : [];
  if (outcome.action !== "quarantine" || done.length === 0) return [];
  const whole = done.some((entry) => entry.kind !== "file");
  return [...(whole ? [COUNT_NOTE] : []), SAME_CONTENT_NOTE, ...(whole ? [protectedNote(prefix)] : []), undoNote(prefix)];
}

/** The reply to !quarantine, !quarantine --undo, !protect and !unprotect: per target what changed and what did not. */
export function renderMediaAction(outcome: MediaActionOutcome, prefix: string): OutgoingMessage {
  const heading: Line = { plain: counts(outcome), html: `<b>${escapeHtml(counts(outcome))}</b>` };
  const perTarget = outcome.entries.flatMap((entry) => entryLine(outcome.action, entry, prefix) ?? []);
  const notTried = outcome.entries.filter((entry) => entry.result.status === "not-tried").map((entry) => entry.label);
  const lines: Line[] = [
    heading,
    ...listLines(perTarget, (line) => line, TARGET_LIMITS),
    ...failureLines(outcome.entries),
    ...(notTried.length === 0 ? [] : [textLine(`Not tried, not changed (${notTried.length}): ${inlineList(notTried)}: ${truncate(outcome.stopped ?? "an earlier failure stopped the command", 500)}.`)]),
    ...(outcome.serverError === true ? [textLine(QUARANTINE_WRITER_HINT)] : []),
    ...notes(outcome, prefix).map(textLine),
  ];
  return joined(lines, [heading]);
}
