import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { isScheduledRunId } from "../../model/retention.js";
import {
  FINAL_WAVE_ROOM_STATES,
  purgePhaseOf,
  WAVE_PHASES,
  type PurgePhase,
  type RoomStepOutcome,
  type WaveControl,
  type WaveKind,
  type WaveRecord,
  type WaveRequest,
  type WaveRoom,
  type WaveView,
} from "../../model/waves.js";
import type { TaskStore } from "../../store/tasks.js";
import type { WaveStore } from "../../store/waves.js";
import type { Clock } from "../../util/clock.js";
import { err, ok, type Result } from "../../util/result.js";
import { isDue, type HomeserverJobs } from "../homeserverJobs.js";
import { Alarm, REAL_TIMERS, type Timers } from "../alarm.js";
import { isFinal, type TaskRecord } from "../types.js";
import type { Readiness } from "./leaveSeen.js";
import type { RoomSender, SendResult } from "./senders.js";

/** Tells the management room about waves: one board edited as the wave moves, one summary at its end. */
export interface WaveNotifier {
  /** Posts the board, replying to the command; resolves to its event id. */
  posted(view: WaveView): Promise<string | undefined>;
  /** Edits the board. */
  moved(view: WaveView): Promise<void>;
  /** The wave ended: the board's last edit and the summary. True when done with it (delivered, or given up for good). */
  finished(view: WaveView): Promise<boolean>;
  /**
   * Every room's main phase ended and their purge phase is still to come (it may be a day
   * away): tells the requester, as the summary will at the very end. True when done with it.
   */
  mainPhaseEnded(view: WaveView): Promise<boolean>;
}

/** Who follows Warden's own jobs (the tracker): asked to look at once at jobs the engine saw missing from the homeserver's queue. */
export interface JobFollower {
  lookNow(taskIds: readonly string[]): void;
}

export interface WaveEngineOptions {
  /** Homeserver jobs (purges, deletes, redactions) allowed at once, Warden's and others' together. */
  readonly maxConcurrentJobs: number;
  /** Further tries of a room whose job failed, before it counts as failed. */
  readonly retries: number;
  /** First retry after this long, doubling with each. */
  readonly retryAfterMs: number;
  /** The board is edited at most this often. */
  readonly boardEveryMs: number;
  /** While rooms wait for a slot, the homeserver's queue is read this soon after a change, slowing to the ceiling. */
  readonly slotCheckMs: number;
  readonly slotCheckCeilingMs: number;
  /** A 429 or 5xx without retry_after_ms pauses sending this long (doubling while it lasts, up to a minute). */
  readonly slowDownMs: number;
  /** Summary tries before it is given up (the notifier logs and records one it could not deliver). */
  readonly summaryRetryMs: number;
}

export const DEFAULT_WAVE_OPTIONS: WaveEngineOptions = {
  maxConcurrentJobs: 2,
  retries: 2,
  retryAfterMs: 15_000,
  boardEveryMs: 3_000,
  slotCheckMs: 150,
  slotCheckCeilingMs: 2_000,
  slowDownMs: 5_000,
  summaryRetryMs: 30_000,
};

/**
 * The homeserver tasks that load its database and share its task scheduler's five slots. Others
 * (such as deleting old device messages) are light and are not counted against the limit.
 */
export const HEAVY_ACTIONS: ReadonlySet<string> = new Set(["purge_history", "shutdown_and_purge_room", "purge_room", "redact_all_events"]);

const SLOW_DOWN_CEILING_MS = 60_000;

/** The queue is never read more often than this while rooms wait for a slot (see firstSlotCheckMs). */
const MIN_SLOT_CHECK_MS = 25;

/**
 * Rooms whose step waits for something besides a slot (a purge phase waiting for members'
 * clients) checked in one pass at most; each check reads the homeserver. The rest are checked
 * in the passes that follow at once.
 */
const GATE_CHECKS_PER_PASS = 8;

/**
 * The purge phase this wave still queues for its rooms: only a running shutdown does. Other
 * waves never owe a purge phase, whatever their parameters say, so they finish when their
 * rooms end; a cancelled shutdown drops it.
 */
function owedPurgePhase(wave: WaveRecord): PurgePhase | undefined {
  return wave.kind === "shutdown" && wave.status === "running" ? purgePhaseOf(wave.parameters) : undefined;
}

/**
 * The order rooms are served in: a single command's room first (it is not paced at all), then
 * moderators' waves, then scheduled retention runs (a run a moderator started with !retention
 * run is a moderator's): a run draining thousands of quiet rooms at night must not hold back a
 * shutdown someone is waiting for. Within each group, oldest wave first.
 */
function priority(wave: WaveRecord, room: WaveRoom): number {
  return immediate(wave, room) ? 0 : wavePriority(wave);
}

/** The priority of a wave's rooms that are not a single command's. */
function wavePriority(wave: WaveRecord): number {
  return isScheduledRunId(wave.commandEventId) ? 2 : 1;
}

/** The three priorities, in the order their rooms go: a single command's, a moderator's wave's, a scheduled run's. */
const PRIORITIES = [0, 1, 2] as const;

/** A wave without a board speaks through its tasks' messages, as a single command does: a failure is reported, not retried. */
function retriesOf(wave: WaveRecord | undefined, retries: number): number {
  return wave?.board === false ? 0 : retries;
}

/**
 * A single command's room (a one-room wave without a board, see WaveRecord.board) goes to the
 * homeserver at once, as every single command does: not paced by the slots, nor by a slow-down.
 * Its later steps (the purge phase) are paced like any wave's.
 */
function immediate(wave: WaveRecord, room: WaveRoom): boolean {
  return wave.board === false && room.phase === "main";
}

function gateKey(room: WaveRoom): string {
  return `${room.waveId} ${room.phase} ${room.roomId}`;
}

/** What a pass knows when it lists the due rooms. */
interface DuePass {
  readonly now: number;
  readonly slowing: boolean;
  readonly busyRooms: ReadonlySet<string>;
  readonly running: ReadonlyMap<string, readonly TaskRecord[]>;
  readonly consider: (at: number) => void;
}

interface Due {
  readonly wave: WaveRecord;
  readonly room: WaveRoom;
  /** Why a gate let the room go (recorded with the send). */
  readonly passed?: string;
}

/** A message about a wave still to be delivered: the summary at its end, or the end of its main phase. */
interface Notice {
  readonly waveId: string;
  readonly kind: "summary" | "main-phase";
  tries: number;
  due: number;
  sending: boolean;
}

/** The part of the task store the engine reads. */
export type EngineTaskStore = Pick<TaskStore, "get" | "all" | "running">;

/**
 * Runs every wave: keeps at most `maxConcurrentJobs` homeserver jobs at once (counting the ones
 * the homeserver runs for anyone else), sends the next rooms as slots free up, retries failed
 * rooms with back-off, and keeps one board per wave. The queue is the wave_rooms table: a room
 * is marked "sending" before its request leaves and the task that follows it is recorded by the
 * launcher first, so after any crash a room is either found with its task or sent again, never
 * sent twice and never forgotten. Single commands do not pass through here: they go to the
 * homeserver at once, and their jobs count against the wave's slots.
 */
export class WaveEngine implements WaveControl {
  private readonly alarm: Alarm;
  /** Steps running in the background (pump, board edits, summaries); stop() waits for them. */
  private readonly working = new Set<Promise<void>>();
  private pumping = false;
  // Stryker disable next-line BooleanLiteral: equivalent — pump() clears it before each pass and nothing reads it outside one
  private pumpAgain = false;
  /** The earliest wake asked for during a pass for a later time: the alarm is set for it once the pass ends. */
  private wakeLater: number | undefined;
  private stopped = false;
  /**
   * Rooms being handed over right now: the send ids of those that take a job slot (their task,
   * once the launcher records it, carries the same id, so it is not counted twice), and a count
   * of the others.
   */
  private readonly handingOver = new Set<string>();
  private sendingDirect = 0;
  private quietChecks = 0;
  /** How long Warden's jobs have lately taken, from their ends (a moving average); undefined before the first. */
  private typicalJobMs: number | undefined;
  /** When the first of Warden's running jobs should end, by typicalJobMs (read with the free slots); undefined when none is due later. */
  private expectedEnd: number | undefined;
  /** Jobs already counted in typicalJobMs: seen missing from the homeserver's queue, their end not recorded yet. */
  private readonly timed = new Set<string>();
  /** The next read of the homeserver's queue for jobs due to end while no room waits for a slot (see followLastJobs). */
  private lastJobsLookAt = Number.NEGATIVE_INFINITY;
  /** Reads since the first job became due, while no room waits: the pace of those reads slows with each. */
  private lastJobsLooks = 0;
  private slowUntil = 0;
  private slowDownStreak = 0;
  private readonly boards = new Map<string, { dirty: boolean; lastAt: number; sending: boolean }>();
  private readonly notices = new Map<string, Notice>();
  /** Gates being asked, by room and phase (see openGates). */
  private readonly gateChecks = new Set<string>();
  /** Rooms whose gate said they may go, not sent yet, with why ("" when the gate gave no reason). */
  private readonly gatesOpen = new Map<string, string>();
  /** Rooms whose gate failed to answer, and when to ask it again. */
  private readonly gatesFailed = new Map<string, number>();
  /** When the wave's first room was handed over, for the estimate of time left. */
  private readonly firstSentAt = new Map<string, number>();

  constructor(
    private readonly store: WaveStore,
    private readonly tasks: EngineTaskStore,
    private readonly senders: Record<WaveKind, RoomSender>,
    private readonly jobs: Pick<HomeserverJobs, "inFlight" | "listsEveryStatus">,
    private readonly notifier: WaveNotifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: WaveEngineOptions = DEFAULT_WAVE_OPTIONS,
    timers: Timers = REAL_TIMERS,
    private readonly follower?: JobFollower,
  ) {
    this.alarm = new Alarm(timers, clock, () => {
      this.background(this.pump());
    });
  }

  // ---- WaveControl -------------------------------------------------------------------------

  async start(request: WaveRequest): Promise<WaveRecord> {
    const now = this.clock.now();
    const wave: WaveRecord = {
      id: this.store.newId(),
      kind: request.kind,
      requester: request.requester,
      managementRoomId: request.managementRoomId,
      commandEventId: request.commandEventId,
      selection: request.selection,
      parameters: request.parameters,
      // Stryker disable next-line ConditionalExpression: equivalent — `policy: undefined` reads as no policy everywhere, and the store writes null for both
      ...(request.policy === undefined ? {} : { policy: request.policy }),
      leftOut: request.leftOut,
      status: request.rooms.length === 0 ? "finished" : "running",
      createdAt: now,
      ...(request.rooms.length === 0 ? { finishedAt: now } : {}),
      finalNotificationSent: false,
      ...(request.board === false ? { board: false } : {}),
    };
    const rooms: WaveRoom[] = request.rooms.map((room) => ({
      waveId: wave.id,
      roomId: room.roomId,
      phase: "main",
      label: room.label,
      // Stryker disable next-line ConditionalExpression: equivalent — `name: undefined` reads as no name everywhere, and the store writes null for both
      ...(room.name === undefined ? {} : { name: room.name }),
      // Stryker disable next-line ConditionalExpression: equivalent — `joinedMembers: undefined` reads as not known everywhere, and the store writes null for both
      ...(room.joinedMembers === undefined ? {} : { joinedMembers: room.joinedMembers }),
      // Stryker disable next-line ConditionalExpression: equivalent — `joinedLocalMembers: undefined` reads as not known everywhere, and the store writes null for both
      ...(room.joinedLocalMembers === undefined ? {} : { joinedLocalMembers: room.joinedLocalMembers }),
      state: "queued",
      attempts: 0,
    }));
    await this.store.insert(wave, rooms);
    this.log.info({ waveId: wave.id, kind: wave.kind, rooms: rooms.length, leftOut: wave.leftOut.length, requester: wave.requester, policy: wave.policy }, "wave accepted");
    if (wave.board === false) {
      // Its rooms' tasks post their own messages, as a single command's do.
      if (wave.status === "finished") this.summarize(wave.id);
      else this.sendAtOnce(wave, rooms);
      return wave;
    }
    // Rooms may be sent while the board is being posted (the pump serves every wave), and an edit
    // then would find no message to edit: the post counts as an edit under way, and a change
    // meanwhile is edited in after it, as after any edit.
    const board = { dirty: false, lastAt: now, sending: true };
    this.boards.set(wave.id, board);
    const boardEventId = await this.notifier.posted(this.viewOf(wave.id) as WaveView);
    const recorded = boardEventId === undefined ? wave : await this.store.update(wave.id, { boardEventId });
    board.sending = false;
    board.lastAt = this.clock.now();
    if (recorded.status === "finished") this.summarize(recorded.id);
    else this.wake(this.clock.now());
    return recorded;
  }

  async cancel(waveId: string, by: string): Promise<Result<WaveView, string>> {
    // The wave and its queued rooms in one write: a room a pass read as due before this cannot
    // be claimed for sending after it (see WaveStore.updateQueued), and none stays queued.
    const cancelled = await this.store.cancel(waveId, by, `cancelled by ${by} before it was sent`, this.clock.now());
    if (cancelled === undefined) {
      const wave = this.store.get(waveId);
      if (wave === undefined) return err(`there is no wave ${waveId}.`);
      return err(`wave ${waveId} is already ${wave.status === "cancelled" ? `cancelled (by ${wave.cancelledBy ?? "someone"})` : "finished"}.`);
    }
    this.log.info({ waveId, by, notSent: cancelled.length }, "wave cancelled");
    await this.settleIfDone(waveId);
    this.touch(waveId);
    return ok(this.viewOf(waveId) as WaveView);
  }

  view(waveId: string): WaveView | undefined {
    return this.viewOf(waveId);
  }

  active(): readonly WaveRecord[] {
    return this.store
      .open()
      .filter((wave) => wave.status !== "finished")
      .reverse();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Picks up the waves an earlier run left: rooms caught "sending" are matched with the task the
   * launcher recorded for them (then they were sent) or queued again (then they never left),
   * rooms "sent" whose task ended meanwhile are settled, and undelivered summaries are sent.
   */
  async resumeAll(): Promise<void> {
    for (const wave of this.store.open()) {
      if (wave.board !== false) this.boards.set(wave.id, { dirty: true, lastAt: 0, sending: false });
      for (const room of this.store.rooms(wave.id)) {
        if (room.state === "sending") await this.reconcileSending(wave, room);
        else if (room.state === "sent" && room.taskId !== undefined) {
          const task = this.tasks.get(room.taskId);
          if (task === undefined) {
            await this.settleRoom(wave.id, room, { state: "failed", reason: "Warden lost the record of this room's job" });
          } else if (isFinal(task.status)) {
            await this.applyTaskEnd(wave.id, room, task);
          }
        }
      }
      // A shutdown that ended just before the stop may not have queued its purge phase yet.
      for (const room of this.store.rooms(wave.id)) {
        if (
          room.state === "done" &&
          // Stryker disable next-line ConditionalExpression: equivalent — a done purge-phase room finds itself as the purge room below
          room.phase === "main" &&
          // Stryker disable next-line ConditionalExpression: equivalent — addRooms skips a purge room already there, and resumeAll wakes at once anyway
          this.store.room(wave.id, "purge", room.roomId) === undefined
        )
          await this.queuePurgePhase(wave.id, room);
      }
      this.log.info({ waveId: wave.id, status: wave.status }, "resuming wave");
      await this.settleIfDone(wave.id);
    }
    this.wake(this.clock.now());
  }

  /**
   * Stops sending and resolves once the work in progress is recorded (a pump step, a board
   * edit, a summary and its record), so the database can be closed after it. Nothing new starts.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.alarm.clear();
    while (this.working.size > 0) await Promise.allSettled([...this.working]);
  }

  /** Keeps a background step in `working` until it settles, for stop(). */
  private background(step: Promise<unknown>): void {
    const settled = step.then(
      () => undefined,
      () => undefined,
    );
    this.working.add(settled);
    void settled.then(() => this.working.delete(settled));
  }

  /** Rooms waiting to be sent, over all waves (the `warden_wave_queue_length` gauge). */
  queueLength(): number {
    let queued = 0;
    for (const wave of this.store.open()) queued += this.store.tally(wave.id).queued;
    return queued;
  }

  /**
   * A task ended (any task: a wave room may have joined a job a single command started). Settles
   * the wave rooms it answers for. Throws when that could not be recorded, so the tracker tries again.
   */
  async taskEnded(task: TaskRecord): Promise<void> {
    const rooms = this.store.roomsOfTask(task.id);
    for (const room of rooms) await this.applyTaskEnd(room.waveId, room, task);
    this.timed.delete(task.id);
    // A slot is free: look again soon, and at once if something is due.
    this.quietChecks = 0;
    this.wake(this.clock.now());
  }

  // ---- the queue ---------------------------------------------------------------------------

  /** Methods, not the fields: a stop() or wake() can come during any await, which narrowing does not see. */
  private halted(): boolean {
    return this.stopped;
  }

  private wokenDuringPump(): boolean {
    return this.pumpAgain;
  }

  private wake(at: number): void {
    if (this.halted()) return;
    if (this.pumping) {
      // Something due now is looked at by another pass at once; something due later only sets
      // the alarm once this pass ends. Another pass at once for it would read the homeserver's
      // queue again right after this pass read it, once more for every room it sent.
      if (at <= this.clock.now()) this.pumpAgain = true;
      else this.wakeLater = Math.min(this.wakeLater ?? at, at);
      return;
    }
    this.alarm.setFor(at);
  }

  private async pump(): Promise<void> {
    if (this.halted()) return;
    this.pumping = true;
    let next: number | undefined;
    try {
      do {
        this.pumpAgain = false;
        next = await this.pumpOnce();
      } while (this.wokenDuringPump() && !this.halted());
    } catch (error) {
      // A bug here must not end the waves: everything is in the store and is looked at again.
      this.log.error({ err: error }, "wave step failed unexpectedly");
      next = this.clock.now() + this.options.slotCheckCeilingMs;
    } finally {
      this.pumping = false;
    }
    const later = this.wakeLater;
    this.wakeLater = undefined;
    this.flushBoards();
    this.retryNotices();
    if (later !== undefined) this.wake(later);
    if (next !== undefined) this.wake(next);
  }

  /** Sends what may be sent now; returns when to look again (undefined: nothing waits). */
  private async pumpOnce(): Promise<number | undefined> {
    const now = this.clock.now();
    let wakeAt: number | undefined;
    const consider = (at: number): void => {
      wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
    };
    for (const notice of this.notices.values()) if (!notice.sending) consider(notice.due);
    // A board whose edit is under way is looked at again when the edit ends, not before.
    for (const board of this.boards.values()) if (board.dirty && !board.sending) consider(board.lastAt + this.options.boardEveryMs);
    const waves = this.store.open();
    const busyRooms = new Set<string>();
    let anyDue = false;
    // This runs at each job's end: only the rooms in flight and those waiting for a time are
    // looked at one by one (the store keeps them apart), never the rooms done or simply queued.
    for (const wave of waves) {
      for (const room of this.store.eachBusy(wave.id)) busyRooms.add(room.roomId);
      if (wave.status !== "running") continue;
      // A queued room with no notBefore is due now.
      if (this.store.tally(wave.id).queued > this.store.waitingCount(wave.id)) anyDue = true;
      for (const room of this.store.eachWaiting(wave.id)) {
        if (room.notBefore !== undefined && room.notBefore > now) consider(room.notBefore);
        else anyDue = true;
      }
    }
    if (!anyDue) {
      await this.followLastJobs(consider);
      return wakeAt;
    }
    // While the homeserver asks Warden to slow down, only a single command's room goes out (as
    // a single command always does).
    const slowing = now < this.slowUntil;
    if (slowing) consider(this.slowUntil);
    const { open, free, beyond } = this.dueRooms(waves, { now, slowing, busyRooms, running: this.runningTasksByRoom(), consider });
    if (!free) {
      await this.followLastJobs(consider);
      return wakeAt;
    }
    let freeJobs: number | undefined;
    let freeDirect = this.options.maxConcurrentJobs - this.sendingDirect;
    // Rooms left beyond what the pass can send or prepare wait for a slot like those that found none.
    let waitingForSlot = beyond;
    const sends: Promise<void>[] = [];
    for (const entry of open) {
      const { wave, room } = entry;
      // One job per room at a time, across waves: a second purge or delete of a room only queues behind the first.
      if (busyRooms.has(room.roomId)) continue;
      const sender = this.senderOf(wave);
      // A single command's room is not paced: its job takes a slot the waves then wait for.
      if (!immediate(wave, room)) {
        if (sender.usesJobSlot) {
          if (freeJobs === undefined) {
            // The rooms about to take the free slots read ahead (a purge's boundary) while the
            // queue is read, rather than after it: the first job of a wave goes out sooner.
            this.prepareAhead(open, busyRooms, this.options.maxConcurrentJobs);
            freeJobs = await this.freeJobSlots();
          }
          if (this.halted()) return undefined;
          if (freeJobs <= 0) {
            waitingForSlot = true;
            continue;
          }
          freeJobs--;
        } else {
          if (freeDirect <= 0) {
            waitingForSlot = true;
            continue;
          }
          freeDirect--;
        }
      }
      busyRooms.add(room.roomId);
      sends.push(this.handOver(entry, sender));
    }
    await Promise.all(sends);
    if (waitingForSlot) {
      this.prepareAhead(open, busyRooms);
      const at = this.clock.now();
      let look = at + Math.min(this.options.slotCheckCeilingMs, this.firstSlotCheckMs() * 1.5 ** this.quietChecks);
      this.quietChecks++;
      // Jobs sent together end together: the looks slow down while none can end, and start again
      // at the first look once one is due to.
      if (this.expectedEnd !== undefined && this.expectedEnd > at && this.expectedEnd < look) {
        look = this.expectedEnd;
        this.quietChecks = 0;
      }
      consider(look);
    } else await this.followLastJobs(consider);
    return wakeAt;
  }

  /**
   * No room waits for a slot, yet jobs of Warden's run: the homeserver's queue is still read when
   * the first of them should end (by typicalJobMs), then at the pace of the first looks, so the
   * tracker hears of an end at that read (lookNow) instead of at its own next tick, up to 1.7 s
   * later. That is what a wave's last rooms waited for before its summary, and a single command's
   * job before its final message. Only where a job missing from the queue has ended (see
   * listsEveryStatus), and only while a job is due: one that has overrun its typical time by as
   * much again is left to the tracker's own pace, so a long job costs no reads beyond its own.
   */
  private async followLastJobs(consider: (at: number) => void): Promise<void> {
    const typical = this.typicalJobMs;
    // Stryker disable next-line ConditionalExpression: equivalent — Warden always builds the engine with its tracker as follower; without one the reads would only cost requests
    if (typical === undefined || this.follower === undefined || !this.jobs.listsEveryStatus()) return;
    const now = this.clock.now();
    let due: number | undefined;
    for (const task of this.tasks.running()) {
      // A job already seen missing has ended: the tracker was told then.
      if (task.homeserverTaskId === undefined || task.status === "submitting" || this.timed.has(task.id)) continue;
      const end = task.createdAt + typical;
      if (end + typical >= now) due = Math.min(due ?? end, end);
    }
    if (due === undefined) return;
    const at = Math.max(due, this.lastJobsLookAt);
    if (due > now) this.lastJobsLooks = 0;
    if (at > now) {
      consider(at);
      return;
    }
    await this.freeJobSlots();
    this.lastJobsLookAt = this.clock.now() + Math.min(this.options.slotCheckCeilingMs, this.firstSlotCheckMs() * 1.5 ** this.lastJobsLooks);
    this.lastJobsLooks++;
    consider(this.lastJobsLookAt);
  }

  /**
   * A single command's rooms go out now, not at the queue's next pass (which may be waiting on
   * the homeserver for another wave): their tasks are recorded before anything else runs, so a
   * second command of the same room, checked right after, finds this one's task and joins it.
   * The claim is conditional, so a pass that read the room as due too cannot send it again.
   */
  private sendAtOnce(wave: WaveRecord, rooms: readonly WaveRoom[]): void {
    for (const room of rooms) this.background(this.handOver({ wave, room }, this.senderOf(wave)));
  }

  /** Warden's tasks still in flight, by the room (or user) they act on. */
  private runningTasksByRoom(): Map<string, TaskRecord[]> {
    const running = new Map<string, TaskRecord[]>();
    for (const task of this.tasks.running()) {
      const list = running.get(task.roomId) ?? [];
      list.push(task);
      running.set(task.roomId, list);
    }
    return running;
  }

  /**
   * A room with a job of Warden's already running on it (a single command's, or a wave's that
   * is not this room's) waits for it to end, unless that job does at least what this room needs:
   * then sending the room joins it (see coverage.ts). taskEnded wakes the queue when it ends.
   */
  private heldByRunningTask(wave: WaveRecord, room: WaveRoom, running: ReadonlyMap<string, readonly TaskRecord[]>): boolean {
    const tasks = running.get(room.roomId);
    const sender = this.senderOf(wave);
    // A block starts no job: it goes whatever runs on the room.
    if (tasks === undefined || !sender.usesJobSlot) return false;
    return tasks.some((task) => sender.joins?.(wave, room, task) !== true);
  }

  /**
   * The due rooms of running waves that may go now (not busy, not held by a job on the room, and
   * while slowing down only a single command's), by priority and, within one, oldest wave first
   * and in selection order, each through its gate (openGate). `free`: any room was free before
   * its gate. A 100,000-room wave has most of its rooms due at once, and a pass runs at each
   * job's end, so only as many are listed as the pass can use: every single command's room, and
   * per kind of slot (a job slot, or a direct send) 3 × maxConcurrentJobs + 1 rooms not listed
   * before. A pass sends at most maxConcurrentJobs of each kind, prepares the next
   * 2 × maxConcurrentJobs, and with the one more it reads the queue and finds no slot, so the
   * rooms left out (`beyond`) could only have waited for a slot. Each free room is still taken
   * to its gate, in the same order: gates are asked as before.
   */
  private dueRooms(waves: readonly WaveRecord[], pass: DuePass): { open: Due[]; free: boolean; beyond: boolean } {
    const listLimit = 3 * this.options.maxConcurrentJobs + 1;
    const listed = { slot: 0, direct: 0 };
    const listedRooms = new Set<string>();
    const open: Due[] = [];
    let free = false;
    let beyond = false;
    for (const rank of PRIORITIES) {
      for (const wave of waves) {
        // A wave with a board has one priority for all its rooms: it is walked once, at its own.
        if (wave.status !== "running" || (wave.board !== false && wavePriority(wave) !== rank)) continue;
        // Main-phase rooms come before the purge phase's in selection order (those are added
        // when a room's shutdown ends), so walking the phases in turn keeps the rooms' order.
        for (const phase of WAVE_PHASES) for (const room of this.store.eachQueued(wave.id, phase)) {
          if ((room.notBefore !== undefined && room.notBefore > pass.now) || priority(wave, room) !== rank) continue;
          if ((pass.slowing && !immediate(wave, room)) || pass.busyRooms.has(room.roomId) || this.heldByRunningTask(wave, room, pass.running)) continue;
          free = true;
          const entry = this.openGate(wave, room, pass.consider);
          if (entry === undefined) continue;
          if (!immediate(wave, room)) {
            const kind = this.senderOf(wave).usesJobSlot ? "slot" : "direct";
            if (listed[kind] >= listLimit) {
              beyond = true;
              // A room with no gate to ask (see openGate): the rest of its phase could only be
              // beyond too, and no single command's room is among them (the limit is not theirs).
              if (phase === "main" || this.senderOf(wave).ready === undefined) break;
              continue;
            }
            if (!listedRooms.has(room.roomId)) listed[kind]++;
          }
          listedRooms.add(room.roomId);
          open.push(entry);
        }
      }
    }
    return { open, free, beyond };
  }

  /**
   * The room as it may go now, or undefined while its gate has not said so. A room whose step
   * waits for something besides a slot (a shutdown's purge phase waits for the kicked members'
   * clients) goes once its gate has said so; the gate is asked in the background, at most
   * GATE_CHECKS_PER_PASS rooms at a time, so that a slow answer (member devices to read) holds up
   * no other room. Its answer wakes the queue: a room found ready goes at the next pass; one not
   * ready is given its next look (notBefore) and why it waits, with one conditional write (a
   * cancel in between wins).
   */
  private openGate(wave: WaveRecord, room: WaveRoom, consider: (at: number) => void): Due | undefined {
    const sender = this.senderOf(wave);
    if (room.phase !== "purge" || sender.ready === undefined) return { wave, room };
    const key = gateKey(room);
    const passed = this.gatesOpen.get(key);
    if (passed !== undefined) return { wave, room, ...(passed === "" ? {} : { passed }) };
    if (!this.gateChecks.has(key) && this.gateChecks.size < GATE_CHECKS_PER_PASS) {
      const failedUntil = this.gatesFailed.get(key) ?? 0;
      if (failedUntil > this.clock.now()) {
        consider(failedUntil);
        return undefined;
      }
      this.gatesFailed.delete(key);
      this.askGate(wave, room, sender, key);
    }
    return undefined;
  }

  private askGate(wave: WaveRecord, room: WaveRoom, sender: RoomSender, key: string): void {
    const main = this.store.room(wave.id, "main", room.roomId);
    const previous = { task: main?.taskId === undefined ? undefined : this.tasks.get(main.taskId), endedAt: main?.finishedAt ?? this.clock.now() };
    this.gateChecks.add(key);
    void (async (): Promise<void> => {
      // A pass at once after the answer: it sends a room found ready, and asks the rooms still waiting to be asked.
      let nextPass = this.clock.now();
      try {
        const readiness = await (sender.ready?.(wave, room, previous) ?? Promise.resolve<Readiness>({ ready: true }));
        // stop() does not wait for a gate (its reads may take a while): after it, nothing is written.
        if (this.halted()) return;
        if (readiness.ready) {
          this.gatesOpen.set(key, readiness.reason ?? "");
          return;
        }
        // The next pass sees the room's next look (notBefore) and sets the alarm for it.
        await this.store.updateQueued(wave.id, room.phase, room.roomId, { notBefore: readiness.until, reason: readiness.reason });
        this.touch(wave.id);
      } catch (error) {
        // A bug or a store failure: asked again in a while, never sent on a guess.
        this.log.error({ err: error, waveId: wave.id, roomId: room.roomId }, "could not tell whether a wave room may be sent");
        nextPass = this.clock.now() + this.options.slotCheckCeilingMs;
        this.gatesFailed.set(key, nextPass);
      } finally {
        this.gateChecks.delete(key);
        this.wake(nextPass);
      }
    })();
  }

  /** Lets the senders read ahead for the rooms next in line (about two rounds of slots), so a freed slot is used at once. */
  private prepareAhead(due: readonly Due[], busyRooms: ReadonlySet<string>, rooms = 2 * this.options.maxConcurrentJobs): void {
    let ahead = 0;
    for (const { wave, room } of due) {
      if (ahead >= rooms) return;
      if (busyRooms.has(room.roomId)) continue;
      this.senderOf(wave).prepare?.(wave, room);
      ahead++;
    }
  }

  /**
   * The first look at the homeserver's queue while rooms wait for a slot: slotCheckMs, or a tenth
   * of a typical job when jobs are short (not below MIN_SLOT_CHECK_MS). A slot held by a job of
   * half a second would otherwise stay empty for most of slotCheckMs after the job ended, which
   * over a wave of such jobs costs a fifth of its time; jobs of minutes are looked at no more often.
   */
  private firstSlotCheckMs(): number {
    const { slotCheckMs } = this.options;
    if (this.typicalJobMs === undefined) return slotCheckMs;
    return Math.min(slotCheckMs, Math.max(MIN_SLOT_CHECK_MS, this.typicalJobMs / 10));
  }

  /** A job's time into typicalJobMs. */
  private timeJob(durationMs: number): void {
    this.typicalJobMs = this.typicalJobMs === undefined ? durationMs : 0.8 * this.typicalJobMs + 0.2 * durationMs;
  }

  /** The sender of a room: a shutdown's purge phase is a second delete (see deleteOptions), so the wave's own kind. */
  private senderOf(wave: WaveRecord): RoomSender {
    return this.senders[wave.kind];
  }

  /**
   * Slots left under maxConcurrentJobs: the homeserver's heavy jobs that take a slot now (anyone's;
   * a job scheduled for later does not, see isDue), plus every job of Warden's that has not ended
   * in its own records, listed or not — a homeserver that lists only some of the statuses asked
   * for (Synapse before 1.163) would otherwise make Warden's queued jobs look ended — plus the
   * rooms being handed over whose task is not recorded yet. A job of Warden's accepted before this
   * read began and missing from it has ended or was left out: the tracker is asked to find out
   * at once. Its slot is free at once where the homeserver lists every job in flight (Synapse
   * 1.163 and later), else as soon as the tracker has recorded its end.
   */
  private async freeJobSlots(): Promise<number> {
    const startedAt = this.clock.now();
    const listed = await this.jobs.inFlight();
    const now = this.clock.now();
    const own = this.tasks.running();
    const ownJobs = new Set(own.flatMap((task) => (task.homeserverTaskId === undefined ? [] : [task.homeserverTaskId])));
    const ownSends = new Set(own.flatMap((task) => (typeof task.parameters["waveSend"] === "string" ? [task.parameters["waveSend"]] : [])));
    let others = 0;
    let ended = 0;
    if (listed.ok) {
      const listedIds = new Set<string>();
      for (const job of listed.value) {
        listedIds.add(job.id);
        if (HEAVY_ACTIONS.has(job.action) && !ownJobs.has(job.id) && isDue(job, now)) others++;
      }
      const missing = own.filter(
        (task) => task.status !== "submitting" && task.homeserverTaskId !== undefined && task.statusChangedAt < startedAt && !listedIds.has(task.homeserverTaskId),
      );
      if (missing.length > 0) this.follower?.lookNow(missing.map((task) => task.id));
      // A homeserver that lists every job in flight has ended the missing ones: their slots are
      // free now, not once the tracker has read each end (a poll and another read of this list
      // later), which is what kept the next room waiting after each job on a fast homeserver.
      if (this.jobs.listsEveryStatus()) {
        ended = missing.length;
        // Its end as seen here, not as the tracker records it later, is how long the job took.
        for (const task of missing) {
          if (this.timed.has(task.id)) continue;
          this.timed.add(task.id);
          this.timeJob(startedAt - task.createdAt);
        }
      }
    } else {
      this.log.warn({ error: listed.error.kind }, "could not read the homeserver's task queue; counting Warden's own jobs only");
    }
    this.expectedEnd = undefined;
    const typical = this.typicalJobMs;
    if (typical !== undefined) {
      for (const task of own) {
        const end = task.createdAt + typical;
        if (task.homeserverTaskId !== undefined && end > now && end < (this.expectedEnd ?? Number.POSITIVE_INFINITY)) this.expectedEnd = end;
      }
    }
    let handing = 0;
    for (const sendId of this.handingOver) if (!ownSends.has(sendId)) handing++;
    const free = this.options.maxConcurrentJobs - others - (own.length - ended) - handing;
    if (free > 0) this.quietChecks = 0;
    return free;
  }

  /**
   * Hands a room to its sender: counted as handed over before the first await, so the next read
   * of free slots sees it (its task, once recorded, carries the send's id and is not counted twice).
   */
  private handOver(entry: Due, sender: RoomSender): Promise<void> {
    const sendId = randomBytes(6).toString("hex");
    if (sender.usesJobSlot) this.handingOver.add(sendId);
    else this.sendingDirect++;
    return this.send(entry, sender, sendId).finally(() => {
      if (sender.usesJobSlot) this.handingOver.delete(sendId);
      else this.sendingDirect--;
    });
  }

  private async send(entry: Due, sender: RoomSender, sendId: string): Promise<void> {
    const claimed = await this.claim(entry, sendId);
    if (claimed === undefined) return;
    const { wave } = entry;
    if (!this.firstSentAt.has(wave.id)) this.firstSentAt.set(wave.id, this.clock.now());
    let result: SendResult;
    try {
      const stepped = await this.runSteps(wave, claimed, sender);
      result = "stopped" in stepped ? stepped.stopped : await sender.send(wave, stepped.room);
    } catch (error) {
      // A bug or a store failure in the sender: the room goes back to the queue; resumeAll would find its task if one was recorded.
      this.log.error({ err: error, waveId: wave.id, roomId: claimed.roomId }, "sending a wave room failed unexpectedly");
      result = { kind: "slow-down", reason: "an unexpected error (see Warden's log)" };
    }
    try {
      await this.applySend(wave.id, this.store.room(wave.id, claimed.phase, claimed.roomId) ?? claimed, result);
    }
    // Stryker disable next-line BlockStatement: equivalent — the block only logs
    catch (error) {
      this.log.error({ err: error, waveId: wave.id, roomId: claimed.roomId }, "could not record how a wave room was sent; resolved at the next start");
    }
  }

  /**
   * The steps a room's send makes before its job (a shutdown's media quarantine), in order. Each
   * outcome is stored with the room before the next starts, and the job is sent only once every
   * step is done: a restart finds how far the room got, and since a room caught "sending" without
   * a task goes back to the queue, its steps simply run again. A failed step fails the try, which
   * is retried as any failed try; a slow-down puts the room back, the try not counted. A single
   * command's room is not paced, so it would be sent again at once: its slow-down fails instead.
   */
  private async runSteps(wave: WaveRecord, room: WaveRoom, sender: RoomSender): Promise<{ readonly room: WaveRoom } | { readonly stopped: SendResult }> {
    let current = room;
    for (const step of sender.stepsBefore?.(wave, room) ?? []) {
      const result = await step.run(wave, current);
      if (result.kind === "slow-down" && !immediate(wave, current)) return { stopped: result };
      const at = this.clock.now();
      const outcome: RoomStepOutcome = result.kind === "done" ? { ok: true, count: result.count, at } : { ok: false, reason: result.reason, at };
      const [recorded] = await this.store.updateRooms(wave.id, [{ phase: current.phase, roomId: current.roomId, change: { steps: { ...current.steps, [step.name]: outcome } } }]);
      // The job's send reads the step's outcome from the room (a shutdown's task tells the count).
      current = recorded ?? current;
      if (result.kind !== "done") {
        this.log.info({ waveId: wave.id, roomId: room.roomId, phase: room.phase, step: step.name, reason: result.reason }, "a step before a wave room's job failed; the job was not sent");
        return { stopped: { kind: "failed", reason: result.reason, retry: true } };
      }
      this.log.info({ waveId: wave.id, roomId: room.roomId, phase: room.phase, step: step.name, count: result.count }, "a step before a wave room's job done");
    }
    return { room: current };
  }

  /**
   * Marks the room "sending" before its request leaves, and only if it is still queued in a
   * running wave (a cancel while this pass read the task queue wins): a crash from then on is
   * resolved by reconcileSending, which follows the task carrying this send's id. Undefined when
   * it was no longer queued, or the write failed; then the queue waits as after a slow-down
   * rather than trying again at once.
   */
  private async claim({ wave, room, passed }: Due, sendId: string): Promise<WaveRoom | undefined> {
    // A gate's answer is for this send only: a later one asks again.
    this.gatesOpen.delete(gateKey(room));
    try {
      const claimed = await this.store.updateQueued(wave.id, room.phase, room.roomId, { state: "sending", attempts: room.attempts + 1, sendId, ...(passed === undefined ? {} : { reason: passed }) });
      if (claimed === undefined) this.log.info({ waveId: wave.id, roomId: room.roomId }, "wave room no longer queued when its turn came; not sent");
      // The audit of why a gated room went (the e2e of the two-step shutdown reads it).
      else if (passed !== undefined) this.log.info({ waveId: wave.id, roomId: room.roomId, phase: room.phase, reason: passed }, "wave room sent once its gate opened");
      return claimed;
    } catch (error) {
      this.log.error({ err: error, waveId: wave.id, roomId: room.roomId }, "could not mark a wave room as being sent; it stays queued");
      this.slowDown(wave.id, room.roomId, { kind: "slow-down", reason: "an unexpected error (see Warden's log)" });
      return undefined;
    }
  }

  private async applySend(waveId: string, room: WaveRoom, result: SendResult): Promise<void> {
    switch (result.kind) {
      case "sent": {
        await this.store.updateRooms(waveId, [{ phase: room.phase, roomId: room.roomId, change: { state: "sent", taskId: result.taskId } }]);
        this.slowDownStreak = 0;
        // The task may have ended already (refused at once, or joined one that was ending).
        const task = this.tasks.get(result.taskId);
        const sent = this.store.room(waveId, room.phase, room.roomId);
        if (task !== undefined && isFinal(task.status) && sent !== undefined) await this.applyTaskEnd(waveId, sent, task);
        break;
      }
      case "done":
        this.slowDownStreak = 0;
        await this.settleRoom(waveId, room, { state: "done" });
        break;
      case "skipped":
        await this.settleRoom(waveId, room, { state: "skipped", reason: result.reason });
        break;
      case "failed":
        await this.failOrRetry(waveId, room, result.reason, result.retry);
        break;
      case "slow-down":
        // Not the room's fault: back in the queue, the try not counted, and the whole wave waits.
        this.slowDown(waveId, room.roomId, result);
        await this.requeueUnsent(waveId, room, `waiting: ${result.reason}`);
        break;
      case "busy":
        // Only this room waits, for the task named (the queue holds it while that task runs).
        this.log.info({ waveId, roomId: room.roomId, taskId: result.taskId }, "wave room waits for a smaller job of the same kind on the room to end");
        await this.requeueUnsent(waveId, room, result.reason);
        break;
    }
    this.touch(waveId);
    // A room that holds no job now (done at once, skipped, failed, back in the queue, or its job
    // already ended) left its slot free: the rooms waiting for one are looked at again at once.
    const holding = result.kind === "sent" && this.store.room(waveId, room.phase, room.roomId)?.state === "sent";
    if (!holding) this.wake(this.clock.now());
  }

  /** Every wave waits: retry_after_ms when the homeserver gave one, else slowDownMs doubling while it lasts, up to a minute. */
  private slowDown(waveId: string, roomId: string, result: Extract<SendResult, { kind: "slow-down" }>): void {
    this.slowDownStreak++;
    const wait = result.waitMs ?? Math.min(SLOW_DOWN_CEILING_MS, this.options.slowDownMs * 2 ** (this.slowDownStreak - 1));
    this.slowUntil = Math.max(this.slowUntil, this.clock.now() + wait);
    this.log.warn({ waveId, roomId, waitMs: wait, reason: result.reason }, "the homeserver asks Warden to slow down; the wave waits");
    this.wake(this.slowUntil);
  }

  /** A room handed over but not sent goes back to the queue, the try not counted; in a wave cancelled meanwhile it ends as never sent. */
  private async requeueUnsent(waveId: string, room: WaveRoom, reason: string): Promise<void> {
    const attempts = Math.max(0, room.attempts - 1);
    if (this.store.get(waveId)?.status !== "running") {
      await this.settleRoom(waveId, room, { state: "cancelled", attempts, reason: "the wave was cancelled before this room could be sent" });
      return;
    }
    await this.store.updateRooms(waveId, [{ phase: room.phase, roomId: room.roomId, change: { state: "queued", attempts, reason } }]);
  }

  private async failOrRetry(waveId: string, room: WaveRoom, reason: string, retry: boolean): Promise<void> {
    const wave = this.store.get(waveId);
    if (retry && room.attempts <= retriesOf(wave, this.options.retries) && wave?.status === "running") {
      const wait = this.options.retryAfterMs * 2 ** (room.attempts - 1);
      this.log.info({ waveId, roomId: room.roomId, attempt: room.attempts, waitMs: wait, reason }, "wave room failed; trying again later");
      await this.store.updateRooms(waveId, [
        { phase: room.phase, roomId: room.roomId, change: { state: "queued", notBefore: this.clock.now() + wait, reason: `try ${room.attempts} failed: ${reason}` } },
      ]);
      // Stryker disable next-line CallExpression,ArithmeticOperator: equivalent — every caller wakes a pass at once afterwards (taskEnded, resumeAll, or the running pump), and that pass sets the alarm for notBefore
      this.wake(this.clock.now() + wait);
      return;
    }
    await this.settleRoom(waveId, room, { state: "failed", reason });
  }

  private async applyTaskEnd(waveId: string, room: WaveRoom, task: TaskRecord): Promise<void> {
    if (FINAL_WAVE_ROOM_STATES.has(room.state) || room.taskId !== task.id) return;
    const durationMs = task.finishedAt !== undefined ? Math.max(0, task.finishedAt - task.createdAt) : undefined;
    if (task.status === "complete") {
      if (durationMs !== undefined && !this.timed.has(task.id)) this.timeJob(durationMs);
      const [done] = await this.store.updateRooms(waveId, [
        { phase: room.phase, roomId: room.roomId, change: { state: "done", finishedAt: this.clock.now(), ...(durationMs === undefined ? {} : { durationMs }) } },
      ]);
      this.touch(waveId);
      // Queued before the wave is looked at as a whole, so the message that its main phase
      // ended counts this room's purge phase too.
      await this.queuePurgePhase(waveId, done ?? room);
      await this.settleIfDone(waveId);
      return;
    }
    const reason = task.reason ?? (task.status === "unknown" ? "the homeserver no longer knows this job" : "the homeserver gave no reason");
    if (task.kind === "purge" && /^nothing to purge/i.test(reason)) {
      await this.settleRoom(waveId, room, { state: "skipped", reason });
      return;
    }
    await this.failOrRetry(waveId, room, reason, true);
  }

  /**
   * A shutdown with a purge phase that ended queues the room's purge: for when the cooldown ends
   * (`--purge-after`), or at once behind its gate, which holds it until the kicked members'
   * clients have seen the leave (see LeaveSeenGate).
   */
  private async queuePurgePhase(waveId: string, room: WaveRoom): Promise<void> {
    const wave = this.store.get(waveId);
    const phase = wave === undefined ? undefined : owedPurgePhase(wave);
    // Stryker disable next-line ConditionalExpression: equivalent — a purge-phase room's own purge would be the same row, which addRooms skips
    if (phase === undefined || room.phase !== "main") return;
    // From when the shutdown ended, also when this is queued late (after a restart).
    const endedAt = room.finishedAt ?? this.clock.now();
    const notBefore = phase.kind === "after" ? endedAt + phase.delayMs : endedAt;
    await this.store.addRooms(waveId, [
      {
        waveId,
        roomId: room.roomId,
        phase: "purge",
        label: room.label,
        ...(room.name === undefined ? {} : { name: room.name }),
        state: "queued",
        attempts: 0,
        notBefore,
      },
    ]);
    // Stryker disable next-line CallExpression: equivalent — every caller then wakes the pump at once (taskEnded, resumeAll) or runs inside a pass that looks again, and a pass reads notBefore
    this.wake(notBefore);
  }

  private async settleRoom(waveId: string, room: WaveRoom, change: Partial<WaveRoom>): Promise<void> {
    await this.store.updateRooms(waveId, [{ phase: room.phase, roomId: room.roomId, change: { finishedAt: this.clock.now(), ...change } }]);
    this.touch(waveId);
    await this.settleIfDone(waveId);
  }

  private async reconcileSending(wave: WaveRecord, room: WaveRoom): Promise<void> {
    const sender = this.senderOf(wave);
    const task = sender.usesJobSlot ? this.taskOfSend(wave, room) : undefined;
    if (task !== undefined) {
      this.log.info({ waveId: wave.id, roomId: room.roomId, taskId: task.id }, "wave room was sent before the restart; following its task");
      await this.store.updateRooms(wave.id, [{ phase: room.phase, roomId: room.roomId, change: { state: "sent", taskId: task.id } }]);
      const sent = this.store.room(wave.id, room.phase, room.roomId);
      if (isFinal(task.status) && sent !== undefined) await this.applyTaskEnd(wave.id, sent, task);
      return;
    }
    // No task was recorded, so no request left (the launcher records before sending): queue it again.
    const state = wave.status === "running" ? "queued" : "cancelled";
    await this.store.updateRooms(wave.id, [
      { phase: room.phase, roomId: room.roomId, change: { state, attempts: Math.max(0, room.attempts - 1), ...(state === "cancelled" ? { finishedAt: this.clock.now() } : {}) } },
    ]);
  }

  /**
   * The task a room caught "sending" handed over: the one carrying the room's send id. A room
   * claimed by an older Warden has none; then the newest task of its attempt (an earlier try
   * that slowed down left a task with the same attempt number behind).
   */
  private taskOfSend(wave: WaveRecord, room: WaveRoom): TaskRecord | undefined {
    const mine = this.tasks
      .all()
      // Stryker disable next-line ConditionalExpression: equivalent — a send id is random: no other room's task carries it, and the attempt match below is for rooms of this wave and phase only
      .filter((candidate) => candidate.parameters["waveId"] === wave.id && candidate.roomId === room.roomId && candidate.parameters["wavePhase"] === room.phase);
    if (room.sendId !== undefined) return mine.find((candidate) => candidate.parameters["waveSend"] === room.sendId);
    return mine
      .filter((candidate) => candidate.parameters["waveAttempt"] === room.attempts)
      // Stryker disable next-line EqualityOperator: equivalent — two tasks of one room created in the same millisecond: either is a guess
      .reduce<TaskRecord | undefined>((newest, candidate) => (newest === undefined || candidate.createdAt >= newest.createdAt ? candidate : newest), undefined);
  }

  /** Ends the wave once every room is final, and sends its summary; tells the requester when only the purge phase is left. */
  private async settleIfDone(waveId: string): Promise<void> {
    const wave = this.store.get(waveId);
    if (wave === undefined || wave.status === "finished") {
      if (wave !== undefined && !wave.finalNotificationSent) this.summarize(waveId);
      return;
    }
    // A room's purge phase is queued before the wave is looked at here (applyTaskEnd, resumeAll),
    // so a wave whose rooms are all final owes nothing more.
    const tally = this.store.tally(waveId);
    if (tally.unfinished === 0) {
      await this.store.update(waveId, { status: "finished", finishedAt: this.clock.now() });
      this.log.info({ waveId }, "wave finished");
      this.summarize(waveId);
      return;
    }
    if (tally.mainUnfinished === 0 && wave.board !== false && wave.mainPhaseNotified !== true) this.announce(waveId, "main-phase");
  }

  private summarize(waveId: string): void {
    this.announce(waveId, "summary");
  }

  private announce(waveId: string, kind: Notice["kind"]): void {
    const key = `${kind} ${waveId}`;
    if (!this.notices.has(key)) this.notices.set(key, { waveId, kind, tries: 0, due: this.clock.now(), sending: false });
    this.retryNotices();
  }

  /**
   * Whether a notice is still owed: a summary until delivered; the main phase's end only before
   * the wave finished (the summary tells it then). A delivered notice is no longer listed.
   */
  private owed(notice: Notice, wave: WaveRecord): boolean {
    return notice.kind === "summary" ? !wave.finalNotificationSent : wave.status !== "finished";
  }

  private retryNotices(): void {
    const now = this.clock.now();
    for (const [key, notice] of this.notices) {
      if (notice.sending || notice.due > now) continue;
      const view = this.viewOf(notice.waveId);
      if (view === undefined || !this.owed(notice, view.wave)) {
        // Stryker disable next-line CallExpression: equivalent — only frees memory: a notice no longer owed is never sent
        this.notices.delete(key);
        continue;
      }
      notice.sending = true;
      notice.tries++;
      const delivering = notice.kind === "summary" ? this.notifier.finished(view) : this.notifier.mainPhaseEnded(view);
      const sending = delivering
        .then(async (done) => {
          if (done) {
            await this.store.update(notice.waveId, notice.kind === "main-phase" ? { mainPhaseNotified: true } : { finalNotificationSent: true });
            this.notices.delete(key);
            if (notice.kind === "main-phase") return;
            this.boards.delete(notice.waveId);
            // Stryker disable next-line CallExpression: equivalent — only frees memory: a finished wave's view has no estimate, and wave ids are never reused
            this.firstSentAt.delete(notice.waveId);
          } else {
            notice.due = this.clock.now() + Math.min(this.options.summaryRetryMs, 1_000 * 2 ** notice.tries);
            this.wake(notice.due);
          }
        })
        .catch((error: unknown) => {
          this.log.error({ err: error, waveId: notice.waveId, notice: notice.kind }, "could not send or record a wave's message");
          notice.due = this.clock.now() + this.options.summaryRetryMs;
          this.wake(notice.due);
        })
        .finally(() => {
          notice.sending = false;
        });
      this.background(sending);
    }
  }

  /** The board needs an edit; sent at most every boardEveryMs. A wave without a board has nothing to edit. */
  private touch(waveId: string): void {
    if (this.store.get(waveId)?.board === false) return;
    const board = this.boards.get(waveId) ?? { dirty: false, lastAt: 0, sending: false };
    board.dirty = true;
    this.boards.set(waveId, board);
    this.wake(board.lastAt + this.options.boardEveryMs);
  }

  private flushBoards(): void {
    const now = this.clock.now();
    for (const [waveId, board] of this.boards) {
      if (!board.dirty || board.sending || board.lastAt + this.options.boardEveryMs > now) continue;
      const view = this.viewOf(waveId);
      // A finished wave's board gets its last edit with the summary.
      if (view === undefined || view.wave.status === "finished") {
        board.dirty = false;
        continue;
      }
      board.dirty = false;
      board.sending = true;
      board.lastAt = now;
      const editing = this.notifier
        .moved(view)
        // Stryker disable next-line BlockStatement: equivalent — the block only logs
        .catch((error: unknown) => {
          this.log.warn({ err: error, waveId }, "could not edit the wave's board");
        })
        .finally(() => {
          board.sending = false;
          if (board.dirty) this.wake(Math.max(this.clock.now(), board.lastAt + this.options.boardEveryMs));
        });
      this.background(editing);
    }
  }

  private viewOf(waveId: string): WaveView | undefined {
    const wave = this.store.get(waveId);
    if (wave === undefined) return undefined;
    const rooms = this.store.rooms(waveId);
    const now = this.clock.now();
    const remainingMs = wave.status === "finished" ? undefined : this.estimateRemaining(waveId, rooms, now);
    return { wave, rooms, now, ...(remainingMs === undefined ? {} : { remainingMs }) };
  }

  /** From the pace so far: rooms ended per millisecond since the first was sent. */
  private estimateRemaining(waveId: string, rooms: readonly WaveRoom[], now: number): number | undefined {
    const since = this.firstSentAt.get(waveId);
    if (since === undefined || now <= since) return undefined;
    let ended = 0;
    let left = 0;
    let cooldownEnds = 0;
    for (const room of rooms) {
      if (room.state === "done" || room.state === "failed" || room.state === "skipped") {
        if (room.finishedAt !== undefined && room.finishedAt >= since) ended++;
      } else if (room.state !== "cancelled") {
        if (room.phase === "purge" && room.notBefore !== undefined) cooldownEnds = Math.max(cooldownEnds, room.notBefore);
        else left++;
      }
    }
    if (ended === 0) return undefined;
    // The pace's estimate is never negative, so a cooldown already over (or none: 0) never wins.
    return Math.max(Math.round((left * (now - since)) / ended), cooldownEnds - now);
  }
}
