import type { Result } from "../util/result.js";
import type { RetentionExclude } from "./retention.js";

/**
 * Waves: one command (or one retention run) acting on many rooms, paced to the homeserver.
 * The vocabulary shared by the selection resolver, the wave engine (src/tasks/waves/), the
 * commands and the renderers. Plain data only.
 */

export const WAVE_KINDS = ["purge", "shutdown", "block", "unblock"] as const;
export type WaveKind = (typeof WAVE_KINDS)[number];

/** How the moderator (or a retention policy) chose the rooms; kept for the record and the board. */
export interface WaveSelection {
  /** Rooms named one by one, as typed (IDs, aliases, matrix.to links). */
  readonly listed: readonly string[];
  /** --matching WORDS: the admin room list's search_term. */
  readonly matching?: string;
  /** --space <room>: the space and its hierarchy, as typed. */
  readonly space?: string;
  /** --empty: rooms with no local members. */
  readonly empty?: boolean;
  /** --all: every room on the homeserver. */
  readonly all?: boolean;
}

/** What the selection is made of, in words, for previews, boards and the audit record. */
export function describeSelection(selection: WaveSelection): string {
  const parts: string[] = [];
  if (selection.listed.length > 0) parts.push(`${selection.listed.length} listed room${selection.listed.length === 1 ? "" : "s"}`);
  if (selection.matching !== undefined) parts.push(`rooms matching "${selection.matching}"`);
  if (selection.space !== undefined) parts.push(`space ${selection.space} and its rooms`);
  if (selection.empty === true) parts.push("rooms with no local members");
  if (selection.all === true) parts.push("every room");
  return parts.join(" + ");
}

/** One room a selection chose, with what the homeserver said about it when it was chosen. */
export interface SelectedRoom {
  readonly roomId: string;
  /** How to show it: the name the moderator typed, else the room ID. */
  readonly label: string;
  readonly name?: string;
  readonly canonicalAlias?: string;
  readonly joinedMembers?: number;
  readonly joinedLocalMembers?: number;
}

/** A room the selection met and left out, and why (management room, protectedRooms, an exclude rule, unknown). */
export interface LeftOutRoom {
  readonly label: string;
  readonly roomId?: string;
  readonly why: string;
}

export interface SelectionResult {
  readonly rooms: readonly SelectedRoom[];
  readonly leftOut: readonly LeftOutRoom[];
}

/**
 * queued:    waiting for a slot (or for `notBefore`: a retry's back-off, a purge-after cooldown);
 * sending:   the engine is handing it to the launcher (a crash here is resolved from the task store);
 * sent:      a Warden task follows its homeserver job (`taskId`);
 * done/failed/skipped: final (skipped: nothing to do, such as nothing before the purge point);
 * cancelled: final, never sent (the wave was cancelled first).
 */
export const WAVE_ROOM_STATES = ["queued", "sending", "sent", "done", "failed", "skipped", "cancelled"] as const;
export type WaveRoomState = (typeof WAVE_ROOM_STATES)[number];
export const FINAL_WAVE_ROOM_STATES: ReadonlySet<WaveRoomState> = new Set(["done", "failed", "skipped", "cancelled"]);

/**
 * When a shutdown's rooms are purged from the database after they were emptied (purge: false):
 * - after: a fixed cooldown after each room's shutdown (`--purge-after AGE`);
 * - members-seen: once the kicked local members' clients have had the chance to see that they
 *   left, at the latest `deadlineMs` after the shutdown (the default; config shutdownPurgeAfter).
 * Undefined: no purge phase (`--purge-now` purges with the shutdown, `--no-purge` never).
 */
export type PurgePhase = { readonly kind: "after"; readonly delayMs: number } | { readonly kind: "members-seen"; readonly deadlineMs: number };

/** The purge phase a shutdown wave's (or its task's) parameters ask for. */
export function purgePhaseOf(parameters: Readonly<Record<string, WaveParameterValue>>): PurgePhase | undefined {
  const after = parameters["purgeAfterMs"];
  if (typeof after === "number") return { kind: "after", delayMs: after };
  const deadline = parameters["purgeDeadlineMs"];
  if (parameters["purgeWhen"] === "members-seen" && typeof deadline === "number") return { kind: "members-seen", deadlineMs: deadline };
  return undefined;
}

/**
 * Direct calls a room's send makes before its job, each one's outcome stored with the room before
 * the next starts (see RoomSender.stepsBefore). `media`: the room's media is quarantined before
 * each of its deletes (a shutdown with --quarantine-media): the homeserver finds a room's media
 * through its messages, so once a delete has purged them there is nothing left to quarantine.
 */
export const ROOM_STEPS = ["media"] as const;
export type RoomStepName = (typeof ROOM_STEPS)[number];

/** How a room's step went in its latest try: done, with what the homeserver counted, or failed and why. */
export type RoomStepOutcome = { readonly ok: true; readonly count: number; readonly at: number } | { readonly ok: false; readonly reason: string; readonly at: number };

export type RoomSteps = Readonly<Partial<Record<RoomStepName, RoomStepOutcome>>>;

/**
 * The step a room's latest try stopped at, when it failed there: the room's job was never sent
 * for that try (a later try that gets past the step stores its success over the failure).
 */
export function failedStep(room: WaveRoom): RoomStepName | undefined {
  if (room.state !== "failed") return undefined;
  return ROOM_STEPS.find((name) => room.steps?.[name]?.ok === false);
}

/** What a wave's media step did, over its rooms: files quarantined, rooms quarantined, rooms whose quarantine failed. */
export interface MediaTally {
  readonly files: number;
  readonly rooms: number;
  readonly failed: number;
}

/**
 * Each room counts once, by its latest media outcome of either phase: the purge phase quarantines
 * again (the room may have gained media since it was emptied), and the homeserver counts a file
 * already quarantined again, so the latest count is the room's whole count.
 */
export function tallyMedia(rooms: readonly WaveRoom[]): MediaTally {
  const latest = new Map<string, RoomStepOutcome>();
  for (const room of rooms) {
    const media = room.steps?.media;
    const before = latest.get(room.roomId);
    if (media !== undefined && (before === undefined || media.at >= before.at)) latest.set(room.roomId, media);
  }
  let files = 0;
  let quarantined = 0;
  let failed = 0;
  for (const outcome of latest.values()) {
    if (outcome.ok) {
      files += outcome.count;
      quarantined++;
    } else failed++;
  }
  return { files, rooms: quarantined, failed };
}

/** main: the wave's own action; purge: a shutdown's purge phase (see PurgePhase). */
export const WAVE_PHASES = ["main", "purge"] as const;
export type WavePhase = (typeof WAVE_PHASES)[number];

export interface WaveRoom {
  readonly waveId: string;
  readonly roomId: string;
  readonly phase: WavePhase;
  readonly label: string;
  readonly name?: string;
  readonly joinedMembers?: number;
  readonly joinedLocalMembers?: number;
  readonly state: WaveRoomState;
  readonly taskId?: string;
  /** Jobs sent for this room so far in this phase (a retry sends another). */
  readonly attempts: number;
  /** Not sent before this time (epoch ms): back-off, or the purge-after cooldown. */
  readonly notBefore?: number;
  readonly reason?: string;
  readonly finishedAt?: number;
  readonly durationMs?: number;
  /**
   * The send this room is in (set when it is claimed for sending, carried by the task it starts):
   * after a crash the room follows exactly that task, never an earlier try's.
   */
  readonly sendId?: string;
  /** The outcomes of the steps before this room's job, as its latest try left them (see ROOM_STEPS). */
  readonly steps?: RoomSteps;
}

/** running: sending and following; cancelled: sends nothing more, follows what was sent; finished: all final. */
export const WAVE_STATUSES = ["running", "cancelled", "finished"] as const;
export type WaveStatus = (typeof WAVE_STATUSES)[number];

export type WaveParameterValue = string | number | boolean | readonly string[];

export interface WaveRecord {
  /** "w-4c1e0a" */
  readonly id: string;
  readonly kind: WaveKind;
  readonly requester: string;
  readonly managementRoomId: string;
  readonly commandEventId: string;
  readonly selection: WaveSelection;
  /**
   * The action's parameters, the same for every room: for a purge `cutoffTs`, `cutoff` (text),
   * `deleteLocalEvents`, `reason`; for a shutdown `block`, `purge`, `forcePurge`, ...;
   * `purgeAfterMs` when the shutdown has a purge phase; `quarantineMedia` when each room's media
   * is quarantined before its deletes.
   */
  readonly parameters: Readonly<Record<string, WaveParameterValue>>;
  /** The retention policy that started it, if one did. */
  readonly policy?: string;
  readonly leftOut: readonly LeftOutRoom[];
  readonly status: WaveStatus;
  readonly boardEventId?: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
  readonly cancelledBy?: string;
  readonly finalNotificationSent: boolean;
  /**
   * false: the wave posts no board and no summary; its rooms' tasks post their own progress and
   * final messages, as a single command's do (a single-room `!shutdown` with a purge phase).
   * Absent: the wave has a board.
   */
  readonly board?: false;
  /** Set once the requester was told that the main phase ended (a wave with a purge phase). */
  readonly mainPhaseNotified?: true;
}

/** Counts by state, per phase, as the board shows them. */
export interface WaveCounts {
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly queued: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  /** Rooms whose purge phase waits for the cooldown to end (queued with a notBefore in the future). */
  readonly waiting: number;
}

export function countRooms(rooms: readonly WaveRoom[], phase: WavePhase, now: number): WaveCounts {
  const counts = { total: 0, done: 0, running: 0, queued: 0, failed: 0, skipped: 0, cancelled: 0, waiting: 0 };
  for (const room of rooms) {
    if (room.phase !== phase) continue;
    counts.total++;
    switch (room.state) {
      case "queued":
        if (phase === "purge" && room.attempts === 0 && room.notBefore !== undefined && room.notBefore > now) counts.waiting++;
        else counts.queued++;
        break;
      case "sending":
      case "sent":
        counts.running++;
        break;
      default:
        counts[room.state]++;
    }
  }
  return counts;
}

/** A wave and its rooms, as the renderers need them. */
export interface WaveView {
  readonly wave: WaveRecord;
  readonly rooms: readonly WaveRoom[];
  /** Estimated time left in ms, from the pace so far; undefined when there is no pace yet. */
  readonly remainingMs?: number;
  readonly now: number;
}

/** A room as a moderator or a config names it, already checked for form (see parseRoomArgument). */
export type RoomReference = { readonly kind: "id"; readonly roomId: string } | { readonly kind: "alias"; readonly alias: string };

/** What to select. Listed rooms are added to the rooms the filters (matching, space, empty, all) agree on. */
export interface SelectionRequest {
  readonly listed: readonly RoomReference[];
  readonly matching?: string;
  readonly space?: RoomReference;
  readonly empty?: boolean;
  readonly all?: boolean;
  /**
   * A listed room this homeserver does not know: kept (blocking works on unknown rooms) or left
   * out with the reason (nothing to purge or shut down there).
   */
  readonly unknownRooms: "keep" | "leave-out";
  /** A retention policy's exclusions; rooms they match are left out and named. */
  readonly exclude?: RetentionExclude;
}

/** Turns a selection into rooms; the management room and protectedRooms are always left out. */
export interface RoomSelector {
  select(request: SelectionRequest): Promise<Result<SelectionResult, string>>;
}

/** Everything needed to start a wave; the rooms are already selected (and previewed). */
export interface WaveRequest {
  readonly kind: WaveKind;
  readonly requester: string;
  readonly managementRoomId: string;
  readonly commandEventId: string;
  readonly selection: WaveSelection;
  readonly parameters: Readonly<Record<string, WaveParameterValue>>;
  readonly policy?: string;
  readonly rooms: readonly SelectedRoom[];
  readonly leftOut: readonly LeftOutRoom[];
  /** false: no board; the rooms' tasks speak for the wave (see WaveRecord.board). */
  readonly board?: false;
}

/** What commands and the retention scheduler may do with waves. */
export interface WaveControl {
  /** Records the wave and its queue, posts its board, and starts sending; resolves once recorded. */
  start(request: WaveRequest): Promise<WaveRecord>;
  /** Stops sending: queued rooms (and pending purge phases) are cancelled; sent jobs run to their end. */
  cancel(waveId: string, by: string): Promise<Result<WaveView, string>>;
  view(waveId: string): WaveView | undefined;
  /** Waves still running or cancelled-but-following, newest first. */
  active(): readonly WaveRecord[];
}

/** What the wave commands report; render/waves.ts turns it into chat text. */
export type WaveOutcome =
  /** The wave's board is its answer (the engine posted it, replying to the command). */
  | { readonly kind: "wave-started"; readonly wave: WaveRecord }
  /** !status <wave-id>, paged: page 1 is the summary and the first rooms. */
  | { readonly kind: "wave-status"; readonly view: WaveView; readonly page?: number }
  /** !cancel <wave-id>: how many rooms will not be sent, and what still runs. */
  | { readonly kind: "wave-cancelled"; readonly view: WaveView; readonly notSent: number };
