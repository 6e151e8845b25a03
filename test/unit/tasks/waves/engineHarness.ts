import pino from "pino";
import { afterEach, beforeEach, vi } from "vitest";
import type { SelectedRoom, WaveKind, WaveRecord, WaveRoom, WaveView } from "../../../../src/model/waves.js";
import { WardenDatabase } from "../../../../src/store/database.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import type { HomeserverJob } from "../../../../src/tasks/homeserverJobs.js";
import { isFinal, type TaskRecord } from "../../../../src/tasks/types.js";
import { DEFAULT_WAVE_OPTIONS, WaveEngine, type WaveEngineOptions, type WaveNotifier } from "../../../../src/tasks/waves/engine.js";
import { REAL_TIMERS } from "../../../../src/tasks/alarm.js";
import { waveTaskParameters, type RoomSender, type RoomStep, type SendResult } from "../../../../src/tasks/waves/senders.js";
import type { PreviousPhase, Readiness } from "../../../../src/tasks/waves/leaveSeen.js";
import { ok, type Result } from "../../../../src/util/result.js";
import { freshDirectory } from "../../store/storeTestKit.js";
import { useFakeClock } from "../fakeTime.js";

export const log = pino({ level: "silent" });
export const START = Date.parse("2026-11-26T00:00:00Z");

/** A send as the sender saw it, with the (fake) time it happened. */
export interface Sent {
  readonly roomId: string;
  readonly phase: string;
  readonly attempt: number;
  readonly at: number;
}

/**
 * A homeserver and Warden's task records of its jobs. Each send answers from `scripted` (per
 * room, in order) and otherwise starts a job and records its task.
 */
export class World {
  readonly jobs = new Map<string, HomeserverJob>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly sent: Sent[] = [];
  /** The rooms as each send was handed them (with their steps' outcomes). */
  readonly sentRooms: WaveRoom[] = [];
  readonly prepared: string[] = [];
  readonly scripted = new Map<string, (SendResult | "throw" | "hold" | ((wave: WaveRecord, room: WaveRoom) => SendResult | Promise<SendResult>))[]>();
  /** Whether a running task of a room does what a wave room needs (RoomSender.joins); never by default. */
  joinable: (task: TaskRecord) => boolean = () => false;
  /** The steps before each room's job (RoomSender.stepsBefore), set before the engine is; by default the sender has none. */
  steps: ((wave: WaveRecord, room: WaveRoom) => readonly RoomStep[]) | undefined;
  /** A gate for purge-phase rooms (RoomSender.ready); none by default. */
  gate: ((wave: WaveRecord, room: WaveRoom, previous: PreviousPhase) => Promise<Readiness>) | undefined;
  /** Reads of the homeserver's queue held until releaseInFlight(), when `holdInFlight` is set. */
  holdInFlight = false;
  private readonly heldReads: (() => void)[] = [];
  /** Sends held until the test releases them, with what they answer then. */
  readonly held: ((result: SendResult) => void)[] = [];
  /** Whether the homeserver lists every job in flight (HomeserverJobs.listsEveryStatus); not by default. */
  listsEveryStatus = false;
  inFlightCalls = 0;
  inFlightAnswers: (Result<readonly HomeserverJob[], AdminError> | "throw")[] = [];
  /** The tasks the engine asked the tracker to look at at once (JobFollower.lookNow), a call each. */
  readonly looked: string[][] = [];
  private next = 0;

  sender(usesJobSlot = true): RoomSender {
    return {
      usesJobSlot,
      prepare: (_wave, room) => {
        this.prepared.push(room.roomId);
      },
      joins: (_wave, _room, task) => this.joinable(task),
      ...(this.steps === undefined ? {} : { stepsBefore: this.steps }),
      ready: (wave, room, previous) => (this.gate === undefined ? Promise.resolve({ ready: true }) : this.gate(wave, room, previous)),
      send: (wave, room) => {
        this.sent.push({ roomId: room.roomId, phase: room.phase, attempt: room.attempts, at: Date.now() });
        this.sentRooms.push(room);
        const scripted = this.scripted.get(room.roomId)?.shift();
        if (scripted === "throw") return Promise.reject(new Error("store failed"));
        if (scripted === "hold") return new Promise<SendResult>((resolve) => this.held.push(resolve));
        if (typeof scripted === "function") return Promise.resolve(scripted(wave, room));
        if (scripted !== undefined) return Promise.resolve(scripted);
        if (!usesJobSlot) return Promise.resolve({ kind: "done" });
        return Promise.resolve(this.startJob(wave, room));
      },
    };
  }

  startJob(wave: WaveRecord, room: WaveRoom, status: TaskRecord["status"] = "scheduled"): SendResult {
    const id = `t-${++this.next}`;
    const jobId = `job-${this.next}`;
    this.jobs.set(jobId, { id: jobId, action: "purge_history", resourceId: room.roomId, status: "active", timestampMs: Date.now() });
    this.tasks.set(id, {
      id,
      kind: wave.kind === "shutdown" ? "shutdown" : "purge",
      roomId: room.roomId,
      roomLabel: room.label,
      requester: wave.requester,
      managementRoomId: wave.managementRoomId,
      commandEventId: wave.commandEventId,
      homeserverTaskId: jobId,
      parameters: waveTaskParameters(wave, room),
      status,
      createdAt: Date.now(),
      statusChangedAt: Date.now(),
      finalNotificationSent: false,
    });
    return { kind: "sent", taskId: id, jobId };
  }

  /** Answers every read of the homeserver's queue held so far. */
  releaseInFlight(): void {
    this.holdInFlight = false;
    for (const release of this.heldReads.splice(0)) release();
  }

  /** How many reads of the homeserver's queue wait for releaseInFlight(). */
  heldInFlight(): number {
    return this.heldReads.length;
  }

  /** A read of the homeserver's queue, as the engine's HomeserverJobs sees it. */
  inFlight(): Promise<Result<readonly HomeserverJob[], AdminError>> {
    this.inFlightCalls++;
    const answer = this.inFlightAnswers.shift();
    if (answer === "throw") return Promise.reject(new Error("bug"));
    const read = (): Result<readonly HomeserverJob[], AdminError> => answer ?? ok([...this.jobs.values()]);
    if (!this.holdInFlight) return Promise.resolve(read());
    return new Promise((resolve) => {
      this.heldReads.push(() => {
        resolve(read());
      });
    });
  }

  /** Warden's tasks whose job has not ended in its records (TaskStore.running). */
  inFlightTasks(): TaskRecord[] {
    return [...this.tasks.values()].filter((task) => !isFinal(task.status));
  }

  running(): TaskRecord[] {
    return [...this.tasks.values()].filter((task) => task.status === "scheduled" || task.status === "active");
  }

  /** Ends the job of a room as the tracker would report it. */
  async end(engine: WaveEngine, roomId: string, change: Partial<TaskRecord> = {}): Promise<TaskRecord> {
    const task = this.running().find((candidate) => candidate.roomId === roomId);
    if (task === undefined) throw new Error(`no job runs for ${roomId}`);
    this.jobs.delete(task.homeserverTaskId ?? "");
    const ended: TaskRecord = { ...task, status: "complete", finishedAt: Date.now(), ...change };
    this.tasks.set(task.id, ended);
    await engine.taskEnded(ended);
    return ended;
  }
}

export class Board implements WaveNotifier {
  posts = 0;
  boardEventId: string | undefined = "$board";
  moves: WaveView[] = [];
  summaries: { view: WaveView; at: number }[] = [];
  /** What the next summaries answer, in order; afterwards true. */
  summaryAnswers: (boolean | "throw")[] = [];
  failMoves = false;
  posted(): Promise<string | undefined> {
    this.posts++;
    return Promise.resolve(this.boardEventId);
  }
  moved(view: WaveView): Promise<void> {
    this.moves.push(view);
    return this.failMoves ? Promise.reject(new Error("edit refused")) : Promise.resolve();
  }
  finished(view: WaveView): Promise<boolean> {
    this.summaries.push({ view, at: Date.now() });
    const answer = this.summaryAnswers.shift() ?? true;
    return answer === "throw" ? Promise.reject(new Error("room gone")) : Promise.resolve(answer);
  }
  /** The messages that a wave's main phase ended, with the time. */
  mainPhases: { view: WaveView; at: number }[] = [];
  /** What the next main-phase messages answer, in order; afterwards true. */
  mainPhaseAnswers: (boolean | "throw")[] = [];
  mainPhaseEnded(view: WaveView): Promise<boolean> {
    this.mainPhases.push({ view, at: Date.now() });
    const answer = this.mainPhaseAnswers.shift() ?? true;
    return answer === "throw" ? Promise.reject(new Error("room gone")) : Promise.resolve(answer);
  }
}

export function rooms(count: number): SelectedRoom[] {
  return Array.from({ length: count }, (_, index) => ({ roomId: `!r${index}:x`, label: `#r${index}:x` }));
}

export interface Setup {
  readonly world: World;
  readonly board: Board;
  readonly engine: WaveEngine;
  readonly store: WaveStore;
}

export type SetUp = (options?: Partial<WaveEngineOptions>, direct?: boolean, world?: World, board?: Board, store?: WaveStore) => Setup;

export interface EngineHarness {
  /** An engine over a fake homeserver (World) and board, on the test's own database. */
  readonly setUp: SetUp;
  /** The test's database (a new one for each test). */
  readonly database: () => WardenDatabase;
}

/**
 * Registers the hooks every engine test needs (fake time from START, a fresh database, every
 * engine stopped afterwards); call it once at the top of a test file.
 */
export function useEngineHarness(): EngineHarness {
  let directory: string;
  let database: WardenDatabase;
  const engines: WaveEngine[] = [];

  beforeEach(() => {
    useFakeClock(START);
    directory = freshDirectory();
    database = WardenDatabase.open(directory);
  });

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.stop();
    database.close();
    vi.useRealTimers();
  });

  function setUp(options: Partial<WaveEngineOptions> = {}, direct = false, world = new World(), board = new Board(), store = new WaveStore(database, () => Date.now())): Setup {
    const jobSender = world.sender();
    const blockSender = world.sender(direct ? false : true);
    const engine = new WaveEngine(
      store,
      { get: (id) => world.tasks.get(id), all: () => [...world.tasks.values()], running: () => world.inFlightTasks() },
      { purge: jobSender, shutdown: jobSender, block: blockSender, unblock: blockSender },
      { inFlight: () => world.inFlight(), listsEveryStatus: () => world.listsEveryStatus },
      board,
      { now: () => Date.now() },
      log,
      { ...DEFAULT_WAVE_OPTIONS, ...options },
      REAL_TIMERS,
      { lookNow: (taskIds) => world.looked.push([...taskIds]) },
    );
    engines.push(engine);
    return { world, board, engine, store };
  }

  return { setUp, database: () => database };
}

export function start(engine: WaveEngine, count: number, kind: WaveKind = "purge", parameters: WaveRecord["parameters"] = { cutoffTs: START - 1000, deleteLocalEvents: false }, selected = rooms(count)): Promise<WaveRecord> {
  return engine.start({
    kind,
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: "$command",
    selection: { listed: [] },
    parameters,
    rooms: selected,
    leftOut: [],
  });
}

export const unreachable: AdminError = { kind: "unreachable", userMessage: "down", detail: "ECONNREFUSED" };

