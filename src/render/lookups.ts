import type { BlockFact, HomeserverTask, LookupOutcome, RoomFacts, RoomListEntry } from "../model/lookups.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { formatDuration } from "../util/duration.js";
import { firstEntries, LONG_LIST_LIMITS, moreLine, type Line } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";

/** Longest lists a reply shows (fewer if their lines are long: see budget.ts); the rest are counted. */
export const MEMBERS_SHOWN = 100;
export const TASKS_SHOWN = 50;

/** Room names, topics and the like are chosen by whoever made the room: one line, bounded, escaped in HTML. */
function untrusted(text: string, max = 120): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

function line(label: string, value: string): Line {
  return { plain: `${label}: ${value}`, html: `${escapeHtml(label)}: ${escapeHtml(value)}` };
}

function heading(text: string): Line {
  return { plain: text, html: `<b>${escapeHtml(text)}</b>` };
}

function join(lines: readonly Line[]): OutgoingMessage {
  return { plain: lines.map((l) => l.plain).join("\n"), html: lines.map((l) => l.html).join("<br>\n") };
}

/** A heading, then one item per line: "- item" in plain text, a list in HTML. */
function list(title: Line, items: readonly Line[], after: readonly Line[] = []): OutgoingMessage {
  const plain = [title.plain, ...items.map((item) => `- ${item.plain}`), ...after.map((l) => l.plain)].join("\n");
  const listHtml = items.length === 0 ? "" : `<ul>${items.map((item) => `<li>${item.html}</li>`).join("")}</ul>`;
  const afterHtml = after.map((l) => l.html).join("<br>\n");
  return { plain, html: `${title.html}${listHtml === "" ? "<br>\n" : listHtml}${afterHtml}` };
}

/** The shorter form of a list reply: its heading alone. */
function withShort(message: OutgoingMessage, title: Line): OutgoingMessage {
  return { ...message, short: join([title]) };
}

/** `"Name" label`, or the label alone for a room without a name. */
function roomTitle(label: string, name: string | undefined): string {
  return name === undefined || name === "" ? label : `"${untrusted(name, 80)}" ${label}`;
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? "not reported" : value ? "yes" : "no";
}

function optional(value: string | number | undefined, none = "none"): string {
  return value === undefined || value === "" ? none : untrusted(String(value), 300);
}

/** Replies for !room, !rooms, !members, !tasks, !block, !unblock and !make-admin. */
export function renderLookup(outcome: LookupOutcome, prefix: string, now: number): OutgoingMessage {
  switch (outcome.kind) {
    case "room-info":
      return renderRoomInfo(outcome.label, outcome.room, outcome.block);
    case "room-list":
      return renderRoomList(outcome);
    case "room-members":
      return renderMembers(roomTitle(outcome.label, outcome.roomName), outcome.members);
    case "homeserver-tasks":
      return renderTasks(outcome.tasks, now);
    case "room-block":
      return join([blockLine(outcome, prefix)]);
    case "room-admin-granted": {
      const who = outcome.user ?? "Warden's own account";
      const title = roomTitle(outcome.label, outcome.roomName);
      return join([
        {
          plain: `${who} now has the power of the most powerful local user in ${title}.`,
          html: `<b>${escapeHtml(who)}</b> now has the power of the most powerful local user in ${escapeHtml(title)}.`,
        },
        {
          plain: `If ${who} was not in the room and it is not public, the homeserver invited them; they still have to join.`,
          html: `If ${escapeHtml(who)} was not in the room and it is not public, the homeserver invited them; they still have to join.`,
        },
      ]);
    }
  }
}

function blockText(block: BlockFact): string {
  if (!block.read) return `could not be read (${untrusted(block.problem, 500)})`;
  if (!block.blocked) return "no";
  return block.blockedBy === undefined || block.blockedBy === "" ? "yes" : `yes (by ${untrusted(block.blockedBy, 255)})`;
}

function renderRoomInfo(label: string, room: RoomFacts | undefined, block: BlockFact): OutgoingMessage {
  if (room === undefined) {
    return join([heading(`Room ${label}: unknown to this homeserver`), line("Blocked", blockText(block))]);
  }
  return join([
    heading(`Room ${roomTitle(label, room.name)}`),
    line("Name", optional(room.name)),
    line("Canonical alias", optional(room.canonicalAlias)),
    line("Topic", optional(room.topic)),
    line("Creator", optional(room.creator, "not reported")),
    line("Version", optional(room.version, "not reported")),
    line("Members", `${room.joinedMembers} joined, ${room.joinedLocalMembers} of them local`),
    line("Encryption", room.encryption === undefined ? "not encrypted" : untrusted(room.encryption)),
    line("Public (in the room directory)", yesNo(room.public)),
    line("Join rules", optional(room.joinRules, "not reported")),
    line("History visibility", optional(room.historyVisibility, "not reported")),
    line("State events", optional(room.stateEvents, "not reported")),
    ...(room.roomType === undefined ? [] : [line("Room type", untrusted(room.roomType))]),
    line("Blocked", blockText(block)),
  ]);
}

function roomListLine(room: RoomListEntry): Line {
  const alias = room.canonicalAlias === undefined ? "" : ` ${untrusted(room.canonicalAlias, 120)}`;
  const name = room.name === undefined || room.name === "" ? "(no name)" : `"${untrusted(room.name, 80)}"`;
  const local = room.joinedLocalMembers === undefined ? "" : ` (${room.joinedLocalMembers} local)`;
  const visibility = room.public === true ? ", in the room directory" : "";
  const text = `${name}${alias} ${room.roomId}: ${room.joinedMembers} joined${local}${visibility}`;
  return { plain: text, html: escapeHtml(text) };
}

function renderRoomList(outcome: Extract<LookupOutcome, { kind: "room-list" }>): OutgoingMessage {
  const matching = outcome.searchTerm === undefined ? "" : ` matching "${untrusted(outcome.searchTerm, 80)}"`;
  if (outcome.rooms.length === 0) {
    const text =
      outcome.total === 0
        ? `No rooms${matching} on this homeserver.`
        : `No rooms${matching} from position ${outcome.offset + 1}: there are ${outcome.total} in all.`;
    return join([{ plain: text, html: escapeHtml(text) }]);
  }
  const first = outcome.offset + 1;
  const last = outcome.offset + outcome.rooms.length;
  const title = heading(`Rooms ${first}-${last} of ${outcome.total}${matching}:`);
  const { shown, rest } = firstEntries(outcome.rooms, roomListLine, LONG_LIST_LIMITS);
  const next = outcome.nextPageCommand;
  // The page was cut for size: the rooms left out are reached by starting the list from them.
  const cut: Line[] = rest > 0 ? [moreLine(rest, textOnly(`on this page: add --from ${outcome.offset + shown.length} to the command to see them`))] : [];
  const after: Line[] =
    next === undefined
      ? [{ plain: "That is the last page.", html: "That is the last page." }]
      : [{ plain: `Next page: ${next}`, html: `Next page: ${code(next)}` }];
  return withShort(list(title, shown, [...cut, ...after]), title);
}

function textOnly(text: string): Line {
  return { plain: text, html: escapeHtml(text) };
}

function renderMembers(title: string, members: readonly string[]): OutgoingMessage {
  if (members.length === 0) return join([{ plain: `Nobody is joined to ${title}.`, html: `Nobody is joined to ${escapeHtml(title)}.` }]);
  const { shown, rest } = firstEntries(members, (member) => textOnly(untrusted(member, 255)), { ...LONG_LIST_LIMITS, entries: MEMBERS_SHOWN });
  const after: Line[] = rest > 0 ? [moreLine(rest)] : [];
  const titleLine = heading(`Members of ${title}: ${members.length} joined`);
  return withShort(list(titleLine, shown, after), titleLine);
}

function taskAge(task: HomeserverTask, now: number): string {
  return task.timestampMs > now ? `due in ${formatDuration(task.timestampMs - now)}` : `${formatDuration(now - task.timestampMs)} ago`;
}

function taskLine(task: HomeserverTask, now: number): Line {
  const resource = task.resourceId === undefined ? "" : ` on ${untrusted(task.resourceId, 255)}`;
  const error = task.error === undefined ? "" : ` (error: ${untrusted(task.error, 200)})`;
  const plainOwner = task.wardenTaskId === undefined ? "" : ` [Warden task ${task.wardenTaskId}]`;
  const htmlOwner = task.wardenTaskId === undefined ? "" : ` [Warden task ${code(task.wardenTaskId)}]`;
  const id = untrusted(task.id, 80);
  const rest = `${untrusted(task.action, 80)}${resource}: ${untrusted(task.status, 40)}, ${taskAge(task, now)}`;
  return {
    plain: `${id} ${rest}${plainOwner}${error}`,
    html: `${code(id)} ${escapeHtml(rest)}${htmlOwner}${escapeHtml(error)}`,
  };
}

function renderTasks(tasks: readonly HomeserverTask[], now: number): OutgoingMessage {
  if (tasks.length === 0) {
    const text = "The homeserver has no scheduled tasks (it keeps finished ones for about 7 days).";
    return join([{ plain: text, html: escapeHtml(text) }]);
  }
  const pending = tasks.filter((task) => task.status === "scheduled" || task.status === "active").length;
  const fromWarden = tasks.filter((task) => task.wardenTaskId !== undefined).length;
  const title = heading(`Homeserver tasks: ${tasks.length} (${pending} queued or running, ${fromWarden} started by Warden)`);
  const { shown, rest } = firstEntries(tasks, (task) => taskLine(task, now), { ...LONG_LIST_LIMITS, entries: TASKS_SHOWN });
  const after: Line[] = rest > 0 ? [moreLine(rest, undefined, "older")] : [];
  return withShort(list(title, shown, after), title);
}

function blockLine(outcome: Extract<LookupOutcome, { kind: "room-block" }>, prefix: string): Line {
  const title = roomTitle(outcome.label, outcome.roomName);
  let text: string;
  if (outcome.action === "block") {
    if (!outcome.changed) {
      text = `${title} was already blocked${outcome.blockedBy === undefined ? "" : ` (by ${outcome.blockedBy})`}; nothing changed.`;
    } else if (!outcome.knownRoom) {
      text = `Blocked ${title}: unknown to this homeserver; blocked in advance, so nobody here can create or join it.`;
    } else {
      text = `Blocked ${title}: nobody on this homeserver can join it now. Members already in it stay (${prefix}shutdown empties a room).`;
    }
  } else if (!outcome.changed) {
    text = `${title} was not blocked; nothing changed.`;
  } else {
    text = `Unblocked ${title}${outcome.knownRoom ? "" : " (unknown to this homeserver)"}: users of this homeserver can join it again.`;
  }
  return { plain: text, html: escapeHtml(text) };
}
