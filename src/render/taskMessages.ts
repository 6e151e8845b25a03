import type { OutgoingMessage } from "../matrix/chat.js";
import type { UserId } from "../matrix/ids.js";
import type { TaskKind, TaskRecord, TaskStatus } from "../tasks/types.js";
import { purgePhaseOf } from "../model/waves.js";
import { formatDuration, formatUtc } from "../util/duration.js";
import { firstEntries, inlineEntry, inlineList, listLines, pages, recordEntries, textLine, type Line } from "./budget.js";
import { code, escapeHtml, mentionHtml, truncate } from "./html.js";

export { RECORD_KEY } from "../matrix/chat.js";

const STATUS_WORDS: Record<TaskStatus, string> = {
  submitting: "sending to the homeserver",
  scheduled: "queued on the homeserver",
  active: "running",
  complete: "done",
  failed: "failed",
  unknown: "unknown",
};

const VERBS: Record<TaskKind, string> = { purge: "Purge", shutdown: "Shutdown", redact: "Redact" };

/** A homeserver's error text has no length limit; this much of it is shown. */
const REASON_CHARACTERS = 800;

function line(label: string, value: string, asCode = false): Line {
  return { plain: `${label}: ${value}`, html: `${escapeHtml(label)}: ${asCode ? code(value) : escapeHtml(value)}` };
}

function join(lines: readonly Line[], mentions?: readonly UserId[], record?: Record<string, unknown>, short?: OutgoingMessage): OutgoingMessage {
  return {
    plain: lines.map((l) => l.plain).join("\n"),
    html: lines.map((l) => l.html).join("<br>\n"),
    ...(mentions === undefined ? {} : { mentions }),
    ...(record === undefined ? {} : { record }),
    ...(short === undefined ? {} : { short }),
  };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : "";
}

function list(value: unknown): readonly string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/**
 * The machine-readable copy of a task. Its lists keep their first entries (none with
 * `withEntries` false, for the shorter form) and `counts` gives each list's full length; the
 * whole lists stay in the task store.
 */
export function taskRecord(task: TaskRecord, withEntries = true): Record<string, unknown> {
  const counts: Record<string, number> = {};
  const cap = (values: Readonly<Record<string, unknown>>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => {
        if (typeof value === "string") return [key, truncate(value, 255)];
        if (!Array.isArray(value)) return [key, value];
        const entries = list(value);
        counts[key] = entries.length;
        return [key, withEntries ? recordEntries(entries) : []];
      }),
    );
  return {
    id: task.id,
    kind: task.kind,
    room_id: task.roomId,
    requester: task.requester,
    status: task.status,
    parameters: cap(task.parameters),
    homeserver_task_id: task.homeserverTaskId ?? null,
    created_at: task.createdAt,
    finished_at: task.finishedAt ?? null,
    outcome: task.outcome === undefined ? null : cap(task.outcome),
    counts,
  };
}

interface TaskList {
  readonly title: string;
  readonly entries: readonly string[];
  /** How a message shows one entry (the lines the budget measures). */
  readonly toLine: (entry: string) => Line;
}

/** The lists of a task that can grow long; `!status <id> --page N` shows them in full. */
export function taskLists(task: TaskRecord): TaskList[] {
  const outcome = task.outcome ?? {};
  const lists: TaskList[] =
    task.kind === "redact"
      ? [
          { title: "Rooms named", entries: list(task.parameters["roomLabels"]), toLine: inlineEntry },
          { title: "Failed redactions", entries: list(outcome["failedRedactions"]), toLine: failedRedactionLine },
        ]
      : task.kind === "shutdown"
        ? [
            { title: "Kicked", entries: list(outcome["kickedUsers"]), toLine: inlineEntry },
            { title: "Could not kick", entries: list(outcome["failedToKickUsers"]), toLine: inlineEntry },
            { title: "Aliases moved", entries: list(outcome["localAliases"]), toLine: inlineEntry },
          ]
        : [];
  return lists.filter((entry) => entry.entries.length > 0);
}

/** Whether a message about this task leaves list entries out, so it should say how to page them. */
function listsCut(task: TaskRecord): boolean {
  return taskLists(task).some((entry) => firstEntries(entry.entries, entry.toLine).rest > 0);
}

function pagesHint(task: TaskRecord, prefix: string): Line {
  const command = `${prefix}status ${task.id} --page 1`;
  return { plain: `Every entry, page by page: ${command}`, html: `Every entry, page by page: ${code(command)}` };
}

/** The shorter form of a task message: the same heading, the lists' counts, where to read them. */
function shortForm(task: TaskRecord, heading: Line, prefix: string, mentions?: readonly UserId[]): OutgoingMessage {
  const counts = taskLists(task).map((entry) => `${entry.title}: ${entry.entries.length}`);
  const lines: Line[] = [heading];
  if (counts.length > 0) lines.push(textLine(counts.join("; ")), pagesHint(task, prefix));
  return join(lines, mentions, taskRecord(task, false));
}

function roomLine(task: TaskRecord): Line {
  const name = text(task.parameters["roomName"]);
  const roomLabel = truncate(task.roomLabel, 300);
  const label = name === "" ? roomLabel : `"${truncate(name, 80)}" ${roomLabel}`;
  return line("Room", label);
}

function plannedLines(task: TaskRecord): Line[] {
  const p = task.parameters;
  if (task.kind === "redact") return redactPlanLines(task);
  const lines: Line[] = [roomLine(task)];
  if (task.kind === "purge") {
    lines.push(line("Removes history before", text(p["cutoff"])));
    if (typeof p["eventId"] === "string") lines.push(line("Kept from event", p["eventId"], true));
    lines.push(
      line("Local users' messages", p["deleteLocalEvents"] === true ? "deleted too (--local)" : "kept (add --local to delete them)"),
    );
  } else if (p["wavePhase"] === "purge") {
    lines.push(line("Step", `the purge phase of ${text(p["waveId"])}: deletes the emptied room from the database`), ...mediaLines(p));
  } else {
    if (p["knownRoom"] === false) lines.push(line("Note", "this homeserver does not know the room: it can only be blocked"));
    else lines.push(line("Members", `${text(p["joinedMembers"])} joined, ${text(p["joinedLocalMembers"])} of them local`));
    lines.push(line("Block afterwards", p["block"] === true ? "yes" : "no"));
    lines.push(line("Delete from database", deleteText(p)));
    if (typeof p["notifyAs"] === "string") lines.push(line("New room for members, created by", truncate(p["notifyAs"], 255)));
    lines.push(...mediaLines(p));
  }
  if (typeof p["reason"] === "string") lines.push(line("Reason", truncate(p["reason"])));
  return lines;
}

/** A shutdown with --quarantine-media: what the step before this delete quarantined (see roomMediaStep). */
function mediaLines(p: TaskRecord["parameters"]): Line[] {
  const count = p["mediaQuarantined"];
  if (typeof count !== "number") return [];
  return [line("Media quarantined", `${count} file${count === 1 ? "" : "s"} before this delete, no longer served`)];
}

/** When a shutdown's room leaves the database: now, never, or in a purge phase after the kick (see PurgePhase). */
function deleteText(p: TaskRecord["parameters"]): string {
  const forced = p["forcePurge"] === true ? ", forced" : "";
  const phase = purgePhaseOf(p);
  if (phase?.kind === "after") return `later: ${formatDuration(phase.delayMs)} after the shutdown (${text(p["waveId"])})${forced}`;
  if (phase?.kind === "members-seen") {
    return `later, once the kicked members' clients have seen that they left, at the latest ${formatDuration(phase.deadlineMs)} after the shutdown (${text(p["waveId"])})${forced}`;
  }
  if (p["purge"] === false) return "no (--no-purge)";
  return `yes${forced}`;
}

/** What a shutdown with a purge phase says at the end of its first step: when the purge follows, and how to keep the data. */
function purgeFollowsLines(task: TaskRecord, prefix: string): Line[] {
  const phase = purgePhaseOf(task.parameters);
  const waveId = text(task.parameters["waveId"]);
  if (phase === undefined || task.status !== "complete" || task.parameters["wavePhase"] === "purge" || waveId === "") return [];
  const endedAt = task.finishedAt ?? task.statusChangedAt;
  const when =
    phase.kind === "after"
      ? `at ${formatUtc(endedAt + phase.delayMs)}`
      : `once the kicked members' clients have seen that they left, at the latest ${formatUtc(endedAt + phase.deadlineMs)}`;
  const status = `${prefix}status ${waveId}`;
  const cancel = `${prefix}cancel ${waveId}`;
  return [
    {
      plain: `Purge from the database: ${when}; ${status} shows it, ${cancel} keeps the room's data.`,
      html: `Purge from the database: ${escapeHtml(when)}; ${code(status)} shows it, ${code(cancel)} keeps the room's data.`,
    },
  ];
}

/** A redact task's `roomId` and `roomLabel` hold the user; `rooms` is empty for Synapse's default set. */
function redactPlanLines(task: TaskRecord): Line[] {
  const p = task.parameters;
  const named = list(p["roomLabels"]);
  const lines: Line[] = [line("User", truncate(task.roomLabel, 300))];
  if (named.length > 0) {
    lines.push(line(`Rooms (${named.length})`, inlineList(named)));
  } else {
    const counts =
      typeof p["joinedRooms"] === "number" && typeof p["bannedRooms"] === "number"
        ? `: ${p["joinedRooms"]} joined and ${p["bannedRooms"]} banned from when sent`
        : "";
    lines.push(line("Rooms", `the rooms the user is joined to or banned from (not rooms they left)${counts}`));
  }
  lines.push(
    line("Limit", typeof p["limit"] === "number" ? `at most ${p["limit"]} of the user's events per room` : "at most 1000 of the user's events per room (Synapse's default)"),
  );
  if (typeof p["reason"] === "string") lines.push(line("Reason", truncate(p["reason"])));
  return lines;
}

/**
 * Synapse's redact status names no rooms: only the redactions that failed, so the count of rooms
 * is Warden's own (the rooms named, or those it saw the user in when it sent the job).
 */
function redactResultLines(task: TaskRecord): Line[] {
  const p = task.parameters;
  const lines: Line[] = [];
  const named = list(p["roomLabels"]).length;
  const joined = p["joinedRooms"];
  const banned = p["bannedRooms"];
  const noCount = "Synapse's status gives no count of rooms, only the redactions that failed";
  if (task.status !== "complete") lines.push(line("Rooms processed", `unknown (${noCount})`));
  else if (named > 0) lines.push(line("Rooms processed", `${named}, the rooms named (${noCount})`));
  else if (typeof joined === "number" && typeof banned === "number") {
    lines.push(line("Rooms processed", `${joined + banned}, the ${joined} joined and ${banned} banned from when the job was sent (Warden's count: ${noCount})`));
  } else lines.push(line("Rooms processed", `the rooms the user was joined to or banned from (${noCount})`));

  const failed = list(task.outcome?.["failedRedactions"]);
  if (failed.length === 0) {
    if (task.status === "complete") lines.push(line("Failed redactions", "none"));
    return lines;
  }
  lines.push({ plain: `Failed redactions (${failed.length}):`, html: `<b>Failed redactions (${failed.length}):</b>` });
  lines.push(...listLines(failed, failedRedactionLine));
  return lines;
}

function failedRedactionLine(entry: string): Line {
  // Each entry is "<event id>: <Synapse's reason>", as the redact handler records it.
  const split = entry.indexOf(": ");
  const eventId = truncate(split === -1 ? entry : entry.slice(0, split), 255);
  const reason = split === -1 ? "" : truncate(entry.slice(split + 2));
  return { plain: `- ${eventId}: ${reason}`, html: `- ${code(eventId)}: ${escapeHtml(reason)}` };
}

/** The progress message: posted on acceptance and edited in place at each status change. */
export function renderProgress(task: TaskRecord, now: number, prefix = "!"): OutgoingMessage {
  const verb = VERBS[task.kind];
  const elapsed = formatDuration(now - task.createdAt);
  const heading: Line = {
    plain: `${verb} ${task.id} accepted for ${task.requester}: ${STATUS_WORDS[task.status]} (${elapsed})`,
    html: `<b>${verb} ${code(task.id)}</b> accepted for ${escapeHtml(task.requester)}: <b>${escapeHtml(STATUS_WORDS[task.status])}</b> (${escapeHtml(elapsed)})`,
  };
  return join([heading, ...plannedLines(task)], undefined, taskRecord(task), shortForm(task, heading, prefix));
}

/** The message that ends a job; it mentions the requester so their client notifies them. */
export function renderFinished(task: TaskRecord, now: number, prefix = "!"): OutgoingMessage {
  const verb = VERBS[task.kind];
  const took = formatDuration((task.finishedAt ?? now) - task.createdAt);
  const requester = task.requester as UserId;
  const label = truncate(task.roomLabel, 300);
  const outcomeWord = task.status === "complete" ? `done in ${took}` : task.status === "failed" ? `failed after ${took}` : "ended: status unknown";
  const heading: Line = {
    plain: `${requester}: ${verb} ${task.id} of ${label} ${outcomeWord}.`,
    html: `${mentionHtml(requester)}: ${verb} ${code(task.id)} of ${escapeHtml(label)} <b>${escapeHtml(outcomeWord)}</b>.`,
  };
  const lines: Line[] = [heading];
  if (task.status !== "complete") lines.push(line("Reason", truncate(task.reason ?? "the homeserver gave no reason", REASON_CHARACTERS)));
  if (task.kind === "shutdown") lines.push(...mediaLines(task.parameters), ...shutdownResultLines(task), ...purgeFollowsLines(task, prefix));
  if (task.kind === "redact") lines.push(...redactResultLines(task));
  if (listsCut(task)) lines.push(pagesHint(task, prefix));
  return join(lines, [requester], taskRecord(task), shortForm(task, heading, prefix, [requester]));
}

function shutdownResultLines(task: TaskRecord): Line[] {
  const outcome = task.outcome ?? {};
  const lines: Line[] = [];
  if (task.parameters["wavePhase"] === "purge") {
    if (task.status === "complete") lines.push(line("Result", "the room is deleted from the database"));
    if (typeof outcome["blocked"] === "boolean") lines.push(line("Blocked now", outcome["blocked"] ? "yes" : "no"));
    return lines;
  }
  if (task.parameters["knownRoom"] === false) {
    lines.push(line("Result", outcome["blocked"] === true ? "unknown room (blocked only)" : "unknown room: nothing was done"));
    return lines;
  }
  if (task.outcome === undefined) return lines;
  const kicked = list(outcome["kickedUsers"]);
  const failed = list(outcome["failedToKickUsers"]);
  const aliases = list(outcome["localAliases"]);
  lines.push(kicked.length === 0 ? line("Kicked", "nobody") : line(`Kicked (${kicked.length})`, inlineList(kicked)));
  if (failed.length > 0) {
    lines.push(line(`Could not kick (${failed.length})`, inlineList(failed)));
    lines.push(line("Hint", "run the shutdown again with --force-purge to delete the room anyway"));
  }
  lines.push(aliases.length === 0 ? line("Aliases moved", "none") : line(`Aliases moved (${aliases.length})`, inlineList(aliases)));
  const newRoom = text(outcome["newRoomId"]);
  lines.push(line("New room", newRoom === "" ? "none" : truncate(newRoom, 255)));
  if (typeof outcome["blocked"] === "boolean") lines.push(line("Blocked now", outcome["blocked"] ? "yes" : "no"));
  return lines;
}

export function renderStuck(task: TaskRecord, now: number): OutgoingMessage {
  const how = formatDuration(now - task.statusChangedAt);
  const label = truncate(task.roomLabel, 300);
  return join(
    [
      {
        plain: `Warning: ${task.kind} ${task.id} of ${label} has been ${STATUS_WORDS[task.status]} for ${how}. Warden keeps watching; check the homeserver's logs.`,
        html: `<b>Warning</b>: ${escapeHtml(task.kind)} ${code(task.id)} of ${escapeHtml(label)} has been ${escapeHtml(STATUS_WORDS[task.status])} for ${escapeHtml(how)}. Warden keeps watching; check the homeserver's logs.`,
      },
    ],
    undefined,
    taskRecord(task),
  );
}

export function summaryLine(task: TaskRecord, now: number): Line {
  const age = formatDuration(now - task.createdAt);
  const label = truncate(task.roomLabel, 300);
  return {
    plain: `${task.id} ${task.kind} ${label} by ${task.requester}: ${STATUS_WORDS[task.status]}, ${age} ago`,
    html: `${code(task.id)} ${escapeHtml(task.kind)} ${escapeHtml(label)} by ${escapeHtml(task.requester)}: <b>${escapeHtml(STATUS_WORDS[task.status])}</b>, ${escapeHtml(age)} ago`,
  };
}

/** !status <task-id>: one task in full, its long lists shortened (see renderTaskPage). */
export function detailLines(task: TaskRecord, now: number, prefix = "!"): OutgoingMessage {
  const heading = summaryLine(task, now);
  const lines: Line[] = [heading, ...plannedLines(task), line("Requested at", formatUtc(task.createdAt))];
  if (task.finishedAt !== undefined) lines.push(line("Finished at", formatUtc(task.finishedAt)));
  if (task.homeserverTaskId !== undefined) lines.push(line("Homeserver job id", truncate(task.homeserverTaskId, 255), true));
  if (task.reason !== undefined) lines.push(line("Reason", truncate(task.reason, REASON_CHARACTERS)));
  if (task.kind === "shutdown" && task.finishedAt !== undefined) lines.push(...shutdownResultLines(task));
  if (task.kind === "redact" && task.finishedAt !== undefined) lines.push(...redactResultLines(task));
  if (listsCut(task)) lines.push(pagesHint(task, prefix));
  return join(lines, undefined, taskRecord(task), shortForm(task, heading, prefix));
}

interface PageEntry {
  readonly title: string;
  readonly total: number;
  readonly position: number;
  readonly text: string;
}

function pageEntryLine(entry: PageEntry): Line {
  return textLine(`- ${truncate(entry.text, 300)}`);
}

/** !status <task-id> --page N: every entry of the task's lists, one page at a time. */
export function renderTaskPage(task: TaskRecord, page: number, prefix: string): OutgoingMessage {
  const entries = taskLists(task).flatMap((taskList) =>
    taskList.entries.map((text, index): PageEntry => ({ title: taskList.title, total: taskList.entries.length, position: index + 1, text })),
  );
  const all = pages(entries, pageEntryLine);
  const about = `${VERBS[task.kind]} ${task.id} of ${truncate(task.roomLabel, 300)}`;
  const chosen = all[page - 1];
  if (chosen === undefined) {
    const text =
      all.length === 0
        ? `${about} has no lists to page through; ${prefix}status ${task.id} shows it in full.`
        : `${about}: there is no page ${page}; its lists take ${all.length} page(s).`;
    return join([textLine(text)]);
  }
  const lines: Line[] = [{ plain: `${about}: lists, page ${page} of ${all.length}`, html: `<b>${escapeHtml(`${about}: lists, page ${page} of ${all.length}`)}</b>` }];
  let section: string | undefined;
  for (const entry of chosen) {
    if (entry.title !== section) {
      section = entry.title;
      const last = Math.min(entry.total, entry.position + chosen.filter((other) => other.title === entry.title).length - 1);
      const text = `${entry.title} (${entry.total}), ${entry.position}-${last}:`;
      lines.push({ plain: text, html: `<b>${escapeHtml(text)}</b>` });
    }
    lines.push(pageEntryLine(entry));
  }
  const next = `${prefix}status ${task.id} --page ${page + 1}`;
  lines.push(page < all.length ? { plain: `Next page: ${next}`, html: `Next page: ${code(next)}` } : textLine("That is the last page."));
  return join(lines, undefined, { ...taskRecord(task, false), page, pages: all.length });
}

export function joinLines(lines: readonly Line[]): OutgoingMessage {
  return join(lines);
}
export type { Line };
