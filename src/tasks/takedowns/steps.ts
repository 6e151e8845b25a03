import type { RoomId, UserId } from "../../matrix/ids.js";
import { parseMxc } from "../../matrix/ids.js";
import { countRooms, type WaveControl, type WaveParameterValue } from "../../model/waves.js";
import type { TakedownRecord, TakedownStep, TakedownUser } from "../../model/takedowns.js";
import { NOT_FOR_REMOTE, stepOf } from "../../model/takedowns.js";
import type { AdminError, SynapseAdminClient } from "../../synapse/adminClient.js";
import { needsText, supports, unsupportedAnswer, type HomeserverVersion } from "../../synapse/features.js";
import type { TaskLauncher } from "../launcher.js";
import type { TaskRecord } from "../types.js";
import type { TaskStore } from "../../store/tasks.js";
import { isFinal } from "../types.js";

/** How far one try of a step got. */
export type StepAdvance =
  /** The step ended: its final state and what to say. */
  | { readonly kind: "ended"; readonly state: "done" | "skipped" | "failed"; readonly detail: string; readonly count?: number }
  /** It waits for a job or a wave Warden follows; the fields to store with it meanwhile. */
  | { readonly kind: "waiting"; readonly step: Partial<Pick<TakedownStep, "taskId" | "waveId">> }
  /** "Not now" (rate-limited, the homeserver down): try again later, not counted against the step. */
  | { readonly kind: "later"; readonly reason: string };

export type TakedownAdmin = Pick<
  SynapseAdminClient,
  "setSuspended" | "setLocked" | "userAccount" | "quarantineUserMedia" | "quarantineMedia" | "mediaInfo" | "senderMessages" | "startRedact" | "deactivateUser"
>;

export interface StepDependencies {
  readonly admin: TakedownAdmin;
  readonly launcher: Pick<TaskLauncher, "launch">;
  readonly tasks: Pick<TaskStore, "get" | "ofTakedownSend">;
  readonly waves: Pick<WaveControl, "start" | "view" | "active">;
  readonly version: HomeserverVersion;
  /** The longest a shutdown's purge waits for the kicked members' clients (config shutdownPurgeAfter). */
  readonly shutdownPurgeAfterMs: number;
}

/** Errors that say "not now", never "not this user". */
const TRANSIENT: ReadonlySet<AdminError["kind"]> = new Set(["rate-limited", "server-error", "timeout", "unreachable"]);

/** Synapse redacts at most this many of a user's events per room unless told; a takedown asks for this many. */
export const TAKEDOWN_REDACT_LIMIT = 10_000;
/** A remote user's files are found through their events: at most this many events read per room, and this many files quarantined. */
export const REMOTE_MEDIA_EVENTS_PER_ROOM = 1_000;
export const REMOTE_MEDIA_FILES = 500;


function failedOrLater(error: AdminError, what: string): StepAdvance {
  if (TRANSIENT.has(error.kind)) return { kind: "later", reason: error.userMessage };
  return { kind: "ended", state: "failed", detail: `${what}: ${error.userMessage}` };
}

/** Suspends the account (locks it where suspension is not available), so it cannot send while it is cleaned up. */
export async function restrictStep(user: TakedownUser, dependencies: StepDependencies): Promise<StepAdvance> {
  if (!user.local) return { kind: "ended", state: "skipped", detail: NOT_FOR_REMOTE.restrict };
  const userId = user.userId as UserId;
  const version = dependencies.version.current();
  if (supports(version, "suspend")) {
    const suspended = await dependencies.admin.setSuspended(userId, true);
    if (suspended.ok) return { kind: "ended", state: "done", detail: "suspended" };
    if (!unsupportedAnswer(suspended.error)) return failedOrLater(suspended.error, "could not suspend");
  }
  const locked = await dependencies.admin.setLocked(userId, true);
  if (locked.ok) return { kind: "ended", state: "done", detail: `locked instead of suspended (${needsText("suspend", version)})` };
  return failedOrLater(locked.error, "could not lock");
}

/**
 * Quarantines what the user uploaded. A local user's uploads are found by the homeserver itself;
 * a remote user's files are found through the file links of their events in the rooms of the
 * plan (this server does not record who uploaded a remote file), before the redaction strips them.
 */
export async function mediaStep(record: TakedownRecord, user: TakedownUser, dependencies: StepDependencies): Promise<StepAdvance> {
  if (!record.options.quarantineMedia) return { kind: "ended", state: "skipped", detail: "not asked (--no-quarantine-media)" };
  if (user.local) {
    const quarantined = await dependencies.admin.quarantineUserMedia(user.userId as UserId);
    if (!quarantined.ok) return failedOrLater(quarantined.error, "could not quarantine their media");
    const count = quarantined.value.num_quarantined;
    return { kind: "ended", state: "done", detail: `${count} file${count === 1 ? "" : "s"} quarantined`, count };
  }
  const links = new Set<string>();
  let bounded = false;
  for (const roomId of user.rooms) {
    const page = await dependencies.admin.senderMessages(roomId as RoomId, user.userId as UserId, { limit: REMOTE_MEDIA_EVENTS_PER_ROOM });
    if (!page.ok) {
      if (page.error.kind === "not-found" || page.error.kind === "forbidden") continue;
      return failedOrLater(page.error, "could not read their events");
    }
    if (page.value.end !== undefined && page.value.end !== null && page.value.chunk.length >= REMOTE_MEDIA_EVENTS_PER_ROOM) bounded = true;
    for (const event of page.value.chunk) {
      if (event.sender !== user.userId) continue;
      for (const link of fileLinks(event.content ?? {})) links.add(link);
    }
  }
  const files = [...links].slice(0, REMOTE_MEDIA_FILES);
  if (links.size > REMOTE_MEDIA_FILES) bounded = true;
  let count = 0;
  let notHeld = 0;
  // Synapse answers the quarantine of a file it never fetched as it answers any other ({}), so
  // each file is looked up first: the count is of files this server holds, not of links.
  let lookUp = supports(dependencies.version.current(), "mediaInfo");
  for (const link of files) {
    const mxc = parseMxc(link);
    if (mxc === undefined) continue;
    if (lookUp) {
      const info = await dependencies.admin.mediaInfo(mxc);
      if (!info.ok && info.error.kind === "not-found" && !unsupportedAnswer(info.error)) {
        notHeld++;
        continue;
      }
      if (!info.ok && unsupportedAnswer(info.error)) lookUp = false;
      else if (!info.ok) return failedOrLater(info.error, `could not look up ${link} (${count} quarantined before it)`);
    }
    const quarantined = await dependencies.admin.quarantineMedia(mxc);
    if (!quarantined.ok) {
      // A file this server never fetched is not here to quarantine.
      if (quarantined.error.kind === "not-found") continue;
      return failedOrLater(quarantined.error, `could not quarantine ${link} (${count} quarantined before it)`);
    }
    count++;
  }
  const limit = bounded ? ` (read up to ${REMOTE_MEDIA_EVENTS_PER_ROOM} of their events per room and ${REMOTE_MEDIA_FILES} files: more may remain)` : "";
  const absent = notHeld === 0 ? "" : `; ${notHeld} other${notHeld === 1 ? " was" : "s were"} never cached here`;
  return { kind: "ended", state: "done", detail: `${count} file${count === 1 ? "" : "s"} linked from their events quarantined${absent}${limit}`, count };
}

/** Every mxc:// link an event's content carries: the file itself and its thumbnail. */
export function fileLinks(content: Readonly<Record<string, unknown>>): string[] {
  const found: string[] = [];
  const take = (value: unknown) => {
    if (typeof value === "string" && value.startsWith("mxc://")) found.push(value);
  };
  take(content["url"]);
  const info = content["info"];
  if (typeof info === "object" && info !== null) take((info as Record<string, unknown>)["thumbnail_url"]);
  const file = content["file"];
  if (typeof file === "object" && file !== null) take((file as Record<string, unknown>)["url"]);
  return found;
}

/**
 * The redaction: launched through the task launcher (recorded before its request leaves, then
 * followed by the one tracker), and waited for. After a crash, a step with a send id finds the
 * task that send started; one without any started nothing and is launched now.
 */
export async function redactStep(record: TakedownRecord, user: TakedownUser, step: TakedownStep, dependencies: StepDependencies): Promise<StepAdvance> {
  const version = dependencies.version.current();
  if (!supports(version, "redact")) return { kind: "ended", state: "skipped", detail: needsText("redact", version) };
  if (user.rooms.length === 0) return { kind: "ended", state: "skipped", detail: "no room on this server holds their membership" };
  const task = followedTask(step, dependencies);
  if (task !== undefined) return redactEnded(task, user) ?? { kind: "waiting", step: { taskId: task.id } };
  // No task carries this send: its request never left (the launcher records a task before sending).
  const sendId = step.sendId ?? `${record.id}-${user.userId}`;
  let refusal: AdminError | undefined;
  const launched = await dependencies.launcher.launch({
    kind: "redact",
    roomId: user.userId,
    roomLabel: user.userId,
    requester: record.requester,
    managementRoomId: record.managementRoomId,
    commandEventId: record.commandEventId,
    parameters: {
      takedownId: record.id,
      takedownSend: sendId,
      rooms: [...user.rooms],
      limit: TAKEDOWN_REDACT_LIMIT,
      ...(record.options.reason === undefined ? {} : { reason: record.options.reason }),
    },
    submit: async () => {
      const started = await dependencies.admin.startRedact(user.userId as UserId, {
        rooms: user.rooms,
        limit: TAKEDOWN_REDACT_LIMIT,
        ...(record.options.reason === undefined ? {} : { reason: record.options.reason }),
      });
      if (started.ok) return { ok: true, value: started.value.redact_id };
      refusal = started.error;
      return started;
    },
  });
  if (launched.kind === "busy") return { kind: "later", reason: `another redaction of ${user.userId} runs (${launched.task.id}); this one starts when it ends` };
  if (refusal !== undefined && TRANSIENT.has(refusal.kind) && launched.task.status === "failed") return { kind: "later", reason: refusal.userMessage };
  return redactEnded(launched.task, user) ?? { kind: "waiting", step: { taskId: launched.task.id } };
}

function followedTask(step: TakedownStep, dependencies: StepDependencies): TaskRecord | undefined {
  if (step.taskId !== undefined) return dependencies.tasks.get(step.taskId);
  if (step.sendId === undefined) return undefined;
  return dependencies.tasks.ofTakedownSend(step.sendId);
}

function redactEnded(task: TaskRecord, user: TakedownUser): StepAdvance | undefined {
  if (!isFinal(task.status)) return undefined;
  const listed = task.outcome?.["failedRedactions"];
  const failures = Array.isArray(listed) ? listed : [];
  const rooms = `${user.rooms.length} room${user.rooms.length === 1 ? "" : "s"}`;
  if (task.status === "complete") {
    if (failures.length === 0) return { kind: "ended", state: "done", detail: `their events redacted in ${rooms}` };
    // Synapse ends the job "complete" even when every redaction in it was refused: events left in place are a failed step.
    // The why first: the homeserver's reasons are long, and the board cuts a long detail short.
    const asWarden = user.local ? "" : " (Synapse redacts a remote user's events as Warden's account, so only in rooms where it is joined with the power to redact)";
    const failed = `${failures.length} event${failures.length === 1 ? "" : "s"} could not be redacted in ${rooms}${asWarden}: ${failures.slice(0, 3).join("; ")}`;
    return { kind: "ended", state: "failed", detail: failed };
  }
  return { kind: "ended", state: "failed", detail: `the redaction ${task.status === "unknown" ? "could not be followed" : "failed"}: ${task.reason ?? "the homeserver gave no reason"}` };
}

/** Rooms they created where no other local user is joined, shut down as a wave; done when the rooms' shutdowns (not their purge phase) ended. */
export async function roomsStep(record: TakedownRecord, user: TakedownUser, step: TakedownStep, dependencies: StepDependencies): Promise<StepAdvance> {
  if (!record.options.rooms) return { kind: "ended", state: "skipped", detail: "not asked (--rooms)" };
  if (user.ownRooms.length === 0) return { kind: "ended", state: "skipped", detail: "no room they created is theirs alone among this server's users" };
  const waveId = step.waveId ?? dependencies.waves.active().find((wave) => wave.parameters["takedownId"] === record.id && wave.parameters["takedownUser"] === user.userId)?.id;
  if (waveId === undefined) {
    const parameters: Record<string, WaveParameterValue> = {
      block: true,
      purge: false,
      forcePurge: false,
      purgeWhen: "members-seen",
      purgeDeadlineMs: dependencies.shutdownPurgeAfterMs,
      ...(record.options.quarantineMedia ? { quarantineMedia: true } : {}),
      takedownId: record.id,
      takedownUser: user.userId,
    };
    const wave = await dependencies.waves.start({
      kind: "shutdown",
      requester: record.requester,
      managementRoomId: record.managementRoomId,
      commandEventId: record.commandEventId,
      selection: { listed: [...user.ownRooms] },
      parameters,
      rooms: user.ownRooms.map((roomId) => ({ roomId, label: roomId })),
      leftOut: [],
    });
    return { kind: "waiting", step: { waveId: wave.id } };
  }
  const view = dependencies.waves.view(waveId);
  // A wave no longer known was finished and pruned long ago.
  if (view === undefined) return { kind: "ended", state: "done", detail: `rooms shut down (wave ${waveId})` };
  const main = countRooms(view.rooms, "main", view.now);
  const ended = main.done + main.failed + main.skipped + main.cancelled;
  if (ended < main.total) return { kind: "waiting", step: { waveId } };
  const failed = main.failed + main.cancelled;
  const detail = `${main.done} of ${main.total} room${main.total === 1 ? "" : "s"} shut down (wave ${waveId})${failed === 0 ? "" : `, ${failed} not`}`;
  return { kind: "ended", state: failed === 0 ? "done" : "failed", detail, count: main.done };
}

/** Deactivates (and erases) the account, only once the redaction has ended, never before; not at all when it failed. */
export async function deactivateStep(record: TakedownRecord, user: TakedownUser, dependencies: StepDependencies): Promise<StepAdvance> {
  if (!record.options.deactivate) return { kind: "ended", state: "skipped", detail: "not asked (--deactivate)" };
  if (!user.local) return { kind: "ended", state: "skipped", detail: NOT_FOR_REMOTE.deactivate };
  const redact = stepOf(user, "redact");
  if (redact?.state === "failed") {
    return { kind: "ended", state: "skipped", detail: "the redaction failed: a deactivated user leaves every room, and a new redaction would no longer find them; deactivate with !deactivate once their messages are gone" };
  }
  const userId = user.userId as UserId;
  const account = await dependencies.admin.userAccount(userId);
  if (!account.ok) return failedOrLater(account.error, "could not read the account before deactivating it");
  const erase = record.options.erase;
  if (account.value.deactivated === true && (!erase || account.value.erased === true)) {
    return { kind: "ended", state: "done", detail: erase ? "deactivated and erased" : "deactivated" };
  }
  const deactivated = await dependencies.admin.deactivateUser(userId, erase);
  if (!deactivated.ok) return failedOrLater(deactivated.error, "could not deactivate");
  return { kind: "ended", state: "done", detail: erase ? "deactivated and erased" : "deactivated" };
}
