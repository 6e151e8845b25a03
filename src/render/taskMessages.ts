import type { OutgoingMessage } from "../matrix/chat.js";
import type { UserId } from "../matrix/ids.js";
import type { TaskKind, TaskRecord, TaskStatus } from "../tasks/types.js";
import { formatDuration, formatUtc } from "../util/duration.js";
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

/** Rooms and failed redactions listed one by one; the rest are counted. */
const LISTED = 20;

interface Line {
  readonly plain: string;
  readonly html: string;
}

function line(label: string, value: string, asCode = false): Line {
  return { plain: `${label}: ${value}`, html: `${escapeHtml(label)}: ${asCode ? code(value) : escapeHtml(value)}` };
}

function join(lines: readonly Line[], mentions?: readonly UserId[], record?: Record<string, unknown>): OutgoingMessage {
  return {
    plain: lines.map((l) => l.plain).join("\n"),
    html: lines.map((l) => l.html).join("<br>\n"),
    ...(mentions === undefined ? {} : { mentions }),
    ...(record === undefined ? {} : { record }),
  };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : "";
}

function list(value: unknown): readonly string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function taskRecord(task: TaskRecord): Record<string, unknown> {
  return {
    id: task.id,
    kind: task.kind,
    room_id: task.roomId,
    requester: task.requester,
    status: task.status,
    parameters: task.parameters,
    homeserver_task_id: task.homeserverTaskId ?? null,
    created_at: task.createdAt,
    finished_at: task.finishedAt ?? null,
    outcome: task.outcome ?? null,
  };
}

function roomLine(task: TaskRecord): Line {
  const name = text(task.parameters["roomName"]);
  const label = name === "" ? task.roomLabel : `"${truncate(name, 80)}" ${task.roomLabel}`;
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
  } else {
    if (p["knownRoom"] === false) lines.push(line("Note", "this homeserver does not know the room: it can only be blocked"));
    else lines.push(line("Members", `${text(p["joinedMembers"])} joined, ${text(p["joinedLocalMembers"])} of them local`));
    lines.push(line("Block afterwards", p["block"] === true ? "yes" : "no"));
    lines.push(line("Delete from database", p["purge"] === false ? "no (--no-purge)" : p["forcePurge"] === true ? "yes, forced" : "yes"));
    if (typeof p["notifyAs"] === "string") lines.push(line("New room for members, created by", p["notifyAs"]));
  }
  if (typeof p["reason"] === "string") lines.push(line("Reason", truncate(p["reason"])));
  return lines;
}

/** A redact task's `roomId` and `roomLabel` hold the user; `rooms` is empty for Synapse's default set. */
function redactPlanLines(task: TaskRecord): Line[] {
  const p = task.parameters;
  const named = list(p["roomLabels"]);
  const lines: Line[] = [line("User", task.roomLabel)];
  if (named.length > 0) {
    lines.push(line(`Rooms (${named.length})`, capped(named)));
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

function capped(items: readonly string[]): string {
  const shown = items.slice(0, LISTED).join(", ");
  return items.length > LISTED ? `${shown}, and ${items.length - LISTED} more` : shown;
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
  for (const entry of failed.slice(0, LISTED)) {
    // Each entry is "<event id>: <Synapse's reason>", as the redact handler records it.
    const split = entry.indexOf(": ");
    const eventId = split === -1 ? entry : entry.slice(0, split);
    const reason = split === -1 ? "" : truncate(entry.slice(split + 2));
    lines.push({ plain: `- ${eventId}: ${reason}`, html: `- ${code(eventId)}: ${escapeHtml(reason)}` });
  }
  if (failed.length > LISTED) lines.push({ plain: `... and ${failed.length - LISTED} more`, html: `… and ${failed.length - LISTED} more` });
  return lines;
}

/** The progress message: posted on acceptance and edited in place at each status change. */
export function renderProgress(task: TaskRecord, now: number): OutgoingMessage {
  const verb = VERBS[task.kind];
  const elapsed = formatDuration(now - task.createdAt);
  const heading: Line = {
    plain: `${verb} ${task.id} accepted for ${task.requester}: ${STATUS_WORDS[task.status]} (${elapsed})`,
    html: `<b>${verb} ${code(task.id)}</b> accepted for ${escapeHtml(task.requester)}: <b>${escapeHtml(STATUS_WORDS[task.status])}</b> (${escapeHtml(elapsed)})`,
  };
  return join([heading, ...plannedLines(task)], undefined, taskRecord(task));
}

/** The message that ends a job; it mentions the requester so their client notifies them. */
export function renderFinished(task: TaskRecord, now: number): OutgoingMessage {
  const verb = VERBS[task.kind];
  const took = formatDuration((task.finishedAt ?? now) - task.createdAt);
  const requester = task.requester as UserId;
  const outcomeWord = task.status === "complete" ? `done in ${took}` : task.status === "failed" ? `failed after ${took}` : "ended: status unknown";
  const heading: Line = {
    plain: `${requester}: ${verb} ${task.id} of ${task.roomLabel} ${outcomeWord}.`,
    html: `${mentionHtml(requester)}: ${verb} ${code(task.id)} of ${escapeHtml(task.roomLabel)} <b>${escapeHtml(outcomeWord)}</b>.`,
  };
  const lines: Line[] = [heading];
  if (task.status !== "complete") lines.push(line("Reason", task.reason ?? "the homeserver gave no reason"));
  if (task.kind === "shutdown") lines.push(...shutdownResultLines(task));
  if (task.kind === "redact") lines.push(...redactResultLines(task));
  return join(lines, [requester], taskRecord(task));
}

function shutdownResultLines(task: TaskRecord): Line[] {
  const outcome = task.outcome ?? {};
  const lines: Line[] = [];
  if (task.parameters["knownRoom"] === false) {
    lines.push(line("Result", outcome["blocked"] === true ? "unknown room (blocked only)" : "unknown room: nothing was done"));
    return lines;
  }
  if (task.outcome === undefined) return lines;
  const kicked = list(outcome["kickedUsers"]);
  const failed = list(outcome["failedToKickUsers"]);
  const aliases = list(outcome["localAliases"]);
  lines.push(line("Kicked", kicked.length === 0 ? "nobody" : kicked.join(", ")));
  if (failed.length > 0) {
    lines.push(line("Could not kick", failed.join(", ")));
    lines.push(line("Hint", "run the shutdown again with --force-purge to delete the room anyway"));
  }
  lines.push(line("Aliases moved", aliases.length === 0 ? "none" : aliases.join(", ")));
  const newRoom = text(outcome["newRoomId"]);
  lines.push(line("New room", newRoom === "" ? "none" : newRoom));
  if (typeof outcome["blocked"] === "boolean") lines.push(line("Blocked now", outcome["blocked"] ? "yes" : "no"));
  return lines;
}

export function renderStuck(task: TaskRecord, now: number): OutgoingMessage {
  const how = formatDuration(now - task.statusChangedAt);
  return join(
    [
      {
        plain: `Warning: ${task.kind} ${task.id} of ${task.roomLabel} has been ${STATUS_WORDS[task.status]} for ${how}. Warden keeps watching; check the homeserver's logs.`,
        html: `<b>Warning</b>: ${escapeHtml(task.kind)} ${code(task.id)} of ${escapeHtml(task.roomLabel)} has been ${escapeHtml(STATUS_WORDS[task.status])} for ${escapeHtml(how)}. Warden keeps watching; check the homeserver's logs.`,
      },
    ],
    undefined,
    taskRecord(task),
  );
}

export function summaryLine(task: TaskRecord, now: number): Line {
  const age = formatDuration(now - task.createdAt);
  return {
    plain: `${task.id} ${task.kind} ${task.roomLabel} by ${task.requester}: ${STATUS_WORDS[task.status]}, ${age} ago`,
    html: `${code(task.id)} ${escapeHtml(task.kind)} ${escapeHtml(task.roomLabel)} by ${escapeHtml(task.requester)}: <b>${escapeHtml(STATUS_WORDS[task.status])}</b>, ${escapeHtml(age)} ago`,
  };
}

export function detailLines(task: TaskRecord, now: number): OutgoingMessage {
  const lines: Line[] = [
    summaryLine(task, now),
    ...plannedLines(task),
    line("Requested at", formatUtc(task.createdAt)),
  ];
  if (task.finishedAt !== undefined) lines.push(line("Finished at", formatUtc(task.finishedAt)));
  if (task.homeserverTaskId !== undefined) lines.push(line("Homeserver job id", task.homeserverTaskId, true));
  if (task.reason !== undefined) lines.push(line("Reason", task.reason));
  if (task.kind === "shutdown" && task.finishedAt !== undefined) lines.push(...shutdownResultLines(task));
  if (task.kind === "redact" && task.finishedAt !== undefined) lines.push(...redactResultLines(task));
  return join(lines, undefined, taskRecord(task));
}

export function joinLines(lines: readonly Line[]): OutgoingMessage {
  return join(lines);
}
export type { Line };
