import type { RoomId, UserId } from "../../matrix/ids.js";
import type { RoomStepName, WaveRecord, WaveRoom } from "../../model/waves.js";
import type { AdminError, DeleteRoomOptions, SynapseAdminClient } from "../../synapse/adminClient.js";
import { formatUtc } from "../../util/duration.js";
import { ok, type Result } from "../../util/result.js";
import { findPurgeBoundary, isNothingToPurge } from "../kinds/purgePoint.js";
import type { TaskLauncher, TaskRequest } from "../launcher.js";
import { covers } from "../kinds/coverage.js";
import type { TaskParameters, TaskRecord } from "../types.js";
import type { LeaveSeenGate, PreviousPhase, Readiness } from "./leaveSeen.js";

/** How handing one room to the homeserver went. */
export type SendResult =
  /** A Warden task follows the room's job: one started now, or one already running that it joined. */
  | { readonly kind: "sent"; readonly taskId: string; readonly jobId?: string }
  /** Done at once (a block needs no job). */
  | { readonly kind: "done" }
  /** Nothing to do here, such as nothing before the purge point: no job was sent. */
  | { readonly kind: "skipped"; readonly reason: string }
  /** The homeserver refused; `retry` when another try may go better. */
  | { readonly kind: "failed"; readonly reason: string; readonly retry: boolean }
  /** Rate-limited or a server error before anything started: try again later, not counted as a try. */
  | { readonly kind: "slow-down"; readonly reason: string; readonly waitMs?: number }
  /**
   * A job of the same kind runs on the room and does less than this room needs: nothing was
   * sent; the room waits for that task to end, not counted as a try (see coverage.ts).
   */
  | { readonly kind: "busy"; readonly taskId: string; readonly reason: string };

/** How a step before a room's job went (see RoomSender.stepsBefore). */
export type StepResult =
  /** Done; `count` is what the homeserver counted (files quarantined). */
  | { readonly kind: "done"; readonly count: number }
  /** Refused: the try fails and is retried as any failed try; `reason` says what was not done. */
  | { readonly kind: "failed"; readonly reason: string }
  /** Rate-limited or a server error: the room goes back to the queue, the try not counted. */
  | { readonly kind: "slow-down"; readonly reason: string; readonly waitMs?: number };

/**
 * A direct call a room's send makes before its job, such as quarantining the room's media before
 * its delete. Run again at every try, so it must be harmless to repeat.
 */
export interface RoomStep {
  /** The key its outcome is stored under, with the room. */
  readonly name: RoomStepName;
  run(wave: WaveRecord, room: WaveRoom): Promise<StepResult>;
}

export interface RoomSender {
  /** True when each send starts a homeserver job, which takes one of the `maxConcurrentJobs` slots. */
  readonly usesJobSlot: boolean;
  send(wave: WaveRecord, room: WaveRoom): Promise<SendResult>;
  /**
   * Does the reading a send of this room needs (a purge's boundary) ahead of time, while the
   * room waits for a slot, so the slot is used the moment it frees. Optional; changes nothing.
   */
  prepare?(wave: WaveRecord, room: WaveRoom): void;
  /**
   * Whether a task already running on the room (another wave's, or a single command's) does
   * at least what this room needs, so that sending the room joins it. Absent: never.
   */
  joins?(wave: WaveRecord, room: WaveRoom, running: TaskRecord): boolean;
  /**
   * A step that waits for something besides a slot (a shutdown's purge phase waits for the
   * kicked members' clients): asked before the room takes a slot. Absent: always ready.
   */
  ready?(wave: WaveRecord, room: WaveRoom, previous: PreviousPhase): Promise<Readiness>;
  /**
   * The steps this room's send makes before its job, in order; the engine stores each outcome
   * with the room before the next starts, and sends the job only once all of them are done.
   * Absent or empty: none.
   */
  stepsBefore?(wave: WaveRecord, room: WaveRoom): readonly RoomStep[];
}

/** Boundaries read ahead and not yet used; a few slots' worth is all that is ever useful. */
const PREPARED_AHEAD = 64;

/** Errors that say "not now", never "not this room": they slow the wave down instead of failing a room. */
const SLOW_DOWN: ReadonlySet<AdminError["kind"]> = new Set(["rate-limited", "server-error", "timeout", "unreachable"]);

function slowDownOr<T extends SendResult | StepResult>(error: AdminError, failed: (error: AdminError) => T): T | Extract<SendResult, { kind: "slow-down" }> {
  if (SLOW_DOWN.has(error.kind)) {
    // Stryker disable next-line ConditionalExpression: equivalent — `waitMs: undefined` is read with `??` like an absent wait
    return { kind: "slow-down", reason: error.userMessage, ...(error.retryAfterMs === undefined ? {} : { waitMs: error.retryAfterMs }) };
  }
  return failed(error);
}

/**
 * The task parameters that tie a task to its wave room, so a restart can find it (see
 * WaveEngine.resumeAll): the send's own id above all. `waveBoard: false` for a wave without a
 * board, whose tasks post their own messages.
 */
export function waveTaskParameters(wave: WaveRecord, room: WaveRoom): TaskParameters {
  return {
    waveId: wave.id,
    wavePhase: room.phase,
    waveAttempt: room.attempts,
    ...(room.sendId === undefined ? {} : { waveSend: room.sendId }),
    ...(wave.board === false ? { waveBoard: false } : {}),
  };
}

function origin(wave: WaveRecord): Pick<TaskRequest, "requester" | "managementRoomId" | "commandEventId"> {
  return { requester: wave.requester, managementRoomId: wave.managementRoomId, commandEventId: wave.commandEventId };
}

/**
 * Launches through the task launcher, so the job is recorded before its request leaves and the
 * one tracker follows it; reads back how the submission went. The launcher joins a job of the
 * same kind already running on the room, so a room never gets a second purge or delete.
 */
async function launchAndRead(launcher: Pick<TaskLauncher, "launch">, request: Omit<TaskRequest, "submit">, submit: () => Promise<Result<string, AdminError>>): Promise<SendResult> {
  let refusal: AdminError | undefined;
  const launched = await launcher.launch({
    ...request,
    submit: async () => {
      const started = await submit();
      if (!started.ok) refusal = started.error;
      return started;
    },
  });
  const task = launched.task;
  if (launched.kind === "busy") {
    return { kind: "busy", taskId: task.id, reason: `waiting for ${task.id}, which runs on this room and does less than this wave asks, to end` };
  }
  if (
    // Stryker disable next-line ConditionalExpression: equivalent — the launcher joins only a task in flight, never a failed one
    launched.kind === "joined" ||
    task.status !== "failed"
  )
    // Stryker disable next-line ConditionalExpression: equivalent — the engine reads `jobId: undefined` as no job id
    return { kind: "sent", taskId: task.id, ...(task.homeserverTaskId === undefined ? {} : { jobId: task.homeserverTaskId }) };
  if (refusal !== undefined && refusal.kind === "rate-limited") {
    // Stryker disable next-line StringLiteral,BooleanLiteral: equivalent — a rate-limited refusal always slows down, so the fallback never runs
    return slowDownOr(refusal, () => ({ kind: "failed", reason: refusal?.userMessage ?? "", retry: true }));
  }
  if (refusal !== undefined && isNothingToPurge(refusal)) return { kind: "skipped", reason: "nothing to purge before the point" };
  return { kind: "failed", reason: task.reason ?? refusal?.userMessage ?? "the homeserver refused the job", retry: true };
}

/** A purge wave: each room's own boundary for the wave's time, then a purge up to that event. */
export function purgeSender(admin: Pick<SynapseAdminClient, "timestampToEvent" | "startPurge">, launcher: Pick<TaskLauncher, "launch">): RoomSender {
  const prepared = new Map<string, ReturnType<typeof findPurgeBoundary>>();
  const keyOf = (wave: WaveRecord, room: WaveRoom): string => `${wave.id} ${room.phase} ${room.roomId}`;
  return {
    usesJobSlot: true,
    joins(wave, _room, running) {
      const { cutoffTs, deleteLocalEvents } = wave.parameters;
      return typeof cutoffTs === "number" && typeof deleteLocalEvents === "boolean" && covers(running, "purge", { cutoffTs, deleteLocalEvents });
    },
    prepare(wave, room) {
      const { cutoffTs } = wave.parameters;
      const key = keyOf(wave, room);
      if (typeof cutoffTs !== "number" || prepared.has(key)) return;
      // Stryker disable next-line StringLiteral: equivalent — the map is not empty here, so there is always a first key
      if (prepared.size >= PREPARED_AHEAD) prepared.delete(prepared.keys().next().value ?? "");
      prepared.set(key, findPurgeBoundary(admin, room.roomId as RoomId, cutoffTs));
    },
    async send(wave, room) {
      const { cutoffTs, deleteLocalEvents, reason } = wave.parameters;
      if (typeof cutoffTs !== "number" || typeof deleteLocalEvents !== "boolean") return { kind: "failed", reason: "the wave's purge point was not recorded", retry: false };
      const roomId = room.roomId as RoomId;
      // Read ahead while the room waited for its slot, or now. Used once: a retry reads again.
      const key = keyOf(wave, room);
      const ahead = prepared.get(key);
      prepared.delete(key);
      const found = await (ahead ?? findPurgeBoundary(admin, roomId, cutoffTs));
      if (!found.ok) {
        if (found.error.kind === "nothing-before") return { kind: "skipped", reason: `nothing to purge: ${found.error.reason}` };
        return slowDownOr(found.error.error, (error) =>
          // Stryker disable next-line ConditionalExpression: equivalent — findPurgeBoundary turns every 404 into "nothing-before" or a boundary, so none reaches here
          error.kind === "not-found" ||
          error.kind === "forbidden"
            ? { kind: "failed", reason: error.userMessage, retry: false }
            : { kind: "failed", reason: error.userMessage, retry: true },
        );
      }
      const { eventId } = found.value;
      const cutoff = typeof wave.parameters["cutoff"] === "string" ? wave.parameters["cutoff"] : formatUtc(cutoffTs);
      return launchAndRead(
        launcher,
        {
          kind: "purge",
          roomId,
          roomLabel: room.label,
          ...origin(wave),
          parameters: {
            ...waveTaskParameters(wave, room),
            roomName: room.name ?? "",
            deleteLocalEvents,
            cutoffTs,
            cutoff,
            eventId,
            ...(typeof reason === "string" ? { reason } : {}),
          },
        },
        async () => {
          const started = await admin.startPurge(roomId, { eventId }, deleteLocalEvents);
          return started.ok ? ok(started.value.purge_id) : started;
        },
      );
    },
  };
}

/** The delete a shutdown wave sends: the wave's options, or, in the purge phase, only the purge. */
export function deleteOptions(wave: WaveRecord, room: WaveRoom): DeleteRoomOptions {
  const { block, purge, forcePurge, notifyAs, newRoomName, message } = wave.parameters;
  if (room.phase === "purge") return { block: block === true, purge: true, forcePurge: forcePurge === true };
  return {
    block: block === true,
    purge: purge !== false,
    forcePurge: forcePurge === true,
    ...(typeof notifyAs === "string" ? { newRoomUserId: notifyAs as UserId } : {}),
    ...(typeof newRoomName === "string" ? { roomName: newRoomName } : {}),
    ...(typeof message === "string" ? { message } : {}),
  };
}

/** The purge phase's settings, carried by a shutdown's first task so its messages can say what follows. */
function purgePhaseParameters(wave: WaveRecord, room: WaveRoom): TaskParameters {
  if (room.phase !== "main") return {};
  const { purgeWhen, purgeDeadlineMs, purgeAfterMs } = wave.parameters;
  return {
    ...(typeof purgeAfterMs === "number" ? { purgeAfterMs } : {}),
    ...(typeof purgeWhen === "string" && typeof purgeDeadlineMs === "number" ? { purgeWhen, purgeDeadlineMs } : {}),
  };
}

/**
 * Quarantines the media a room's messages name, local and remote, except local files protected
 * from quarantine (and since Synapse 1.128 every file with the same content as one of them). A
 * step, not a job: the homeserver answers when it is done. Quarantining twice changes nothing,
 * so a try after a restart or a failure simply asks again. A takedown's plan quarantines a
 * room's media before its delete with the same step.
 */
export function roomMediaStep(admin: Pick<SynapseAdminClient, "quarantineRoomMedia">): RoomStep {
  return {
    name: "media",
    async run(_wave, room) {
      const quarantined = await admin.quarantineRoomMedia(room.roomId as RoomId);
      if (quarantined.ok) return { kind: "done", count: quarantined.value.num_quarantined };
      const notDone = room.phase === "purge" ? "so the room was not purged" : "so the room was not shut down";
      // A slow-down says it too: it is the reason a single command's room fails with (see WaveEngine.runSteps).
      const reason = `its media could not be quarantined, ${notDone}: ${quarantined.error.userMessage}`;
      return { ...slowDownOr(quarantined.error, (): StepResult => ({ kind: "failed", reason })), reason };
    },
  };
}

/** The media step's outcome, for the task of the delete it came before (its messages say it). */
function mediaParameters(room: WaveRoom): TaskParameters {
  const media = room.steps?.media;
  return media?.ok === true ? { mediaQuarantined: media.count } : {};
}

/**
 * A shutdown wave: Synapse's asynchronous delete per room, in two phases when the wave has a
 * purge phase (empty now with `purge: false`, purge later; see PurgePhase), the later one gated
 * by `gate` until the kicked members' clients have seen that they left.
 */
export function shutdownSender(
  admin: Pick<SynapseAdminClient, "startDelete" | "quarantineRoomMedia">,
  launcher: Pick<TaskLauncher, "launch">,
  gate?: Pick<LeaveSeenGate, "ready">,
): RoomSender {
  const media = [roomMediaStep(admin)];
  return {
    usesJobSlot: true,
    // Before each delete, the purge phase's too: a member who rejoined the emptied room may have
    // posted since, and once the purge has run the room's media can no longer be found. A room the
    // homeserver does not know (only blocked) has no messages, so no media to find.
    stepsBefore: (wave, room) => (wave.parameters["quarantineMedia"] === true && (room.phase === "purge" || room.joinedMembers !== undefined) ? media : []),
    joins(wave, room, running) {
      const { block, purge, forcePurge } = deleteOptions(wave, room);
      return covers(running, "shutdown", { block, purge, forcePurge });
    },
    ...(gate === undefined ? {} : { ready: (wave: WaveRecord, room: WaveRoom, previous: PreviousPhase) => gate.ready(wave, room, previous) }),
    send(wave, room) {
      const options = deleteOptions(wave, room);
      const roomId = room.roomId as RoomId;
      return launchAndRead(
        launcher,
        {
          kind: "shutdown",
          roomId,
          roomLabel: room.label,
          ...origin(wave),
          parameters: {
            ...waveTaskParameters(wave, room),
            ...purgePhaseParameters(wave, room),
            ...mediaParameters(room),
            knownRoom: room.joinedMembers !== undefined,
            roomName: room.name ?? "",
            joinedMembers: room.joinedMembers ?? 0,
            joinedLocalMembers: room.joinedLocalMembers ?? 0,
            block: options.block,
            purge: options.purge,
            forcePurge: options.forcePurge,
            // Stryker disable next-line ConditionalExpression: equivalent — task parameters are stored as JSON, which drops an undefined value
            ...(options.newRoomUserId === undefined ? {} : { notifyAs: options.newRoomUserId }),
            // Stryker disable next-line ConditionalExpression: equivalent — task parameters are stored as JSON, which drops an undefined value
            ...(options.roomName === undefined ? {} : { newRoomName: options.roomName }),
            // Stryker disable next-line ConditionalExpression: equivalent — task parameters are stored as JSON, which drops an undefined value
            ...(options.message === undefined ? {} : { message: options.message }),
          },
        },
        async () => {
          const started = await admin.startDelete(roomId, options);
          return started.ok ? ok(started.value.delete_id) : started;
        },
      );
    },
  };
}

/** A block or unblock wave: one idempotent request per room, no homeserver job. */
export function blockSender(admin: Pick<SynapseAdminClient, "setBlocked">, block: boolean): RoomSender {
  return {
    usesJobSlot: false,
    async send(_wave, room) {
      const done = await admin.setBlocked(room.roomId as RoomId, block);
      if (done.ok) return { kind: "done" };
      return slowDownOr(done.error, (error) => ({ kind: "failed", reason: error.userMessage, retry: error.kind !== "forbidden" && error.kind !== "bad-request" }));
    },
  };
}
