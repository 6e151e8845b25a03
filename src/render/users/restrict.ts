import type { OutgoingMessage } from "../../matrix/chat.js";
import type { Preview, PreviewLine } from "../../model/commandSpec.js";
import type { AccountActionOutcome, AccountChange, AccountChangePlan, AccountFlags, Restriction, UserChangeEntry, UserUnchanged } from "../../model/restrictions.js";
import { inlineList, listLines, textLine, type Line, type ListLimits } from "../budget.js";
import { escapeHtml, truncate } from "../html.js";
import { joined, MAX_ID, plural } from "../media/media.js";

/** The per-user lines take most of a reply (one command names at most 50 users); reasons are cut. */
const USER_LIMITS: ListLimits = { entries: 50, bytes: 16 * 1024 };
const MAX_REASON = 500;

const STATE: Record<Restriction, string> = { suspend: "suspended", lock: "locked", "shadow-ban": "shadow-banned" };

/** What the command does, as a verb phrase before its users: "lift the suspension of 2 users". */
function verb(change: AccountChange): string {
  if (change.kind === "deactivate") return change.erase ? "deactivate and erase" : "deactivate";
  if (change.on) return change.restriction;
  switch (change.restriction) {
    case "suspend":
      return "lift the suspension of";
    case "lock":
      return "unlock";
    case "shadow-ban":
      return "lift the shadow-ban of";
  }
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The account's flags as the homeserver reported them: those set, or "not restricted". */
export function flagsText(flags: AccountFlags, change: AccountChange): string {
  const set = [
    ...(flags.deactivated === true ? ["deactivated"] : []),
    ...(flags.erased === true ? ["erased"] : []),
    ...(flags.suspended === true ? ["suspended"] : []),
    ...(flags.locked === true ? ["locked"] : []),
    ...(flags.shadowBanned === true ? ["shadow-banned"] : []),
  ];
  const unreported = change.kind === "restriction" && reported(flags, change.restriction) === undefined ? [`whether ${STATE[change.restriction]} is not reported by this homeserver`] : [];
  return [set.length === 0 ? "not restricted" : set.join(", "), ...unreported].join("; ");
}

function reported(flags: AccountFlags, restriction: Restriction): boolean | undefined {
  switch (restriction) {
    case "suspend":
      return flags.suspended;
    case "lock":
      return flags.locked;
    case "shadow-ban":
      return flags.shadowBanned;
  }
}

/** Why a user was left as they were: the same words in a preview and in a reply. */
export function unchangedText(unchanged: UserUnchanged, change: AccountChange): string {
  switch (unchanged.why) {
    case "left-out":
      return `left out: ${unchanged.reason}`;
    case "remote":
      return "left out: not possible for a remote account (Synapse changes only its own accounts)";
    case "deactivated":
      return "deactivated; nothing sent";
    case "already":
      if (change.kind === "deactivate") return change.erase ? "already deactivated and erased; nothing sent" : "already deactivated; nothing sent";
      return `${change.on ? "already" : "not"} ${STATE[change.restriction]}; nothing sent`;
  }
}

function willText(change: AccountChange, flags: AccountFlags): string {
  if (change.kind === "deactivate") {
    if (!change.erase) return "will be deactivated";
    return flags.deactivated === true ? "will be erased (it is already deactivated)" : "will be deactivated and erased";
  }
  return `will ${change.on ? "be" : "no longer be"} ${STATE[change.restriction]}`;
}

function doneText(change: AccountChange, entry: UserChangeEntry & { result: { status: "done" } }): string {
  if (change.kind === "deactivate") {
    if (!change.erase) return "deactivated";
    return entry.result.wasDeactivated === true ? "erased (it was already deactivated)" : "deactivated and erased";
  }
  return change.on ? STATE[change.restriction] : `no longer ${STATE[change.restriction]}`;
}

const CANNOT_UNDO =
  "Synapse can re-enable a deactivated account, but not give back what deactivation removed: its rooms, sessions, devices, email addresses and phone numbers, and with --erase its profile.";

/**
 * The preview: what the change does and how it is undone first (a long list of users must not
 * push them out of the message), then per user what will happen with their flags now, then the
 * users left out, grouped by why.
 */
export function restrictionPreview(plan: AccountChangePlan, prefix: string): Preview {
  const acting = plan.users.flatMap((user) => (user.change === "act" ? [user] : []));
  const who = acting.length === 1 && acting[0] !== undefined ? truncate(acting[0].userId, MAX_ID) : plural(acting.length, "user");
  const byWhy = new Map<string, string[]>();
  for (const user of plan.users) {
    if (user.change === "act") continue;
    const why = unchangedText(user.change, plan.change);
    byWhy.set(why, [...(byWhy.get(why) ?? []), user.userId]);
  }
  const lines: PreviewLine[] = [
    { label: "What it does", value: capitalised(plan.effect) },
    plan.undo === undefined ? { label: "Cannot be undone", value: CANNOT_UNDO } : { label: "Undo", value: `${prefix}${plan.undo} <user>...` },
    ...acting.map((user) => ({ label: truncate(user.userId, MAX_ID), value: `${willText(plan.change, user.flags)} (now: ${flagsText(user.flags, plan.change)})` })),
    ...[...byWhy].map(([why, users]) => ({ label: "Not changed", value: `${inlineList(users)}: ${why}` })),
  ];
  return { title: `${verb(plan.change)} ${who}${plan.change.kind === "deactivate" ? ", for good" : ""}`, lines };
}

/** Why a preview has nothing to confirm: each user and why they need nothing. */
export function nothingToChange(plan: AccountChangePlan): string {
  return plan.users.map((user) => `${truncate(user.userId, MAX_ID)}: ${user.change === "act" ? "" : unchangedText(user.change, plan.change)}`).join("; ");
}

function entryLine(outcome: AccountActionOutcome, entry: UserChangeEntry): Line | undefined {
  const user = truncate(entry.userId, MAX_ID);
  switch (entry.result.status) {
    case "done":
      return textLine(`- ${user}: ${doneText(outcome.change, { ...entry, result: entry.result })}`);
    case "unchanged":
      return textLine(`- ${user}: ${unchangedText(entry.result.unchanged, outcome.change)}`);
    case "failed":
      return textLine(`- ${user}: failed, not changed: ${truncate(entry.result.reason, MAX_REASON)}`);
    case "not-tried":
      return undefined; // one line below the list, with the reason once
  }
}

function counts(outcome: AccountActionOutcome): string {
  const count = (status: UserChangeEntry["result"]["status"]): number => outcome.entries.filter((entry) => entry.result.status === status).length;
  const unchanged = count("unchanged");
  const parts = [
    `${count("done")} done`,
    ...(unchanged > 0 ? [`${unchanged} left as ${unchanged === 1 ? "it was" : "they were"}`] : []),
    ...(count("failed") > 0 ? [`${count("failed")} failed`] : []),
    ...(count("not-tried") > 0 ? [`${count("not-tried")} not tried`] : []),
  ];
  return `${capitalised(verb(outcome.change))} ${plural(outcome.entries.length, "user")}: ${parts.join(", ")}.`;
}

/**
 * The reply to the account commands: per user what was done, what needed nothing and what
 * failed with the homeserver's reason. A plain reply, mentioning nobody: the users named are
 * the subject, not the audience.
 */
export function renderAccountAction(outcome: AccountActionOutcome, prefix: string): OutgoingMessage {
  const heading: Line = { plain: counts(outcome), html: `<b>${escapeHtml(counts(outcome))}</b>` };
  const perUser = outcome.entries.flatMap((entry) => entryLine(outcome, entry) ?? []);
  const notTried = outcome.entries.filter((entry) => entry.result.status === "not-tried").map((entry) => entry.userId);
  const done = outcome.entries.filter((entry) => entry.result.status === "done").map((entry) => entry.userId);
  const undo =
    outcome.undo === undefined || done.length === 0
      ? []
      : [textLine(done.length <= 10 ? `Undo with ${prefix}${outcome.undo} ${done.join(" ")}` : `Undo with ${prefix}${outcome.undo} and the users done above.`)];
  const lines: Line[] = [
    heading,
    ...listLines(perUser, (line) => line, USER_LIMITS),
    ...(notTried.length === 0 ? [] : [textLine(`Not tried, not changed (${notTried.length}): ${inlineList(notTried)}: ${truncate(outcome.stopped ?? "an earlier answer stopped the command", MAX_REASON)}.`)]),
    ...undo,
  ];
  return joined(lines, [heading]);
}
