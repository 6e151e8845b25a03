import type { OutgoingMessage } from "../../matrix/chat.js";
import { asUserId, type UserId } from "../../matrix/ids.js";
import type { PreviewLine } from "../../model/commandSpec.js";
import { tallySteps, type TakedownPreviewData, type TakedownRecord, type TakedownStep, type TakedownStepName, type TakedownUser } from "../../model/takedowns.js";
import { formatDuration, formatUtc } from "../../util/duration.js";
import { firstEntries, inlineList, recordEntries, textLine, type Line } from "../budget.js";
import { code, escapeHtml, mentionHtml, truncate } from "../html.js";

/** The longest user ID or step detail shown; the record keeps them whole up to its own limits. */
const MAX_ID = 255;
const MAX_DETAIL = 400;
/** Users shown one by one on a board or a final message; the rest are counted (!status <id> pages through them). */
const USER_LIMITS = { entries: 20, bytes: 20 * 1024 };

const STEP_LABELS: Record<TakedownStepName, string> = {
  restrict: "restrict",
  media: "media",
  redact: "redact",
  rooms: "rooms",
  deactivate: "deactivate",
};

const STATE_MARKS: Record<TakedownStep["state"], string> = {
  pending: "…",
  running: "▶",
  done: "✓",
  skipped: "–",
  failed: "✗",
};

function join(lines: readonly Line[], extra: Pick<OutgoingMessage, "mentions" | "record" | "short"> = {}): OutgoingMessage {
  return { plain: lines.map((l) => l.plain).join("\n"), html: lines.map((l) => l.html).join("<br>\n"), ...extra };
}

function stepText(step: TakedownStep): string {
  const detail = step.detail === undefined ? (step.state === "running" ? "running" : step.state) : truncate(step.detail, MAX_DETAIL);
  return `${STATE_MARKS[step.state]} ${STEP_LABELS[step.name]}: ${detail}`;
}

function userLine(user: TakedownUser): Line {
  const who = truncate(user.userId, MAX_ID);
  const steps = user.steps.map(stepText);
  return {
    plain: `${who}${user.local ? "" : " (remote)"}\n  ${steps.join("\n  ")}`,
    html: `<b>${escapeHtml(who)}</b>${user.local ? "" : " (remote)"}<br>\n&nbsp;&nbsp;${steps.map(escapeHtml).join("<br>\n&nbsp;&nbsp;")}`,
  };
}

function optionsText(record: Pick<TakedownRecord, "options">): string {
  const { options } = record;
  const parts = [
    "suspend",
    options.quarantineMedia ? "quarantine media" : undefined,
    "redact",
    options.rooms ? "shut down their rooms" : undefined,
    options.deactivate ? (options.erase ? "deactivate and erase" : "deactivate") : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.join(", then ");
}

function leftOutLines(record: Pick<TakedownRecord, "leftOut">): Line[] {
  if (record.leftOut.length === 0) return [];
  const text = `Left out: ${inlineList(record.leftOut.map((user) => `${truncate(user.userId, MAX_ID)} (${user.why})`))}`;
  return [textLine(text)];
}

/** Users shown on one page of the board; the page after is named when more remain. */
function usersLines(users: readonly TakedownUser[], id: string, prefix: string, page = 1): Line[] {
  const from = (page - 1) * USER_LIMITS.entries;
  const { shown, rest } = firstEntries(users.slice(from), userLine, USER_LIMITS);
  const lines = [...shown];
  if (from > 0 && shown.length === 0) lines.push(textLine(`No users on page ${page}: the takedown has ${users.length}.`));
  if (rest > 0) {
    const next = `${prefix}status ${id} --page ${page + 1}`;
    lines.push({ plain: `and ${rest} more users: ${next}`, html: `and ${rest} more users: ${code(next)}` });
  }
  return lines;
}

function headline(record: TakedownRecord): string {
  const users = record.users.length;
  return `Takedown ${record.id} of ${users} user${users === 1 ? "" : "s"}`;
}

/** The board: posted as the answer to !takedown, edited as each step moves. */
export function renderTakedownBoard(record: TakedownRecord, prefix: string, now: number, page = 1): OutgoingMessage {
  const tally = tallySteps(record);
  const ended = tally.done + tally.skipped + tally.failed;
  const state = record.status === "finished" ? "finished" : `running for ${formatDuration(now - record.createdAt)}`;
  const lines: Line[] = [
    {
      plain: `${headline(record)} (${state}): ${ended} of ${tally.total} steps ended${tally.failed > 0 ? `, ${tally.failed} failed` : ""}.`,
      html: `<b>${escapeHtml(headline(record))}</b> (${escapeHtml(state)}): ${ended} of ${tally.total} steps ended${tally.failed > 0 ? `, <b>${tally.failed} failed</b>` : ""}.`,
    },
    textLine(`Plan, per user: ${optionsText(record)}.`),
    ...leftOutLines(record),
    ...usersLines(record.users, record.id, prefix, page),
    { plain: `${prefix}status ${record.id} for this board again`, html: `${code(`${prefix}status ${record.id}`)} for this board again` },
  ];
  return join(lines, { record: takedownRecordField(record, "takedown-board") });
}

/** The final message: mentions the requester, with each user's steps and every failure with the homeserver's reason. */
export function renderTakedownFinished(record: TakedownRecord, prefix: string, now: number): OutgoingMessage {
  const tally = tallySteps(record);
  const requester: UserId | undefined = asUserId(record.requester);
  const who = requester ?? truncate(record.requester, MAX_ID);
  const took = formatDuration((record.finishedAt ?? now) - record.createdAt);
  const outcome = `${tally.done} step${tally.done === 1 ? "" : "s"} done, ${tally.skipped} skipped, ${tally.failed} failed`;
  const heading: Line = {
    plain: `${who}: ${headline(record)} finished in ${took}: ${outcome}.`,
    html: `${requester === undefined ? escapeHtml(who) : mentionHtml(requester)}: ${escapeHtml(headline(record))} <b>finished in ${escapeHtml(took)}</b>: ${escapeHtml(outcome)}.`,
  };
  const lines: Line[] = [
    heading,
    ...leftOutLines(record),
    ...usersLines(record.users, record.id, prefix),
    textLine(`Started ${formatUtc(record.createdAt)}, ended ${formatUtc(record.finishedAt ?? now)}.`),
  ];
  const mentions = requester === undefined ? {} : { mentions: [requester] };
  const field = takedownRecordField(record, "takedown-finished");
  return join(lines, { ...mentions, record: field, short: join([heading, textLine(`${prefix}status ${record.id} for every step.`)], { ...mentions, record: field }) });
}

function takedownRecordField(record: TakedownRecord, type: string): Record<string, unknown> {
  return {
    type,
    id: record.id,
    options: { ...record.options, ...(record.options.reason === undefined ? {} : { reason: truncate(record.options.reason, MAX_DETAIL) }) },
    users: record.users.slice(0, 10).map((user) => ({
      user_id: truncate(user.userId, MAX_ID),
      local: user.local,
      steps: Object.fromEntries(user.steps.map((step) => [step.name, step.state])),
    })),
    user_count: record.users.length,
    left_out: recordEntries(record.leftOut.map((user) => user.userId)),
    created_at: record.createdAt,
    finished_at: record.finishedAt ?? null,
  };
}

/** The audit record's detail: the plan and every step's outcome, one user after another. */
export function takedownAuditDetail(record: TakedownRecord): string {
  const users = record.users.map((user) => `${user.userId}: ${user.steps.map((step) => `${step.name} ${step.state}${step.detail === undefined ? "" : ` (${step.detail})`}`).join("; ")}`);
  const leftOut = record.leftOut.map((user) => `${user.userId} left out (${user.why})`);
  return [`plan: ${optionsText(record)}`, ...users, ...leftOut].join(" | ");
}

/** The preview of !takedown: per user, what each step will touch, before anything happens. */
export function takedownPreviewLines(data: TakedownPreviewData): PreviewLine[] {
  const lines: PreviewLine[] = [{ label: "Plan, per user", value: `${optionsText(data)}; each step is stored and followed to its end` }];
  for (const user of data.users.slice(0, 20)) {
    const parts: string[] = [];
    parts.push(user.restrictBy === "none" ? "not restricted (remote)" : user.restrictBy === "suspend" ? "suspended first" : "locked first (suspension not available)");
    if (data.options.quarantineMedia) parts.push(user.media === undefined ? "their media quarantined" : `${user.media} file${user.media === 1 ? "" : "s"} quarantined`);
    const events = user.events === undefined ? "" : `, ${user.eventsBounded === true ? "at least " : "about "}${user.events} of their events`;
    // Synapse redacts a remote user's events as the admin who asks, so only where Warden may redact.
    const asWarden = user.local ? "" : " by Warden's account, only where it is joined with the power to redact (Synapse's rule for a remote user)";
    // The rooms by name: the moderator checks the plan against what they know before confirming.
    parts.push(
      user.rooms.length === 0
        ? "nothing to redact (no room here holds their membership)"
        : `redacted in ${user.rooms.length} room${user.rooms.length === 1 ? "" : "s"} (${user.joinedRooms} joined, ${user.leftRooms} left or banned)${asWarden}${events}: ${inlineList(user.rooms)}`,
    );
    if (data.options.rooms) parts.push(user.ownRooms.length === 0 ? "no room of theirs to shut down" : `${user.ownRooms.length} room${user.ownRooms.length === 1 ? "" : "s"} of theirs shut down: ${inlineList(user.ownRooms)}`);
    if (data.options.deactivate && user.local) parts.push(data.options.erase ? "deactivated and erased after the redaction" : "deactivated after the redaction");
    for (const step of user.notRunning) parts.push(`no ${step.step}: ${step.why}`);
    const name = user.displayName === undefined ? user.userId : `${user.userId} ("${truncate(user.displayName, 60)}")`;
    lines.push({ label: truncate(name, 120), value: parts.join("; ") });
  }
  if (data.users.length > 20) lines.push({ label: "More users", value: `${data.users.length - 20} more, with the same steps` });
  if (data.leftOut.length > 0) lines.push({ label: `Left out (${data.leftOut.length})`, value: inlineList(data.leftOut.map((user) => `${user.userId} (${user.why})`)) });
  if (data.options.reason !== undefined) lines.push({ label: "Reason", value: data.options.reason });
  return lines;
}

/** One line of !status: the takedown, its users and how far its steps are. */
export function takedownHeadline(record: TakedownRecord): Line {
  const tally = tallySteps(record);
  const ended = tally.done + tally.skipped + tally.failed;
  // One short line whatever the users: the status list shares the message with every job in flight.
  const first = truncate(record.users[0]?.userId ?? "", 80);
  const users = record.users.length > 1 ? `${first} and ${record.users.length - 1} more` : first;
  return textLine(`${record.id}: takedown of ${users}, ${ended} of ${tally.total} steps ended${tally.failed > 0 ? ` (${tally.failed} failed)` : ""}`);
}
