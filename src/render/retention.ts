import type { OutgoingMessage } from "../matrix/chat.js";
import type { RetentionEstimate, RetentionExclude, RetentionHistoryEstimate, RetentionOutcome, RetentionPolicy, RetentionPolicyState, RetentionSelection } from "../model/retention.js";
import { formatDuration, formatUtc } from "../util/duration.js";
import { firstEntries, inlineList, moreLine, textLine, type Line, type ListLimits } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";
import { mediaPlanLines, mediaPolicyText, mediaRunLine, mediaTallyText } from "./media/retentionMedia.js";
import { leftOutLine } from "./waves.js";

/** Names come from the config, but rooms and patterns in it are as long as whoever wrote it made them. */
const MAX_NAME = 80;
const MAX_TEXT = 200;
/** The rooms, spaces and patterns named inside one policy's line: a few, so several policies fit. */
const INLINE_LIMITS: ListLimits = { entries: 5, bytes: 512 };
/** !retention is one list of policies (usually a handful); each entry is two lines. */
const POLICY_LIMITS: ListLimits = { entries: 50, bytes: 24 * 1024 };
/** A dry run's rooms and left-out rooms share the message: both lists stay within 20 KiB together. */
const ESTIMATE_LIMITS: ListLimits = { entries: 100, bytes: 14 * 1024 };
const LEFT_OUT_LIMITS: ListLimits = { entries: 50, bytes: 6 * 1024 };

function flat(text: string, max = MAX_TEXT): string {
  // Only the start can be shown: collapsing the whitespace of a homeserver's megabyte of text would be wasted.
  const start = text.length > max * 4 ? text.slice(0, max * 4) : text;
  return truncate(start.replace(/\s+/g, " ").trim(), max);
}

function bold(text: string): Line {
  return { plain: text, html: `<b>${escapeHtml(text)}</b>` };
}

function join(lines: readonly Line[], short?: OutgoingMessage): OutgoingMessage {
  return {
    plain: lines.map((l) => l.plain).join("\n"),
    html: lines.map((l) => l.html).join("<br>\n"),
    ...(short === undefined ? {} : { short }),
  };
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function policyName(policy: RetentionPolicy | string): string {
  return `"${flat(typeof policy === "string" ? policy : policy.name, MAX_NAME)}"`;
}

function selectionText(selection: RetentionSelection): string {
  switch (selection.kind) {
    case "all":
      return "every room";
    case "matching":
      return `rooms matching "${flat(selection.words)}"`;
    case "rooms":
      return `${plural(selection.rooms.length, "listed room")} (${inlineList(selection.rooms, INLINE_LIMITS)})`;
    case "space":
      return `space ${flat(selection.space)} and its rooms`;
  }
}

function excludeText(exclude: RetentionExclude): string | undefined {
  const parts: string[] = [];
  if (exclude.rooms.length > 0) parts.push(inlineList(exclude.rooms, INLINE_LIMITS));
  if (exclude.spaces.length > 0) parts.push(`the rooms of ${inlineList(exclude.spaces, INLINE_LIMITS)}`);
  if (exclude.dm) parts.push("direct messages");
  if (exclude.members.length > 0) parts.push(`rooms with a member matching ${inlineList(exclude.members, INLINE_LIMITS, " or ")}`);
  return parts.length === 0 ? undefined : parts.join("; ");
}

function nextRunText(state: RetentionPolicyState, now: number, prefix: string): string {
  if (state.paused) return `paused: no runs until ${prefix}retention resume ${flat(state.policy.name, MAX_NAME)}`;
  if (state.nextRunAt === undefined) return "no run scheduled";
  const wait = state.nextRunAt > now ? ` (in ${formatDuration(state.nextRunAt - now)})` : " (due now)";
  return `next run ${formatUtc(state.nextRunAt)}${wait}`;
}

function lastRunText(state: RetentionPolicyState): string {
  const last = state.lastRun;
  if (last === undefined) return "no run yet";
  const tally = `${last.purged} purged, ${last.skipped} skipped, ${last.failed} failed`;
  const when = last.finishedAt === undefined ? `started ${formatUtc(last.startedAt)}, still running: ${tally} so far` : `ended ${formatUtc(last.finishedAt)}: ${tally}`;
  return `last run ${flat(last.waveId, MAX_NAME)}, ${when}`;
}

function lastMediaText(state: RetentionPolicyState): string {
  const last = state.lastMedia;
  return last === undefined ? "no media step yet" : `last media step ${formatUtc(last.at)}: ${mediaTallyText(last)}`;
}

/** What the policy does to rooms: which, except which, what it keeps. */
function historyParts(policy: RetentionPolicy): string[] {
  const { history } = policy;
  if (history === undefined) return ["no rooms (media only)"];
  const exclude = excludeText(history.exclude);
  return [
    `${selectionText(history.selection)}${exclude === undefined ? "" : `, except ${exclude}`}`,
    `keeps ${flat(history.keep, MAX_NAME)} of history`,
    `local users' messages ${history.local ? "deleted too" : "kept"}`,
  ];
}

/** One policy: its name (and whether paused) on one line, what it does and when on the next. */
function policyEntry(state: RetentionPolicyState, now: number, prefix: string): Line {
  const { policy } = state;
  const name = `${flat(policy.name, MAX_NAME)}${state.paused ? " (paused)" : ""}`;
  const schedule = `every ${flat(policy.every, MAX_NAME)}${policy.at === undefined ? "" : ` at ${flat(policy.at, MAX_NAME)} UTC`}`;
  const details = [
    ...historyParts(policy),
    ...(policy.media === undefined ? [] : [mediaPolicyText(policy.media)]),
    schedule,
    nextRunText(state, now, prefix),
    ...(policy.history === undefined ? [] : [lastRunText(state)]),
    ...(policy.media === undefined ? [] : [lastMediaText(state)]),
  ].join("; ");
  return { plain: `- ${name}\n    ${details}`, html: `- <b>${escapeHtml(name)}</b><br>\n${escapeHtml(details)}` };
}

function renderList(policies: readonly RetentionPolicyState[], now: number, prefix: string): OutgoingMessage {
  if (policies.length === 0) return join([textLine("No retention policies: the config file names none.")]);
  const paused = policies.filter((state) => state.paused).length;
  const heading = bold(`Retention policies (${policies.length}${paused === 0 ? "" : `, ${paused} paused`}):`);
  const { shown, rest } = firstEntries(policies, (state) => policyEntry(state, now, prefix), POLICY_LIMITS);
  const help = `${prefix}help retention`;
  const lines = [heading, ...shown, ...(rest > 0 ? [moreLine(rest, undefined, "more policies")] : [])];
  lines.push({ plain: `Run, dry-run, pause and resume: ${help}`, html: `Run, dry-run, pause and resume: ${code(help)}` });
  return join(lines, join([heading]));
}

function renderChanged(policy: string, paused: boolean, nextRunAt: number | undefined, prefix: string): OutgoingMessage {
  const name = policyName(policy);
  if (paused) {
    const resume = `${prefix}retention resume ${flat(policy, MAX_NAME)}`;
    const text = `Retention policy ${name} paused: it starts no run until `;
    return { plain: `${text}${resume}. A run already going goes on.`, html: `${escapeHtml(text)}${code(resume)}. A run already going goes on.` };
  }
  const next = nextRunAt === undefined ? "no run is scheduled" : `next run ${formatUtc(nextRunAt)}`;
  return join([textLine(`Retention policy ${name} resumed: ${next}.`)]);
}

function estimateText(estimate: RetentionEstimate): string {
  if (estimate.skip !== undefined) return `${flat(estimate.skip)}, skipped`;
  if (estimate.events === undefined) return "unknown (the count could not be read)";
  const events = plural(estimate.events, "event");
  return estimate.capped ? `at least ${events}` : `about ${events}`;
}

function estimateLine(estimate: RetentionEstimate): Line {
  return leftOutLine({ label: estimate.label, roomId: estimate.roomId, why: estimateText(estimate) });
}

/** The rooms' part of a dry run: the totals, then each room and each room left out. */
function historyDryRunLines(policy: RetentionPolicy, history: RetentionHistoryEstimate): { lines: Line[]; short: Line[] } {
  const { estimates, leftOut } = history;
  const skipped = estimates.filter((estimate) => estimate.skip !== undefined).length;
  const counted = estimates.filter((estimate) => estimate.skip === undefined && estimate.events !== undefined);
  const unknown = estimates.length - skipped - counted.length;
  const events = counted.reduce((sum, estimate) => sum + (estimate.events ?? 0), 0);
  const capped = counted.some((estimate) => estimate.capped);
  const local = policy.history?.local === true ? "local users' messages deleted too" : "local users' messages kept";
  const keep = policy.history === undefined ? "" : ` (keeps ${flat(policy.history.keep, MAX_NAME)})`;
  const heading = bold(
    `Dry run of retention policy ${policyName(policy)}: would purge history before ${formatUtc(history.cutoffTs)}${keep} in ${plural(estimates.length - skipped, "room")}; ${local}.`,
  );
  const totals = textLine(
    `Events before the point: ${capped ? "at least" : "about"} ${events} in ${plural(counted.length, "room")}; ${skipped} skipped with nothing before the point; ${unknown} unknown; ${plural(leftOut.length, "room")} left out.`,
  );
  const lines: Line[] = [heading, totals];
  if (estimates.length > 0) {
    lines.push(bold(`Rooms (${estimates.length}):`));
    const { shown, rest } = firstEntries(estimates, estimateLine, ESTIMATE_LIMITS);
    lines.push(...shown, ...(rest > 0 ? [moreLine(rest, undefined, "more rooms")] : []));
  }
  if (leftOut.length > 0) {
    lines.push(bold(`Left out (${leftOut.length}):`));
    const { shown, rest } = firstEntries(leftOut, leftOutLine, LEFT_OUT_LIMITS);
    lines.push(...shown, ...(rest > 0 ? [moreLine(rest, undefined, "more rooms")] : []));
  }
  return { lines, short: [heading, totals] };
}

function mediaOnlyHeading(policy: RetentionPolicy): { lines: Line[]; short: Line[] } {
  const heading = bold(`Dry run of retention policy ${policyName(policy)}: would delete old media, server-wide; Synapse gives no count in advance.`);
  return { lines: [heading], short: [heading] };
}

function renderDryRun(outcome: Extract<RetentionOutcome, { kind: "retention-dry-run" }>): OutgoingMessage {
  const { policy, history, media } = outcome;
  const rooms = history === undefined ? mediaOnlyHeading(policy) : historyDryRunLines(policy, history);
  const mediaLines = media === undefined ? [] : [bold("Media:"), ...mediaPlanLines(media).map((line) => textLine(`${line.label}: ${line.value}`))];
  const done = { plain: "Dry run: nothing was done.", html: "<b>Dry run</b>: nothing was done." };
  return join([...rooms.lines, ...mediaLines, done], join([...rooms.short, done]));
}

/** A run that started no wave but deleted media: what went, and why no room was purged. */
function renderMediaRun(outcome: Extract<RetentionOutcome, { kind: "retention-media-run" }>): OutgoingMessage {
  const heading = bold(`Retention policy ${policyName(outcome.policy)}: media step done.`);
  const lines = [heading, mediaRunLine(outcome.media)];
  if (outcome.noWave !== undefined) lines.push(textLine(`No room was purged: ${flat(outcome.noWave, MAX_TEXT)}.`));
  return join(lines, join([heading]));
}

/** Replies of !retention: the policies, a pause or resume, a dry run's estimate, a run with no wave's media step. */
export function renderRetention(outcome: RetentionOutcome, prefix: string): OutgoingMessage {
  switch (outcome.kind) {
    case "retention-list":
      return renderList(outcome.policies, outcome.now, prefix);
    case "retention-changed":
      return renderChanged(outcome.policy, outcome.paused, outcome.nextRunAt, prefix);
    case "retention-dry-run":
      return renderDryRun(outcome);
    case "retention-media-run":
      return renderMediaRun(outcome);
  }
}
