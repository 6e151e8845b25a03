import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SelectedRoom, WaveKind, WaveRecord, WaveRoom, WaveView } from "../../../../src/model/waves.js";
import { WardenDatabase } from "../../../../src/store/database.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { HomeserverJob } from "../../../../src/tasks/homeserverJobs.js";
import { isFinal, type TaskRecord } from "../../../../src/tasks/types.js";
import { DEFAULT_WAVE_OPTIONS, WaveEngine, type WaveNotifier } from "../../../../src/tasks/waves/engine.js";
import { waveTaskParameters, type RoomSender, type SendResult } from "../../../../src/tasks/waves/senders.js";
import { ok } from "../../../../src/util/result.js";
import { freshDirectory } from "../../store/storeTestKit.js";
import { runUntil, useFakeClock } from "../fakeTime.js";

const log = pino({ level: "silent" });
const START = Date.parse("2026-11-26T00:00:00Z");

/** A homeserver whose jobs end when the test says, and Warden's task records of them. */
class World {
  readonly jobs = new Map<string, HomeserverJob>();
  readonly tasks = new Map<string, TaskRecord>();
  /** Highest number of heavy jobs in flight at once. */
  peak = 0;
  sent: { roomId: string; phase: string; attempt: number }[] = [];
  /** What the next sends of a room answer, in order; afterwards a job is started. */
  readonly scripted = new Map<string, SendResult[]>();
  private next = 0;

  sender(): RoomSender {
    return {
      usesJobSlot: true,
      send: (wave, room) => {
        this.sent.push({ roomId: room.roomId, phase: room.phase, attempt: room.attempts });
        const scripted = this.scripted.get(room.roomId)?.shift();
        if (scripted !== undefined) return Promise.resolve(scripted);
        const id = `t-${++this.next}`;
        const jobId = `job-${this.next}`;
        this.jobs.set(jobId, { id: jobId, action: "purge_history", resourceId: room.roomId, status: "active", timestampMs: Date.now() });
        this.peak = Math.max(this.peak, this.jobs.size);
        this.tasks.set(id, {
          id,
          kind: "purge",
          roomId: room.roomId,
          roomLabel: room.label,
          requester: wave.requester,
          managementRoomId: wave.managementRoomId,
          commandEventId: wave.commandEventId,
          homeserverTaskId: jobId,
          parameters: waveTaskParameters(wave, room),
          status: "scheduled",
          createdAt: Date.now(),
          statusChangedAt: Date.now(),
          finalNotificationSent: false,
        });
        return Promise.resolve({ kind: "sent", taskId: id, jobId });
      },
    };
  }

  running(): TaskRecord[] {
    return [...this.tasks.values()].filter((task) => task.status === "scheduled" || task.status === "active");
  }

  /** Ends every running job (complete, or failed for the rooms named). */
  async endAll(engine: WaveEngine, failing: readonly string[] = []): Promise<number> {
    const running = this.running();
    for (const task of running) {
      this.jobs.delete(task.homeserverTaskId ?? "");
      const failed = failing.includes(task.roomId);
      const ended: TaskRecord = { ...task, status: failed ? "failed" : "complete", finishedAt: Date.now(), ...(failed ? { reason: "database is locked" } : {}) };
      this.tasks.set(task.id, ended);
      await engine.taskEnded(ended);
    }
    return running.length;
  }
}

class Board implements WaveNotifier {
  posts = 0;
  moves: WaveView[] = [];
  summaries: WaveView[] = [];
  posted(): Promise<string | undefined> {
    this.posts++;
    return Promise.resolve(`$board${this.posts}`);
  }
  moved(view: WaveView): Promise<void> {
    this.moves.push(view);
    return Promise.resolve();
  }
  finished(view: WaveView): Promise<boolean> {
    this.summaries.push(view);
    return Promise.resolve(true);
  }
  mainPhaseEnded(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

function rooms(count: number): SelectedRoom[] {
  return Array.from({ length: count }, (_, index) => ({ roomId: `!r${index}:example.org`, label: `!r${index}:example.org`, joinedMembers: 3, joinedLocalMembers: 1 }));
}

let directory: string;
let database: WardenDatabase;

beforeEach(() => {
  useFakeClock(START);
  directory = freshDirectory();
  database = WardenDatabase.open(directory);
});

afterEach(() => {
  database.close();
  vi.useRealTimers();
});

function engineFor(world: World, board: Board, options: Partial<typeof DEFAULT_WAVE_OPTIONS> = {}, store = new WaveStore(database, () => Date.now())): { engine: WaveEngine; store: WaveStore } {
  const sender = world.sender();
  const engine = new WaveEngine(
    store,
    { get: (id) => world.tasks.get(id), all: () => [...world.tasks.values()], running: () => [...world.tasks.values()].filter((task) => !isFinal(task.status)) },
    { purge: sender, shutdown: sender, block: sender, unblock: sender },
    { inFlight: () => Promise.resolve(ok([...world.jobs.values()])), listsEveryStatus: () => false },
    board,
    { now: () => Date.now() },
    log,
    { ...DEFAULT_WAVE_OPTIONS, ...options },
  );
  return { engine, store };
}

async function startWave(engine: WaveEngine, count: number, kind: WaveKind = "purge", parameters: WaveRecord["parameters"] = { cutoffTs: START - 1000, deleteLocalEvents: false }): Promise<WaveRecord> {
  return engine.start({
    kind,
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    selection: { listed: [], matching: "spam" },
    parameters,
    rooms: rooms(count),
    leftOut: [{ label: "!mgmt:example.org", why: "Warden's management room" }],
  });
}

function states(store: WaveStore, id: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const room of store.rooms(id)) counts[`${room.phase}:${room.state}`] = (counts[`${room.phase}:${room.state}`] ?? 0) + 1;
  return counts;
}

describe("wave engine", () => {
  it("keep at most maxConcurrentJobs jobs with the homeserver, then finish with one summary", async () => {
    const world = new World();
    const board = new Board();
    const { engine, store } = engineFor(world, board, { maxConcurrentJobs: 2 });
    const wave = await startWave(engine, 7);

    while (store.get(wave.id)?.status !== "finished") {
      await runUntil(() => world.running().length === 2 || (world.running().length > 0 && world.sent.length === 7));
      await world.endAll(engine);
    }
    await runUntil(() => board.summaries.length === 1);

    expect(world.peak).toBe(2);
    expect(world.sent).toHaveLength(7);
    expect(states(store, wave.id)).toEqual({ "main:done": 7 });
    expect(board.posts).toBe(1);
    expect(store.get(wave.id)?.finalNotificationSent).toBe(true);
    await engine.stop();
  });

  it("count the homeserver's other heavy jobs against the limit, and not light ones", async () => {
    const world = new World();
    world.jobs.set("foreign", { id: "foreign", action: "shutdown_and_purge_room", resourceId: "!other:x", status: "active", timestampMs: START });
    world.jobs.set("light", { id: "light", action: "delete_device_messages", resourceId: "@u:x", status: "active", timestampMs: START });
    const board = new Board();
    const { engine } = engineFor(world, board, { maxConcurrentJobs: 3 });
    await startWave(engine, 5);

    await runUntil(() => world.running().length > 0);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.running()).toHaveLength(2);
    world.jobs.delete("foreign");
    await world.endAll(engine);
    await runUntil(() => world.running().length === 3);
    expect(world.running()).toHaveLength(3);
    await engine.stop();
  });

  it("retry a failed room with back-off, and count it failed after waveRetries more tries", async () => {
    const world = new World();
    const board = new Board();
    const { engine, store } = engineFor(world, board, { maxConcurrentJobs: 2, retries: 2, retryAfterMs: 10_000 });
    const wave = await startWave(engine, 2);

    for (let round = 0; round < 3; round++) {
      await runUntil(() => world.running().length > 0);
      await world.endAll(engine, ["!r1:example.org"]);
    }
    await runUntil(() => board.summaries.length === 1);

    const failed = store.room(wave.id, "main", "!r1:example.org");
    expect(failed).toMatchObject({ state: "failed", attempts: 3, reason: "database is locked" });
    expect(store.room(wave.id, "main", "!r0:example.org")).toMatchObject({ state: "done", attempts: 1 });
    expect(world.sent.filter((send) => send.roomId === "!r1:example.org").map((send) => send.attempt)).toEqual([1, 2, 3]);
    await engine.stop();
  });

  it("wait out a slow-down without counting it as a try", async () => {
    const world = new World();
    world.scripted.set("!r0:example.org", [{ kind: "slow-down", reason: "rate-limited", waitMs: 20_000 }]);
    const board = new Board();
    const { engine, store } = engineFor(world, board, { maxConcurrentJobs: 1 });
    const wave = await startWave(engine, 2);

    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(19_000);
    expect(world.sent).toHaveLength(1);
    await runUntil(() => world.running().length === 1);

    expect(store.room(wave.id, "main", "!r0:example.org")).toMatchObject({ state: "sent", attempts: 1 });
    await engine.stop();
  });

  it("mark a room with nothing to do as skipped and send nothing more for it", async () => {
    const world = new World();
    world.scripted.set("!r0:example.org", [{ kind: "skipped", reason: "nothing to purge" }]);
    const board = new Board();
    const { engine, store } = engineFor(world, board);
    const wave = await startWave(engine, 1);

    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:example.org")).toMatchObject({ state: "skipped", reason: "nothing to purge" });
    expect(world.sent).toHaveLength(1);
    await engine.stop();
  });

  it("on cancel, send no queued room, follow the sent ones to their end, then summarize", async () => {
    const world = new World();
    const board = new Board();
    const { engine, store } = engineFor(world, board, { maxConcurrentJobs: 2 });
    const wave = await startWave(engine, 6);
    await runUntil(() => world.running().length === 2);

    const cancelled = await engine.cancel(wave.id, "@mod:example.org");
    expect(cancelled.ok).toBe(true);
    expect(board.summaries).toHaveLength(0);
    await world.endAll(engine);
    await runUntil(() => board.summaries.length === 1);

    expect(world.sent).toHaveLength(2);
    expect(states(store, wave.id)).toEqual({ "main:done": 2, "main:cancelled": 4 });
    expect(store.get(wave.id)).toMatchObject({ status: "finished", cancelledBy: "@mod:example.org" });
    expect((await engine.cancel(wave.id, "@mod:example.org")).ok).toBe(false);
    await engine.stop();
  });

  it("after a restart, follow a room caught sending whose task was recorded, and send again one whose task was not", async () => {
    const world = new World();
    const board = new Board();
    const first = engineFor(world, board, { maxConcurrentJobs: 2 });
    const wave = await startWave(first.engine, 3);
    await runUntil(() => world.running().length === 2);
    await first.engine.stop();
    // As a kill would leave it: r0 marked sending with its task recorded, r1 marked sending with none.
    const r0Task = world.running().find((task) => task.roomId === "!r0:example.org");
    await first.store.updateRooms(wave.id, [
      { phase: "main", roomId: "!r0:example.org", change: { state: "sending" } },
      { phase: "main", roomId: "!r1:example.org", change: { state: "sending" } },
    ]);
    const r1Task = world.running().find((task) => task.roomId === "!r1:example.org");
    world.tasks.delete(r1Task?.id ?? "");
    world.jobs.delete(r1Task?.homeserverTaskId ?? "");

    const second = engineFor(world, board, { maxConcurrentJobs: 2 }, new WaveStore(database, () => Date.now()));
    await second.engine.resumeAll();

    expect(second.store.room(wave.id, "main", "!r0:example.org")).toMatchObject({ state: "sent", taskId: r0Task?.id });
    while (second.store.get(wave.id)?.status !== "finished") {
      await runUntil(() => world.running().length > 0);
      await world.endAll(second.engine);
    }
    expect(world.sent.filter((send) => send.roomId === "!r0:example.org")).toHaveLength(1);
    expect(world.sent.filter((send) => send.roomId === "!r1:example.org").map((send) => send.attempt)).toEqual([1, 1]);
    expect(states(second.store, wave.id)).toEqual({ "main:done": 3 });
    await second.engine.stop();
  });

  it("with purgeAfterMs, queue each shut-down room's purge for when the cooldown ends", async () => {
    const world = new World();
    const board = new Board();
    const { engine, store } = engineFor(world, board, { maxConcurrentJobs: 2 });
    const wave = await startWave(engine, 2, "shutdown", { block: true, purge: false, forcePurge: false, purgeAfterMs: 3_600_000 });

    await runUntil(() => world.running().length === 2);
    await world.endAll(engine);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(states(store, wave.id)).toEqual({ "main:done": 2, "purge:queued": 2 });
    expect(world.running()).toHaveLength(0);

    await runUntil(() => world.running().length === 2);
    expect(Date.now()).toBeGreaterThanOrEqual(START + 3_600_000);
    await world.endAll(engine);
    await runUntil(() => board.summaries.length === 1);
    expect(states(store, wave.id)).toEqual({ "main:done": 2, "purge:done": 2 });
    await engine.stop();
  });

  it("never send two jobs to one room at once, even from two waves", async () => {
    const world = new World();
    const board = new Board();
    const { engine } = engineFor(world, board, { maxConcurrentJobs: 5 });
    await startWave(engine, 1);
    await startWave(engine, 1);

    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(world.running()).toHaveLength(1);
    await world.endAll(engine);
    await runUntil(() => world.running().length === 1);
    expect(world.sent).toHaveLength(2);
    await engine.stop();
  });

  it("edit the board as the wave moves, not more often than boardEveryMs", async () => {
    const world = new World();
    const board = new Board();
    const { engine } = engineFor(world, board, { maxConcurrentJobs: 1, boardEveryMs: 3_000 });
    const wave = await startWave(engine, 4);
    const editTimes: number[] = [];
    const moved = board.moved.bind(board);
    board.moved = (view) => {
      editTimes.push(Date.now());
      return moved(view);
    };
    for (let round = 0; round < 3; round++) {
      await runUntil(() => world.running().length === 1);
      await world.endAll(engine);
    }
    await vi.advanceTimersByTimeAsync(10_000);

    expect(editTimes.length).toBeGreaterThan(0);
    for (let index = 1; index < editTimes.length; index++) expect((editTimes[index] ?? 0) - (editTimes[index - 1] ?? 0)).toBeGreaterThanOrEqual(3_000);
    expect(board.moves.at(-1)?.wave.id).toBe(wave.id);
    await engine.stop();
  });
});

export type { WaveRoom };

describe("wave engine stop", () => {
  it("wait for a summary still being sent and recorded, so the database can close after it", async () => {
    vi.useRealTimers();
    const world = new World();
    let release: (() => void) | undefined;
    const board = new Board();
    board.finished = (view) => {
      board.summaries.push(view);
      return new Promise<boolean>((resolve) => {
        release = () => {
          resolve(true);
        };
      });
    };
    const { engine, store } = engineFor(world, board);
    world.scripted.set("!r0:example.org", [{ kind: "skipped", reason: "nothing to purge" }]);
    const wave = await startWave(engine, 1);
    while (board.summaries.length === 0) await new Promise((resolve) => setImmediate(resolve));

    let stopped = false;
    const stopping = engine.stop().then(() => {
      stopped = true;
    });
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release?.();
    await stopping;

    expect(store.get(wave.id)?.finalNotificationSent).toBe(true);
  });
});
