import { describe, expect, it, vi } from "vitest";
import type { WavePhase, WaveRoom, WaveView } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { HomeserverJob } from "../../../../src/tasks/homeserverJobs.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { DEFAULT_WAVE_OPTIONS, WaveEngine } from "../../../../src/tasks/waves/engine.js";
import type { SendResult } from "../../../../src/tasks/waves/senders.js";
import { err, ok, type Result } from "../../../../src/util/result.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import { runUntil } from "../fakeTime.js";
import { Board, START, World, log, start, useEngineHarness } from "./engineHarness.js";

const { setUp, database } = useEngineHarness();

/** A board whose summaries stay in flight until the test answers them. */
class HeldSummaries extends Board {
  readonly answers: ((done: boolean) => void)[] = [];
  override finished(view: WaveView): Promise<boolean> {
    this.summaries.push({ view, at: Date.now() });
    return new Promise<boolean>((resolve) => this.answers.push(resolve));
  }
}

/** A wave store whose next read of one room fails (a database error while a hand-over is recorded). */
class FailingRead extends WaveStore {
  failNext: string | undefined;
  override room(id: string, phase: WavePhase, roomId: string): WaveRoom | undefined {
    if (roomId === this.failNext) {
      this.failNext = undefined;
      throw new Error("database is locked");
    }
    return super.room(id, phase, roomId);
  }
}

function ownTask(id: string, roomId: string, change: Partial<TaskRecord> = {}): TaskRecord {
  return { id, kind: "purge", roomId, roomLabel: roomId, requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", parameters: {}, status: "complete", createdAt: START, statusChangedAt: START, finalNotificationSent: false, ...change };
}

function heavyJob(id: string): HomeserverJob {
  return { id, action: "purge_history", resourceId: "!o:x", status: "active", timestampMs: START };
}

/** Times (ms after START) at which the homeserver's queue is read, watched until `count` reads. */
async function readTimes(world: World, count: number): Promise<number[]> {
  const times: number[] = [];
  let seen = world.inFlightCalls;
  while (times.length < count) {
    await vi.advanceTimersToNextTimerAsync();
    while (world.inFlightCalls > seen) {
      times.push(Date.now() - START);
      seen++;
    }
  }
  return times;
}

describe("wave engine queue: starting, cancelling and listing", () => {
  it("a board just posted is not edited until something about the wave changes", async () => {
    const { engine, board } = setUp({ maxConcurrentJobs: 0, boardEveryMs: 1_000 });
    await start(engine, 2);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(board.moves).toEqual([]);
  });

  it("a cancelled wave with no canceller on record is 'cancelled (by someone)'", async () => {
    const { engine, store } = setUp({ maxConcurrentJobs: 0 });
    const wave = await start(engine, 1);
    await store.update(wave.id, { status: "cancelled" });

    expect(await engine.cancel(wave.id, "@mod:x")).toEqual(err(`wave ${wave.id} is already cancelled (by someone).`));
  });

  it("a room cancelled before it was sent says who cancelled it", async () => {
    const { engine, store } = setUp({ maxConcurrentJobs: 0 });
    const wave = await start(engine, 1);
    await engine.cancel(wave.id, "@boss:x");

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "cancelled", reason: "cancelled by @boss:x before it was sent" });
  });

  it("cancelling a wave that still has a job running edits its board", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1, boardEveryMs: 1_000 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    const edits = board.moves.length;

    await engine.cancel(wave.id, "@boss:x");
    await vi.advanceTimersByTimeAsync(1_000);

    expect(board.moves.slice(edits).map((view) => view.wave.status)).toEqual(["cancelled"]);
  });

  it("a finished wave whose summary is not delivered yet is not listed as active", async () => {
    const { engine, store, board } = setUp();
    board.summaryAnswers = [false];
    const wave = await start(engine, 0);
    await runUntil(() => board.summaries.length === 1);

    expect(store.open().map((open) => open.id)).toEqual([wave.id]);
    expect(engine.active()).toEqual([]);
  });

  it("counts only rooms still waiting in the queue length, not rooms sent", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    await start(engine, 3);
    await runUntil(() => world.running().length === 1);

    expect(engine.queueLength()).toBe(2);
  });
});

describe("wave engine queue: after a restart", () => {
  async function restart(options: { maxConcurrentJobs: number }, prepare: (store: WaveStore, world: World, waveId: string) => Promise<void>): Promise<{ world: World; board: Board; store: WaveStore; engine: WaveEngine; waveId: string }> {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 0 }, false, world, new Board(), store);
    const wave = await start(first.engine, 2);
    await first.engine.stop();
    await prepare(store, world, wave.id);
    const board = new Board();
    const second = setUp(options, false, world, board, new WaveStore(database(), () => Date.now()));
    await second.engine.resumeAll();
    return { world, board, store: second.store, engine: second.engine, waveId: wave.id };
  }

  it("edits each open wave's board at once after a restart", async () => {
    const { board, waveId } = await restart({ maxConcurrentJobs: 0 }, () => Promise.resolve());
    await vi.advanceTimersByTimeAsync(1);

    expect(board.moves.map((view) => view.wave.id)).toEqual([waveId]);
  });

  it("sends the queued rooms at once after a restart", async () => {
    vi.setSystemTime(START);
    const { world } = await restart({ maxConcurrentJobs: 2 }, () => {
      vi.setSystemTime(START + 5_000);
      return Promise.resolve();
    });
    await vi.advanceTimersByTimeAsync(1);

    expect(world.sent.map((send) => [send.roomId, send.at - START])).toEqual([
      ["!r0:x", 5_000],
      ["!r1:x", 5_000],
    ]);
  });

  it("a sent room whose job still runs stays sent after a restart", async () => {
    const { store, waveId } = await restart({ maxConcurrentJobs: 0 }, async (store, world, id) => {
      world.tasks.set("running", ownTask("running", "!r0:x", { status: "active", homeserverTaskId: "job-running" }));
      await store.updateRooms(id, [{ phase: "main", roomId: "!r0:x", change: { state: "sent", taskId: "running", attempts: 1 } }]);
    });

    expect(store.room(waveId, "main", "!r0:x")).toMatchObject({ state: "sent", taskId: "running", attempts: 1 });
  });

  it("a room waiting for its retry keeps its retry time after a restart, though its failed task is still on record", async () => {
    const { store, waveId, world } = await restart({ maxConcurrentJobs: 2 }, async (store, world, id) => {
      world.tasks.set("failed", ownTask("failed", "!r0:x", { status: "failed", reason: "locked", finishedAt: START }));
      await store.updateRooms(id, [{ phase: "main", roomId: "!r0:x", change: { state: "queued", taskId: "failed", attempts: 1, notBefore: START + 15_000, reason: "try 1 failed: locked" } }]);
      vi.setSystemTime(START + 4_000);
    });

    expect(store.room(waveId, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 1, notBefore: START + 15_000, reason: "try 1 failed: locked" });
    await runUntil(() => world.sent.some((send) => send.roomId === "!r0:x"));
    expect(world.sent.find((send) => send.roomId === "!r0:x")).toMatchObject({ attempt: 2, at: START + 15_000 });
  });
});

describe("wave engine queue: stopping", () => {
  it("once stopped, leaves no timer behind and sends nothing more, even when a job ends afterwards", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    await engine.stop();
    expect(vi.getTimerCount()).toBe(0);

    await world.end(engine, "!r0:x");
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
    expect(store.room(wave.id, "main", "!r1:x")?.state).toBe("queued");
  });

  it("a stop during the read of the homeserver's queue sends nothing after it", async () => {
    const world = new World();
    const answers: ((jobs: Result<readonly HomeserverJob[], AdminError>) => void)[] = [];
    const engine = new WaveEngine(
      new WaveStore(database(), () => Date.now()),
      { get: (id) => world.tasks.get(id), all: () => [...world.tasks.values()], running: () => world.inFlightTasks() },
      { purge: world.sender(), shutdown: world.sender(), block: world.sender(), unblock: world.sender() },
      { inFlight: () => new Promise((resolve) => answers.push(resolve)), listsEveryStatus: () => false },
      new Board(),
      { now: () => Date.now() },
      log,
      DEFAULT_WAVE_OPTIONS,
    );
    await start(engine, 1);
    await runUntil(() => answers.length === 1);

    const stopped = engine.stop();
    answers[0]?.(ok([]));
    await stopped;

    expect(world.sent).toEqual([]);
  });
});

describe("wave engine queue: slots", () => {
  it("a room caught mid hand-over by a failed step stays busy, and holds its slot, until the hand-over ends", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckCeilingMs: 2_000 }, true);
    world.scripted.set("!r0:x", ["hold"]);
    // The first step hands !r0 of the block wave over, then fails unexpectedly reading the homeserver's queue for the purge wave.
    world.inFlightAnswers.push("throw");
    await start(engine, 2, "block", {});
    await start(engine, 0, "purge", {}, [
      { roomId: "!r0:x", label: "!r0:x" },
      { roomId: "!p:x", label: "!p:x" },
    ]);
    await runUntil(() => world.sent.length === 2);
    await vi.advanceTimersByTimeAsync(5_000);

    // The next step, 2 s later, sends neither the purge of !r0 nor the block wave's second room.
    expect(world.sent.map((send) => [send.roomId, send.at - START])).toEqual([
      ["!r0:x", 0],
      ["!p:x", 2_000],
    ]);
    world.held[0]?.({ kind: "done" });
  });

  it("a job room still being handed over when a step failed counts against the slots at the next read", async () => {
    const store = new FailingRead(database(), () => Date.now());
    const { engine, world } = setUp({ maxConcurrentJobs: 2, slotCheckCeilingMs: 2_000 }, false, new World(), new Board(), store);
    world.scripted.set("!r0:x", ["hold"]);
    store.failNext = "!r1:x";
    await start(engine, 3);
    await runUntil(() => world.sent.length === 2);
    await vi.advanceTimersByTimeAsync(5_000);

    // !r1's job is listed, !r0 is still being handed over: both slots are taken.
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
    world.held[0]?.({ kind: "done" });
    await runUntil(() => world.sent.length === 3);
    expect(world.sent[2]?.roomId).toBe("!r2:x");
  });

  it("a block wave hands over at most maxConcurrentJobs rooms at once, also after earlier rooms were done", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 }, true);
    world.scripted.set("!r1:x", ["hold"]);
    world.scripted.set("!r2:x", ["hold"]);
    await start(engine, 3, "block", {});
    await runUntil(() => world.held.length === 1);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
    world.held[0]?.({ kind: "done" });
    await runUntil(() => world.held.length === 2);
    world.held[1]?.({ kind: "done" });
  });

  it("a block wave's hand-overs leave the job slots free for the purge wave after it", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1 }, true);
    await start(engine, 1, "block", {});
    await runUntil(() => board.summaries.length === 1);
    await start(engine, 0, "purge", {}, [{ roomId: "!p:x", label: "!p:x" }]);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!p:x"]);
  });

  it("a block wave waiting for a slot reads ahead for the rooms next in line", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1 }, true);
    await start(engine, 3, "block", {});
    await runUntil(() => board.summaries.length === 1);

    expect(world.prepared).toContain("!r1:x");
    expect(world.prepared).toContain("!r2:x");
  });

  it("reads ahead for two rounds of slots: twice maxConcurrentJobs rooms", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    await start(engine, 8);
    await runUntil(() => world.running().length === 2);
    await runUntil(() => world.prepared.length >= 6);
    await vi.advanceTimersByTimeAsync(1_000);

    // The two sent read ahead while the queue was read; then the two rounds past them.
    expect(world.prepared.slice(0, 6)).toEqual(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]);
    expect(new Set(world.prepared)).toEqual(new Set(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]));
  });

  it("a wave whose rooms were all sent does not slow the slot checks of the next wave that waits", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 100, slotCheckCeilingMs: 60_000 });
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 1_000);
    await start(engine, 0, "purge", {}, [{ roomId: "!q:x", label: "!q:x" }]);

    expect(await readTimes(world, 3)).toEqual([1_000, 1_100, 1_250]);
  });

  it("a slot seen free resets the slot checks' back-off", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 100, slotCheckCeilingMs: 60_000 });
    world.jobs.set("other", heavyJob("other"));
    await start(engine, 2);
    expect(await readTimes(world, 5)).toEqual([0, 100, 250, 475, 813]);
    world.jobs.delete("other");

    // The read at 1 320 ms finds the slot free and sends !r0; with no slot left for !r1 it looks again 100 ms later, then 150 ms.
    expect(await readTimes(world, 3)).toEqual([1_320, 1_420, 1_570]);
    expect(world.sent.map((send) => [send.roomId, send.at - START])).toEqual([["!r0:x", 1_320]]);
  });

  it("a job the homeserver lists is counted once, also when it was sent in the same moment as the read", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const first = await start(engine, 1);
    await runUntil(() => store.room(first.id, "main", "!r0:x")?.state === "sent");
    await start(engine, 0, "purge", {}, [{ roomId: "!q:x", label: "!q:x" }]);
    await runUntil(() => world.sent.length === 2);

    expect(world.sent.map((send) => [send.roomId, send.at - START])).toEqual([
      ["!r0:x", 0],
      ["!q:x", 0],
    ]);
  });

  it("a job of Warden's the homeserver does not list counts at every read until its end is recorded", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    world.jobs.clear();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(world.sent).toHaveLength(1);

    await world.end(engine, "!r0:x");
    await runUntil(() => world.sent.length === 2);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
  });

  it("a job's slot is freed by the record of its end, whatever the clock does", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1 });
    const first = await start(engine, 1);
    await runUntil(() => store.room(first.id, "main", "!r0:x")?.state === "sent");
    vi.setSystemTime(START + 1_000);
    // !r0's job ended on the homeserver (the tracker has not said so yet); someone else's job is listed.
    world.jobs.clear();
    world.jobs.set("other", heavyJob("other"));
    const reads = world.inFlightCalls;
    await start(engine, 0, "purge", {}, [{ roomId: "!q:x", label: "!q:x" }]);
    await runUntil(() => world.inFlightCalls > reads);

    vi.setSystemTime(START - 10_000);
    world.jobs.delete("other");
    await world.end(engine, "!r0:x");
    await runUntil(() => world.sent.length === 2);

    expect(world.sent[1]).toMatchObject({ roomId: "!q:x", at: START - 10_000 });
  });
});

describe("wave engine queue: hand-overs", () => {
  it("estimates the time left from the first hand-over, not the latest", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 3);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 10_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 20_000);

    // One room ended in the 20 s since the first was sent; two are left.
    expect(engine.view(wave.id)?.remainingMs).toBe(40_000);
  });

  it("a room put back after an unexpected error says why it waits", async () => {
    const { engine, world, store } = setUp({ slowDownMs: 5_000 });
    world.scripted.set("!r0:x", ["throw"]);
    const wave = await start(engine, 1);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 0, reason: "waiting: an unexpected error (see Warden's log)" });
  });

  it("a slow-down on a retry puts the room back with its earlier tries still counted, saying why it waits", async () => {
    const { engine, world, store } = setUp({ retryAfterMs: 1_000, slowDownMs: 5_000 });
    world.scripted.set("!r0:x", [
      { kind: "failed", reason: "locked", retry: true },
      { kind: "slow-down", reason: "busy" },
    ]);
    const wave = await start(engine, 1);
    await runUntil(() => world.sent.length === 2);
    await vi.advanceTimersByTimeAsync(1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 1, reason: "waiting: busy" });
  });

  it("a retry that ends in a slow-down after the wave was cancelled is cancelled with its earlier tries counted", async () => {
    const { engine, world, store, board } = setUp({ retryAfterMs: 1_000 });
    const slowDown: SendResult = { kind: "slow-down", reason: "rate-limited" };
    world.scripted.set("!r0:x", [{ kind: "failed", reason: "locked", retry: true }, "hold"]);
    const wave = await start(engine, 1);
    await runUntil(() => world.held.length === 1);
    await engine.cancel(wave.id, "@mod:x");
    world.held[0]?.(slowDown);
    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "cancelled", attempts: 1, reason: "the wave was cancelled before this room could be sent" });
  });

  it("a room that fails after its wave was cancelled fails for good, and the wave finishes", async () => {
    const { engine, world, store, board } = setUp({ retries: 2 });
    world.scripted.set("!r0:x", ["hold"]);
    const wave = await start(engine, 1);
    await runUntil(() => world.held.length === 1);
    await engine.cancel(wave.id, "@mod:x");
    world.held[0]?.({ kind: "failed", reason: "locked", retry: true });
    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", attempts: 1, reason: "locked" });
    expect(store.get(wave.id)?.status).toBe("finished");
  });

  it("a queued room of a wave that is no longer running is not sent", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    // A room left queued in a cancelled wave (a retry recorded as the cancel was being recorded).
    await store.update(wave.id, { status: "cancelled", cancelledBy: "@mod:x" });
    await world.end(engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(60_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
  });
});

describe("wave engine queue: summaries", () => {
  it("a summary refused during a step is tried again 2 s later", async () => {
    const { engine, world, board } = setUp({ boardEveryMs: 60_000 });
    board.summaryAnswers = [false];
    world.scripted.set("!r0:x", [{ kind: "done" }]);
    await start(engine, 1);
    await runUntil(() => board.summaries.length === 2);

    expect(board.summaries.map((summary) => summary.at - START)).toEqual([0, 2_000]);
  });

  it("a summary still in flight does not make the engine look again at once", async () => {
    const board = new HeldSummaries();
    const { engine, world } = setUp({ maxConcurrentJobs: 0, slotCheckMs: 100, slotCheckCeilingMs: 60_000 }, false, new World(), board);
    await start(engine, 0);
    expect(board.summaries).toHaveLength(1);
    await start(engine, 1);

    expect(await readTimes(world, 4)).toEqual([0, 100, 250, 475]);
    board.answers[0]?.(true);
  });
});

describe("wave engine queue: a pass over a large wave", () => {
  it("copies none of the wave's rooms: a pass runs at each job's end", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2, boardEveryMs: 3_600_000 });
    await start(engine, 3_000);
    await runUntil(() => world.sent.length === 2);
    const copies = vi.spyOn(store, "rooms");
    for (const [index, roomId] of ["!r0:x", "!r1:x", "!r2:x", "!r3:x"].entries()) {
      await world.end(engine, roomId);
      await runUntil(() => world.sent.length === 3 + index);
    }

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]);
    expect(copies).not.toHaveBeenCalled();
  });

  it("still reads ahead twice maxConcurrentJobs rooms past those it sends", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    await start(engine, 100);
    await runUntil(() => world.sent.length === 2 && world.prepared.length >= 6);
    await vi.advanceTimersByTimeAsync(1_000);

    expect(world.prepared.slice(0, 6)).toEqual(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]);
    expect(new Set(world.prepared)).toEqual(new Set(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]));
  });

  it("sends a block wave's rooms while a purge wave started first has more rooms waiting for a slot than a pass lists", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 }, true);
    await start(engine, 50);
    await runUntil(() => world.sent.length === 1);
    await start(engine, 0, "block", {}, [
      { roomId: "!b0:x", label: "!b0:x" },
      { roomId: "!b1:x", label: "!b1:x" },
    ]);
    await runUntil(() => world.sent.length === 3);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!b0:x", "!b1:x"]);
  });
});

describe("wave engine queue: the first rooms of a pass", () => {
  it("read ahead while the homeserver's queue is read, as many as there are slots", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.holdInFlight = true;
    await start(engine, 6);
    await runUntil(() => world.heldInFlight() === 1);

    expect(world.prepared).toEqual(["!r0:x", "!r1:x"]);
    expect(world.sent).toEqual([]);
    world.releaseInFlight();
    await runUntil(() => world.sent.length === 2);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
  });
});

describe("wave engine queue: what a pass reads of a large wave", () => {
  it("reads only the rooms it can use: none of those done, and of those queued only as many as it lists", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2, boardEveryMs: 3_600_000 });
    await start(engine, 3_000);
    await runUntil(() => world.sent.length === 2);
    let read = 0;
    function* counted(rooms: Iterable<WaveRoom>): Generator<WaveRoom, void, undefined> {
      for (const room of rooms) {
        read++;
        yield room;
      }
    }
    const queued = store.eachQueued.bind(store);
    const waiting = store.eachWaiting.bind(store);
    const busy = store.eachBusy.bind(store);
    vi.spyOn(store, "eachQueued").mockImplementation((id: string, phase: WavePhase) => counted(queued(id, phase)));
    vi.spyOn(store, "eachWaiting").mockImplementation((id: string) => counted(waiting(id)));
    vi.spyOn(store, "eachBusy").mockImplementation((id: string) => counted(busy(id)));
    for (const [index, roomId] of ["!r0:x", "!r1:x", "!r2:x", "!r3:x"].entries()) {
      await world.end(engine, roomId);
      await runUntil(() => world.sent.length === 3 + index);
    }

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x", "!r2:x", "!r3:x", "!r4:x", "!r5:x"]);
    // A pass lists 3 × 2 + 1 queued rooms and reads the two in flight; a walk of the queue to its
    // end would read about 3,000 a pass.
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(200);
  });
});
