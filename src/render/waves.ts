import type { Preview, PreviewLine } from "../model/commandSpec.js";
import { mediaRunOf } from "../model/retention.js";
import {
  countRooms,
  describeSelection,
  failedStep,
  purgePhaseOf,
  tallyMedia,
  type LeftOutRoom,
  type SelectedRoom,
  type WaveCounts,
  type WaveKind,
  type WaveOutcome,
  type WaveParameterValue,
  type WaveRecord,
  type WaveRoom,
  type WaveRoomState,
  type WaveSelection,
  type WaveView,
} from "../model/waves.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { asUserId, type UserId } from "../matrix/ids.js";
import { formatDuration, formatUtc } from "../util/duration.js";
import { firstEntries, lineBytesOnce, pageStarts, recordEntries, textLine, type Line, type ListLimits } from "./budget.js";
import { code, escapeHtml, mentionHtml, truncate } from "./html.js";
import { mediaRunLine } from "./media/retentionMedia.js";

/** Bounds on single fields: labels, names and reasons come from moderators, room creators and homeservers. */
const MAX_LABEL = 300;
const MAX_NAME = 80;
const MAX_ID = 255;
const MAX_CUTOFF = 100;
const MAX_SELECTION = 300;
const MAX_REASON = 300;
/** A room's reason in a list of thousands: shorter, so a page still holds a useful number of rooms. */
const MAX_ROOM_REASON = 200;

/**
 * The failed rooms of a final summary: as many as fit beside the heading, counts and reminders,
 * which take a few KiB at most; the rest are on `!status <wave-id>`.
 */
const FAILED_LIMITS: ListLimits = { entries: 100, bytes: 16 * 1024 };
/** One page of `!status <wave-id>`: every page repeats the board's summary (a few KiB) and carries a record. */
const STATUS_PAGE_LIMITS: ListLimits = { entries: 50, bytes: 16 * 1024 };
/**
 * A preview's rooms and left-out rooms. renderPreview stops after 24 KiB of lines: these two
 * lists stay well under it together, so the lines after them are never the ones cut.
 */
const PREVIEW_ROOMS: ListLimits = { entries: 20, bytes: 8 * 1024 };
const PREVIEW_LEFT_OUT: ListLimits = { entries: 20, bytes: 6 * 1024 };

/** Untrusted text on one line, bounded; escaped wherever it reaches HTML. */
function flat(text: string, max: number): string {
  // Only the start can be shown: collapsing the whitespace of a homeserver's megabyte of text would be wasted.
  const start = text.length > max * 4 ? text.slice(0, max * 4) : text;
  return truncate(start.replace(/\s+/g, " ").trim(), max);
}

function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

function labelled(label: string, value: string): Line {
  return { plain: `${label}: ${value}`, html: `${escapeHtml(label)}: ${escapeHtml(value)}` };
}

function bold(text: string): Line {
  return { plain: text, html: `<b>${escapeHtml(text)}</b>` };
}

function join(lines: readonly Line[], extra: Pick<OutgoingMessage, "mentions" | "record" | "short"> = {}): OutgoingMessage {
  return { plain: lines.map((l) => l.plain).join("\n"), html: lines.map((l) => l.html).join("<br>\n"), ...extra };
}

/** A time to the minute, rounded up: "waiting until 10:00" must not be read before the wait ends. */
function utcMinute(epochMs: number): string {
  return formatUtc(Math.ceil(epochMs / 60_000) * 60_000).replace(/:00 UTC$/, " UTC");
}

function cutoffText(parameters: Readonly<Record<string, WaveParameterValue>>): string | undefined {
  const cutoff = parameters["cutoff"];
  if (typeof cutoff === "string") return flat(cutoff, MAX_CUTOFF);
  const cutoffTs = parameters["cutoffTs"];
  return typeof cutoffTs === "number" ? formatUtc(cutoffTs) : undefined;
}

/** The action in a few words: "purge before 2026-05-01 UTC", "shut down then purge after 7 d". */
function actionText(kind: WaveKind, parameters: Readonly<Record<string, WaveParameterValue>>): string {
  switch (kind) {
    case "purge": {
      const cutoff = cutoffText(parameters);
      return cutoff === undefined ? "purge" : `purge before ${cutoff}`;
    }
    case "shutdown": {
      const phase = purgePhaseOf(parameters);
      if (phase === undefined) return "shut down";
      return phase.kind === "after" ? `shut down then purge after ${formatDuration(phase.delayMs)}` : "shut down then purge once members have seen it";
    }
    case "block":
    case "unblock":
      return kind;
  }
}

/** "180 done, 5 running, 121 queued, 6 failed": the four always, the rarer ones when they happened. */
function countParts(counts: WaveCounts): string[] {
  const parts = [`${counts.done} done`, `${counts.running} running`, `${counts.queued} queued`, `${counts.failed} failed`];
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (counts.cancelled > 0) parts.push(`${counts.cancelled} cancelled`);
  return parts;
}

/** What the tail of the heading says about time and the end: the estimate, the duration, who cancelled. */
function progressText(view: WaveView): string | undefined {
  const { wave } = view;
  const by = wave.cancelledBy === undefined ? "cancelled" : `cancelled by ${truncate(wave.cancelledBy, MAX_ID)}`;
  if (wave.status === "finished") {
    const took = formatDuration((wave.finishedAt ?? view.now) - wave.createdAt);
    return wave.cancelledBy === undefined ? `finished in ${took}` : `${by}, finished in ${took}`;
  }
  if (wave.status === "cancelled") return by;
  if (view.remainingMs === undefined) return undefined;
  // Whole minutes: the estimate comes from the pace so far, so seconds would claim a precision it lacks.
  return view.remainingMs < 60_000 ? "less than a minute left" : `about ${formatDuration(Math.round(view.remainingMs / 60_000) * 60_000)} left`;
}

interface Phases {
  readonly main: WaveCounts;
  /** Undefined when the wave has no purge phase. */
  readonly purge: WaveCounts | undefined;
}

function phases(view: WaveView): Phases {
  const purge = countRooms(view.rooms, "purge", view.now);
  return { main: countRooms(view.rooms, "main", view.now), purge: purge.total === 0 ? undefined : purge };
}

/** `Wave w-4c1e0a (purge before 2026-05-01 UTC, 312 rooms)`, the part every wave message starts with. */
function waveTitle(wave: WaveRecord, rooms: number): Line {
  const about = `(${actionText(wave.kind, wave.parameters)}, ${plural(rooms, "room")})`;
  return { plain: `Wave ${wave.id} ${about}`, html: `<b>Wave ${code(wave.id)}</b> ${escapeHtml(about)}` };
}

/** The board's first line, a contract: `Wave <id> (<action>, N rooms): <counts>[, <time or end>]`. */
function boardHeading(view: WaveView, counts: Phases): Line {
  const title = waveTitle(view.wave, counts.main.total);
  const progress = progressText(view);
  const rest = [...countParts(counts.main), ...(progress === undefined ? [] : [progress])].join(", ");
  return { plain: `${title.plain}: ${rest}`, html: `${title.html}: ${escapeHtml(rest)}` };
}

/**
 * When the purge phase of a wave waiting for members' clients ends at the latest: the last of its
 * rooms' deadlines (each room's shutdown end plus the wait).
 */
function latestDeadline(view: WaveView, deadlineMs: number): number | undefined {
  let latest: number | undefined;
  for (const room of view.rooms) {
    if (room.phase !== "main" || room.state !== "done" || room.finishedAt === undefined) continue;
    latest = Math.max(latest ?? 0, room.finishedAt + deadlineMs);
  }
  return latest;
}

/** The second phase of a shutdown: how many wait (for their cooldown, or for members' clients), and until when. */
function purgePhaseLine(view: WaveView, counts: WaveCounts): Line {
  const parts = countParts(counts);
  const phase = purgePhaseOf(view.wave.parameters);
  if (phase?.kind === "members-seen") {
    const waiting = counts.waiting + counts.queued;
    const latest = latestDeadline(view, phase.deadlineMs);
    if (waiting > 0) {
      parts.splice(2, 1);
      parts.unshift(`${waiting} waiting for members' clients to see that they left${latest === undefined ? "" : ` (at the latest until ${utcMinute(latest)})`}`);
    }
    return labelled("Purge phase", parts.join(", "));
  }
  if (counts.waiting > 0) {
    // The rooms countRooms counted as waiting; a loop, as thousands of arguments to Math.min could overflow the stack.
    let earliest = Infinity;
    let latest = -Infinity;
    for (const room of view.rooms) {
      if (room.phase !== "purge" || room.state !== "queued" || room.attempts !== 0 || room.notBefore === undefined || room.notBefore <= view.now) continue;
      earliest = Math.min(earliest, room.notBefore);
      latest = Math.max(latest, room.notBefore);
    }
    const first = utcMinute(earliest);
    const last = utcMinute(latest);
    parts.unshift(`${counts.waiting} waiting until ${first}${first === last ? "" : ` (the last until ${last})`}`);
  }
  return labelled("Purge phase", parts.join(", "));
}

/** What a shutdown's preview says about when the rooms leave the database. */
export function purgePhasePreview(parameters: Readonly<Record<string, WaveParameterValue>>): PreviewLine[] {
  const phase = purgePhaseOf(parameters);
  if (phase?.kind === "after") return [{ label: "Purge phase", value: `each room is purged ${formatDuration(phase.delayMs)} after its shutdown` }];
  if (phase?.kind === "members-seen") {
    return [
      {
        label: "Purge phase",
        value: `each room is purged once its kicked members' clients have seen that they left (every device active in the last ${formatDuration(phase.deadlineMs)} seen again after the shutdown), at the latest ${formatDuration(phase.deadlineMs)} after its shutdown`,
      },
    ];
  }
  if (parameters["purge"] !== false) {
    return [{ label: "Members' clients", value: "will keep the room in their room list: the purge deletes their leave before they sync (without --purge-now, the purge waits until they have seen it)" }];
  }
  return [];
}

/**
 * What a shutdown's preview says about media when --quarantine-media asks for it (nothing
 * otherwise). `known`: false for a single room the homeserver does not know, which holds none of
 * its messages and so none of its media.
 */
export function mediaPreview(parameters: Readonly<Record<string, WaveParameterValue>>, known = true): PreviewLine[] {
  if (parameters["quarantineMedia"] !== true) return [];
  if (!known) return [{ label: "Media", value: "nothing to quarantine: the homeserver does not know the room, so it holds none of its messages" }];
  const again = purgePhaseOf(parameters) === undefined ? "" : ", and again right before the purge phase";
  return [
    {
      label: "Media",
      value: `quarantined in each room right before its delete${again}, so it is no longer served: every file the room's messages name, local and remote, except files protected from quarantine (since Synapse 1.128 every file with the same content goes with it); a room whose media cannot be quarantined is not deleted`,
    },
  ];
}

/** The media step of a shutdown with --quarantine-media, as the board and the summary show it. */
function mediaLines(view: WaveView): Line[] {
  if (view.wave.parameters["quarantineMedia"] !== true) return [];
  const tally = tallyMedia(view.rooms);
  const failed = tally.failed === 0 ? "" : `; could not be quarantined in ${plural(tally.failed, "room")}, whose delete was not sent`;
  return [textLine(`Media quarantined: ${plural(tally.files, "file")} in ${plural(tally.rooms, "room")}${failed}`)];
}

/** The media step in a wave's record, when the wave has one. */
function mediaFields(view: WaveView): Record<string, unknown> {
  return view.wave.parameters["quarantineMedia"] === true ? { media: tallyMedia(view.rooms) } : {};
}

/** Which rooms, how many were left out, and who asked (a moderator, or a retention policy). */
function selectionLine(wave: WaveRecord): Line {
  const described = flat(describeSelection(wave.selection), MAX_SELECTION);
  const leftOut = wave.leftOut.length === 0 ? "" : `; ${plural(wave.leftOut.length, "room")} left out`;
  const who = wave.policy === undefined ? `Requested by ${truncate(wave.requester, MAX_ID)}` : `Retention policy "${flat(wave.policy, MAX_NAME)}"`;
  return textLine(`Selection: ${described === "" ? "none" : described}${leftOut}. ${who}.`);
}

/** The options every room of the wave gets, and the reason, when there are any. */
function optionLines(kind: WaveKind, parameters: Readonly<Record<string, WaveParameterValue>>): Line[] {
  const lines: Line[] = [];
  if (kind === "purge") lines.push(labelled("Local users' messages", parameters["deleteLocalEvents"] === true ? "deleted too" : "kept"));
  // A retention run deletes media before its wave starts: the board says at once what went.
  const media = mediaRunOf(parameters);
  if (media !== undefined) lines.push(mediaRunLine(media, MAX_REASON));
  if (kind === "shutdown") {
    const purge = parameters["purge"] === false ? "no" : parameters["forcePurge"] === true ? "yes, forced" : "yes";
    lines.push(textLine(`Block afterwards: ${parameters["block"] === true ? "yes" : "no"}; delete from database: ${purgePhaseOf(parameters) === undefined ? purge : "in the purge phase"}`));
  }
  const reason = parameters["reason"];
  if (typeof reason === "string") lines.push(labelled("Reason", flat(reason, MAX_REASON)));
  return lines;
}

/** The board's lines without the hint: shared by the board and every page of `!status <wave-id>`. */
function summaryLines(view: WaveView, counts: Phases): Line[] {
  const lines = [boardHeading(view, counts), ...mediaLines(view)];
  if (counts.purge !== undefined) lines.push(purgePhaseLine(view, counts.purge));
  lines.push(selectionLine(view.wave), ...optionLines(view.wave.kind, view.wave.parameters));
  return lines;
}

function commandLine(text: string, command: string, after = ""): Line {
  return { plain: `${text}${command}${after}`, html: `${escapeHtml(text)}${code(command)}${escapeHtml(after)}` };
}

function hintLine(wave: WaveRecord, prefix: string): Line {
  const status = `${prefix}status ${wave.id}`;
  if (wave.status !== "running") return commandLine("", status, " for every room");
  const cancel = `${prefix}cancel ${wave.id}`;
  return {
    plain: `${status} for every room, ${cancel} to stop sending`,
    html: `${code(status)} for every room, ${code(cancel)} to stop sending`,
  };
}

function capParameters(parameters: Readonly<Record<string, WaveParameterValue>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]): [string, unknown] => {
      if (typeof value === "string") return [key, truncate(value, MAX_ID)];
      if (typeof value === "number" || typeof value === "boolean") return [key, value];
      return [key, recordEntries(value)];
    }),
  );
}

/** The machine-readable copy of a wave: its lists cut like every record's (budget.ts), their lengths beside them. */
function waveFields(wave: WaveRecord, counts: Phases): Record<string, unknown> {
  const { selection } = wave;
  return {
    id: wave.id,
    kind: wave.kind,
    status: wave.status,
    requester: truncate(wave.requester, MAX_ID),
    policy: wave.policy === undefined ? null : truncate(wave.policy, MAX_ID),
    selection: {
      listed: recordEntries(selection.listed),
      listed_count: selection.listed.length,
      matching: selection.matching === undefined ? null : truncate(selection.matching, MAX_ID),
      space: selection.space === undefined ? null : truncate(selection.space, MAX_ID),
      empty: selection.empty === true,
      all: selection.all === true,
    },
    parameters: capParameters(wave.parameters),
    left_out: wave.leftOut.length,
    counts: { main: counts.main, purge: counts.purge ?? null },
    created_at: wave.createdAt,
    finished_at: wave.finishedAt ?? null,
    cancelled_by: wave.cancelledBy === undefined ? null : truncate(wave.cancelledBy, MAX_ID),
  };
}

/**
 * The wave's board: posted when the wave starts, in reply to the command, and edited in place
 * as rooms move. A notice (no mentions): the final summary is the message that notifies.
 */
export function renderWaveBoard(view: WaveView, prefix: string): OutgoingMessage {
  const counts = phases(view);
  const record = { type: "wave", ...waveFields(view.wave, counts), ...mediaFields(view) };
  const lines = summaryLines(view, counts);
  const hint = hintLine(view.wave, prefix);
  const [heading] = lines;
  return join([...lines, hint], { record, short: join(heading === undefined ? [hint] : [heading, hint], { record }) });
}

/** The board's first line, for lists of waves (!status). */
export function waveHeadline(view: WaveView): Line {
  const [heading] = summaryLines(view, phases(view));
  return heading ?? { plain: view.wave.id, html: escapeHtml(view.wave.id) };
}

/** "label", or "label (!room:id)" when the label is an alias or a name the moderator typed. */
function roomText(label: string, roomId: string | undefined): { plain: string; html: string } {
  const shownLabel = flat(label, MAX_LABEL);
  if (roomId === undefined || roomId === label) return { plain: shownLabel, html: escapeHtml(shownLabel) };
  const id = truncate(roomId, MAX_ID);
  return { plain: `${shownLabel} (${id})`, html: `${escapeHtml(shownLabel)} (${code(id)})` };
}

function failedLine(room: WaveRoom): Line {
  const where = roomText(room.label, room.roomId);
  const phase = room.phase === "purge" ? " (purge phase)" : "";
  const reason = flat(room.reason ?? "no reason recorded", MAX_ROOM_REASON);
  return { plain: `- ${where.plain}${phase}: ${reason}`, html: `- ${where.html}${escapeHtml(phase)}: ${escapeHtml(reason)}` };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** What a retention run adds to its summary: the policy's tally, how long rooms took, what purging does not do. */
function retentionLines(wave: WaveRecord, rooms: readonly WaveRoom[], main: WaveCounts): Line[] {
  const policy = flat(wave.policy ?? "", MAX_NAME);
  const lines: Line[] = [textLine(`Retention policy "${policy}": ${main.done} purged, ${main.skipped} skipped, ${main.failed} failed.`)];
  const durations = rooms.flatMap((room) => (room.phase === "main" && room.durationMs !== undefined ? [room.durationMs] : []));
  if (durations.length > 0) {
    const longest = durations.reduce((most, duration) => Math.max(most, duration), 0);
    lines.push(textLine(`Time per room: median ${formatDuration(median(durations))}, longest ${formatDuration(longest)}.`));
  }
  lines.push(
    textLine(
      "Reminder: purging frees disk space only after the database is vacuumed (on PostgreSQL, autovacuum makes the space reusable; VACUUM FULL returns it to the system), and the state tables shrink only with a state compressor such as synapse-auto-compressor.",
    ),
  );
  // A policy with media deleted it before the wave: its numbers stand where the reminder would.
  const media = mediaRunOf(wave.parameters);
  lines.push(
    media === undefined
      ? textLine("Reminder: media is not removed: uploaded files stay until they are deleted through the media admin API, which is separate.")
      : mediaRunLine(media),
  );
  return lines;
}

/**
 * The message that ends a wave. It mentions the requester (an m.text with m.mentions, as a
 * task's final notification does): the board is a notice, and edits to it notify nobody.
 */
/** The final tally of the main phase: done and failed always, the rarer ones when they happened. */
function finalTally(main: WaveCounts): string[] {
  const tally = [`${main.done} done`, `${main.failed} failed`];
  if (main.skipped > 0) tally.push(`${main.skipped} skipped`);
  if (main.cancelled > 0) tally.push(`${main.cancelled} cancelled before they were sent`);
  return tally;
}

/** `@mod: Wave w-… (…) <ending>: <tally>.`, mentioning the requester when it is a user ID. */
function mentionHeading(wave: WaveRecord, total: number, ending: string, tally: readonly string[]): Line {
  const requester: UserId | undefined = asUserId(wave.requester);
  const who = requester ?? truncate(wave.requester, MAX_ID);
  const title = waveTitle(wave, total);
  return {
    plain: `${who}: ${title.plain} ${ending}: ${tally.join(", ")}.`,
    html: `${requester === undefined ? escapeHtml(who) : mentionHtml(requester)}: ${title.html} <b>${escapeHtml(ending)}</b>: ${escapeHtml(tally.join(", "))}.`,
  };
}

/** The failed rooms, as many as fit, then where to read the rest. */
function failedLines(failed: readonly WaveRoom[], status: string): Line[] {
  if (failed.length === 0) return [];
  const { shown, rest } = firstEntries(failed, failedLine, FAILED_LIMITS);
  return [
    bold(`Failed (${failed.length}):`),
    ...shown,
    ...(rest > 0 ? [{ plain: `... and ${rest} more: ${status}`, html: `… and ${rest} more: ${code(status)}` }] : []),
  ];
}

export function renderWaveFinished(view: WaveView, prefix: string): OutgoingMessage {
  const { wave } = view;
  const counts = phases(view);
  const requester: UserId | undefined = asUserId(wave.requester);
  const took = formatDuration((wave.finishedAt ?? view.now) - wave.createdAt);
  const ending = wave.cancelledBy === undefined ? `finished in ${took}` : `cancelled by ${truncate(wave.cancelledBy, MAX_ID)}, ended after ${took}`;
  const { main } = counts;
  const tally = finalTally(main);
  // A summary is sent when every room is final; these are counted in case one is not.
  if (main.running > 0) tally.push(`${main.running} still running`);
  if (main.queued > 0) tally.push(`${main.queued} still queued`);
  const heading = mentionHeading(wave, main.total, ending, tally);
  const lines: Line[] = [heading, ...mediaLines(view)];
  if (counts.purge !== undefined) lines.push(purgePhaseLine(view, counts.purge));
  if (wave.policy !== undefined) lines.push(...retentionLines(wave, view.rooms, main));

  const failed = view.rooms.filter((room) => room.state === "failed");
  const status = `${prefix}status ${wave.id}`;
  lines.push(...failedLines(failed, status));
  lines.push(textLine(`Started ${formatUtc(wave.createdAt)}, ended ${formatUtc(wave.finishedAt ?? view.now)} (${took}).`));
  lines.push(commandLine("", status, " for every room"));

  const mentions = requester === undefined ? {} : { mentions: [requester] };
  const record = {
    type: "wave-finished",
    id: wave.id,
    kind: wave.kind,
    policy: wave.policy === undefined ? null : truncate(wave.policy, MAX_ID),
    outcome: wave.cancelledBy === undefined ? "finished" : "cancelled",
    counts: { main, purge: counts.purge ?? null },
    ...mediaFields(view),
    failed: recordEntries(failed.map((room) => room.roomId)),
    created_at: wave.createdAt,
    finished_at: wave.finishedAt ?? null,
    cancelled_by: wave.cancelledBy === undefined ? null : truncate(wave.cancelledBy, MAX_ID),
  };
  const shortLines = [heading, ...mediaLines(view), ...(counts.purge === undefined ? [] : [purgePhaseLine(view, counts.purge)]), commandLine("", status, " for every room")];
  return join(lines, { ...mentions, record, short: join(shortLines, { ...mentions, record }) });
}

/**
 * A wave without a board (a single command's shutdown) speaks through its tasks' messages, but a
 * room that stopped at a step before its job (its media could not be quarantined) has no task:
 * this message tells the requester instead, as the task's final message would have. It mentions
 * them and replies to the command.
 */
export function renderStepFailures(view: WaveView, prefix: string): OutgoingMessage {
  const { wave } = view;
  const requester: UserId | undefined = asUserId(wave.requester);
  const who = requester ?? truncate(wave.requester, MAX_ID);
  const failed = view.rooms.filter((room) => failedStep(room) !== undefined);
  const what = `${wave.kind === "shutdown" ? "Shutdown" : wave.kind} not done: ${plural(failed.length, "room")} stopped before the homeserver was asked to delete ${failed.length === 1 ? "it" : "them"}`;
  const status = `${prefix}status ${wave.id}`;
  const lines: Line[] = [
    { plain: `${who}: ${what}.`, html: `${requester === undefined ? escapeHtml(who) : mentionHtml(requester)}: <b>${escapeHtml(what)}</b>.` },
    // A wave without a board is a single command's: one room.
    ...firstEntries(failed, failedLine, FAILED_LIMITS).shown,
    commandLine("", status, " shows it"),
  ];
  const mentions = requester === undefined ? {} : { mentions: [requester] };
  const record = { type: "wave-step-failed", id: wave.id, kind: wave.kind, failed: recordEntries(failed.map((room) => room.roomId)), ...mediaFields(view) };
  return join(lines, { ...mentions, record, short: join([lines[0] ?? textLine(what), commandLine("", status, " shows it")], { ...mentions, record }) });
}

/**
 * The message that ends a wave's main phase when its purge phase is still to come (it may be a
 * day away): it mentions the requester, who wants to know when the rooms are emptied; the
 * summary follows at the very end.
 */
export function renderWaveMainPhaseEnded(view: WaveView, prefix: string): OutgoingMessage {
  const { wave } = view;
  const counts = phases(view);
  const requester: UserId | undefined = asUserId(wave.requester);
  const { main } = counts;
  const heading = mentionHeading(wave, main.total, `main phase finished in ${formatDuration(view.now - wave.createdAt)}`, finalTally(main));
  const lines: Line[] = [heading, ...mediaLines(view)];
  if (counts.purge !== undefined) lines.push(purgePhaseLine(view, counts.purge));
  const status = `${prefix}status ${wave.id}`;
  lines.push(...failedLines(view.rooms.filter((room) => room.phase === "main" && room.state === "failed"), status));
  const cancel = `${prefix}cancel ${wave.id}`;
  lines.push({
    plain: `The summary follows when the purge phase ends. ${status} for every room; ${cancel} keeps the rooms' data (drops the purge phase).`,
    html: `The summary follows when the purge phase ends. ${code(status)} for every room; ${code(cancel)} keeps the rooms' data (drops the purge phase).`,
  });
  const mentions = requester === undefined ? {} : { mentions: [requester] };
  const record = { type: "wave-main-phase-ended", ...waveFields(wave, counts), ...mediaFields(view) };
  const short = join([heading, ...(counts.purge === undefined ? [] : [purgePhaseLine(view, counts.purge)]), commandLine("", status, " for every room")], { ...mentions, record });
  return join(lines, { ...mentions, record, short });
}

/** Until when a room waits (a queued room whose notBefore is still ahead); undefined once it may be sent, or when it is not queued. */
function waitingUntil(room: WaveRoom, now: number): number | undefined {
  return room.state === "queued" && room.notBefore !== undefined && room.notBefore > now ? room.notBefore : undefined;
}

function stateText(room: WaveRoom, now: number): string {
  const until = waitingUntil(room, now);
  const words: Record<WaveRoomState, string> = {
    queued: until === undefined ? "queued" : `waiting until ${utcMinute(until)}`,
    sending: "being sent",
    sent: "running",
    done: "done",
    failed: "failed",
    skipped: "skipped",
    cancelled: "cancelled, never sent",
  };
  return `${room.phase === "purge" ? "purge phase " : ""}${words[room.state]}`;
}

/** One room of `!status <wave-id>`: label, name, room ID, phase and state, task, attempts, reason. */
function roomRow(room: WaveRoom, now: number): Line {
  const where = roomText(room.label, room.roomId);
  const name = room.name === undefined || room.name === "" ? "" : ` "${flat(room.name, MAX_NAME)}"`;
  const task = room.taskId === undefined ? undefined : truncate(room.taskId, MAX_ID);
  const attempts = room.attempts === 0 ? "" : `, ${plural(room.attempts, "attempt")}`;
  const media = room.steps?.media;
  const quarantined = media === undefined ? "" : media.ok ? `, media: ${media.count} quarantined` : ", media: not quarantined";
  const reason = room.reason === undefined ? "" : `: ${flat(room.reason, MAX_ROOM_REASON)}`;
  const state = stateText(room, now);
  return {
    plain: `- ${where.plain}${name}: ${state}${task === undefined ? "" : `, task ${task}`}${attempts}${quarantined}${reason}`,
    html: `- ${where.html}${escapeHtml(name)}: <b>${escapeHtml(state)}</b>${task === undefined ? "" : `, task ${code(task)}`}${escapeHtml(attempts)}${escapeHtml(quarantined)}${escapeHtml(reason)}`,
  };
}

export function leftOutLine(room: LeftOutRoom): Line {
  const where = roomText(room.label, room.roomId);
  const why = flat(room.why, MAX_ROOM_REASON);
  return { plain: `- ${where.plain}: ${why}`, html: `- ${where.html}: ${escapeHtml(why)}` };
}

/**
 * The sizes of the rows of `!status <wave-id>`, by room. Every row's size decides where the pages
 * break, and building every row of a wave of 100,000 rooms each time a page was asked for took a
 * good part of Warden's time during a wave (issue 22). Rooms never change (the store puts a new
 * object in place of a room that moves), so a size holds as long as its room, and each call builds
 * only its page's rows and those of rooms that moved since the last call. The time enters a row
 * only through "waiting until": a waiting room has a second size, for once its wait is over.
 */
const rowSizes = new WeakMap<WaveRoom, number>();
const waitingRowSizes = new WeakMap<WaveRoom, number>();
const leftOutSizes = new WeakMap<LeftOutRoom, number>();

function rowSize(room: WaveRoom, now: number): number {
  return lineBytesOnce(waitingUntil(room, now) === undefined ? rowSizes : waitingRowSizes, room, (measured) => roomRow(measured, now));
}

/**
 * `!status <wave-id> [--page N]`: the board's summary, then the wave's rooms and the rooms left
 * out, a page at a time (page 1 when none is given).
 */
export function renderWaveStatus(view: WaveView, page: number | undefined, prefix: string): OutgoingMessage {
  const { wave, rooms, now } = view;
  const counts = phases(view);
  // One list: the wave's rooms, then the rooms left out.
  const sizes = [...rooms.map((room) => rowSize(room, now)), ...wave.leftOut.map((room) => lineBytesOnce(leftOutSizes, room, leftOutLine))];
  const starts = pageStarts(sizes, STATUS_PAGE_LIMITS);
  const wanted = page ?? 1;
  const summary = summaryLines(view, counts);
  const fields = { ...waveFields(wave, counts), ...mediaFields(view) };
  const start = starts[wanted - 1];
  if (start === undefined) {
    const text =
      starts.length === 0
        ? `Wave ${wave.id} has no rooms to list.`
        : `Wave ${wave.id}: there is no page ${wanted}; its rooms take ${plural(starts.length, "page")} (${prefix}status ${wave.id} --page 1 to ${starts.length}).`;
    const lines = wanted === 1 ? [...summary, textLine(text)] : [textLine(text)];
    return join(lines, { record: { type: "wave-status", ...fields, page: wanted, pages: starts.length } });
  }

  const end = starts[wanted] ?? sizes.length;
  const lines: Line[] = [...summary, bold(`Rooms, page ${wanted} of ${starts.length}:`)];
  // Each section heading gives the positions its rows hold in the whole list, so a page can be read alone.
  const roomsShown = rooms.slice(start, end);
  if (roomsShown.length > 0) {
    lines.push(textLine(`Rooms (${rooms.length}), ${start + 1}-${start + roomsShown.length}:`));
    lines.push(...roomsShown.map((room) => roomRow(room, now)));
  }
  // Clamped at 0: slice counts a negative index from the end.
  const leftOutFrom = Math.max(start - rooms.length, 0);
  const leftOutShown = wave.leftOut.slice(leftOutFrom, Math.max(end - rooms.length, 0));
  if (leftOutShown.length > 0) {
    lines.push(textLine(`Left out (${wave.leftOut.length}), ${leftOutFrom + 1}-${leftOutFrom + leftOutShown.length}:`));
    lines.push(...leftOutShown.map(leftOutLine));
  }
  const next = `${prefix}status ${wave.id} --page ${wanted + 1}`;
  lines.push(wanted < starts.length ? commandLine("Next page: ", next) : textLine("That is the last page."));
  const record = { type: "wave-status", ...fields, page: wanted, pages: starts.length };
  const [heading] = summary;
  const short = join([...(heading === undefined ? [] : [heading]), textLine(`Rooms: page ${wanted} of ${starts.length}, too long to show here.`)], { record });
  return join(lines, { record, short });
}

/** `!cancel <wave-id>`: what will not be sent, and what the homeserver still runs (and will be reported). */
export function renderWaveCancelled(view: WaveView, notSent: number): OutgoingMessage {
  const counts = phases(view);
  const running = counts.main.running + (counts.purge?.running ?? 0);
  const stopped = `${plural(notSent, "room")} will not be sent`;
  const still =
    running === 0
      ? "none was with the homeserver"
      : running === 1
        ? "1 already with the homeserver runs to its end and is reported"
        : `${running} already with the homeserver run to their end and are reported`;
  const rest = ` cancelled: ${stopped}; ${still}.`;
  return { plain: `Wave ${view.wave.id}${rest}`, html: `Wave ${code(view.wave.id)}${escapeHtml(rest)}` };
}

/** The replies of the wave commands; a started wave's answer is its board, posted by the engine. */
export function renderWaveOutcome(outcome: WaveOutcome, prefix: string): OutgoingMessage | undefined {
  switch (outcome.kind) {
    case "wave-started":
      return undefined;
    case "wave-status":
      return renderWaveStatus(outcome.view, outcome.page, prefix);
    case "wave-cancelled":
      return renderWaveCancelled(outcome.view, outcome.notSent);
  }
}

/** What a wave's preview is made from: the rooms chosen (and left out), before anything is sent. */
export interface WavePreviewInput {
  readonly kind: WaveKind;
  readonly rooms: readonly SelectedRoom[];
  readonly leftOut: readonly LeftOutRoom[];
  readonly parameters: Readonly<Record<string, WaveParameterValue>>;
  readonly selection: WaveSelection;
  readonly policy?: string;
}

const TITLES: Record<WaveKind, (rooms: string) => string> = {
  purge: (rooms) => `purge the history of ${rooms}`,
  shutdown: (rooms) => `shut down ${rooms}`,
  block: (rooms) => `block ${rooms}`,
  unblock: (rooms) => `unblock ${rooms}`,
};

/** The preview line as renderPreview shows it, for measuring against the preview's lists' limits. */
function previewLineShown(entry: PreviewLine): Line {
  return labelled(entry.label, entry.value);
}

function selectedRoomValue(room: SelectedRoom): string {
  const where = roomText(room.label, room.roomId).plain;
  const name = room.name === undefined || room.name === "" ? "" : ` "${flat(room.name, MAX_NAME)}"`;
  const members =
    room.joinedMembers === undefined ? "members not known" : `${room.joinedMembers} joined, ${room.joinedLocalMembers ?? "?"} of them local`;
  return `${where}${name}: ${members}`;
}

/** The first entries of a list as preview lines that fit `limits`, then "and N more". */
function previewList<T>(items: readonly T[], label: string, toValue: (item: T) => string, limits: ListLimits): PreviewLine[] {
  const toLine = (item: T): PreviewLine => ({ label, value: toValue(item) });
  const { shown, rest } = firstEntries(items, (item) => previewLineShown(toLine(item)), limits);
  const kept = items.slice(0, shown.length).map(toLine);
  return rest > 0 ? [...kept, { label, value: `and ${rest} more` }] : kept;
}

/**
 * What a wave would do, as data for renderPreview. The plan (cut-off, options) comes before the
 * lists of rooms, and the lists are cut well within the preview's budget, so the plan always shows.
 */
export function wavePreview(input: WavePreviewInput): Preview {
  const p = input.parameters;
  const rooms = plural(input.rooms.length, "room");
  const policy = input.policy === undefined ? "" : ` (retention policy "${flat(input.policy, MAX_NAME)}")`;
  const described = flat(describeSelection(input.selection), MAX_SELECTION);
  const lines: PreviewLine[] = [{ label: "Rooms", value: `${input.rooms.length}${described === "" ? "" : `, chosen as ${described}`}` }];
  if (input.leftOut.length > 0) lines.push({ label: "Left out", value: `${plural(input.leftOut.length, "room")}, listed below with why` });
  const flag = (text: string): string => (input.policy === undefined ? text : "");
  if (input.kind === "purge") {
    lines.push({ label: "Removes history before", value: cutoffText(p) ?? "not given" });
    lines.push({
      label: "Local users' messages",
      value: p["deleteLocalEvents"] === true ? `deleted too${flag(" (--local)")}` : `kept${flag(" (add --local to delete them)")}`,
    });
  }
  if (input.kind === "shutdown") {
    lines.push({ label: "Block afterwards", value: p["block"] === true ? "yes" : "no" });
    const forced = p["forcePurge"] === true ? ", forced" : "";
    lines.push({
      label: "Delete from database",
      value: purgePhaseOf(p) !== undefined ? `in the purge phase${forced}` : p["purge"] === false ? "no (--no-purge)" : `yes, with the shutdown (--purge-now)${forced}`,
    });
    lines.push(...purgePhasePreview(p), ...mediaPreview(p));
    const notifyAs = p["notifyAs"];
    if (typeof notifyAs === "string") lines.push({ label: "New room for members, created by", value: truncate(notifyAs, MAX_ID) });
  }
  const reason = p["reason"];
  if (typeof reason === "string") lines.push({ label: "Reason", value: flat(reason, MAX_REASON) });
  lines.push(...previewList(input.rooms, "Room", selectedRoomValue, PREVIEW_ROOMS));
  lines.push(...previewList(input.leftOut, "Left out", (room) => leftOutLine(room).plain.slice(2), PREVIEW_LEFT_OUT));
  return { title: `${TITLES[input.kind](rooms)}${policy}`, lines };
}
