import { describe, expect, it, vi } from "vitest";
import type { WaveRoom, WaveView } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { runUntil } from "../fakeTime.js";
import { Board, START, World, start, useEngineHarness, type Setup } from "./engineHarness.js";

const { setUp, database } = useEngineHarness();

/** A second engine over the same database and world, as after a restart; resumed. */
async function restart(world: World, board = new Board(), maxConcurrentJobs = 0): Promise<Setup> {
  const second = setUp({ maxConcurrentJobs }, false, world, board, new WaveStore(database(), () => Date.now()));
  await second.engine.resumeAll();
  return second;
}

/** Records a task for a room's job as the launcher would have, before a restart. */
function recordTask(world: World, store: WaveStore, waveId: string, phase: WaveRoom["phase"], roomId: string, attempt: number, change: Partial<TaskRecord> = {}): TaskRecord {
  const wave = store.get(waveId);
  const room = store.room(waveId, "main", roomId);
  if (wave === undefined || room === undefined) throw new Error("no such wave room");
  const sent = world.startJob(wave, { ...room, phase, attempts: attempt });
  if (sent.kind !== "sent") throw new Error("not sent");
  const task = { ...(world.tasks.get(sent.taskId) as TaskRecord), ...change };
  world.tasks.set(task.id, task);
  return task;
}

/** Steps the fake clock until `until`, noting when the homeserver's queue was read (from the start). */
async function readsUntil(world: World, until: number): Promise<number[]> {
  const reads: number[] = [];
  let seen = world.inFlightCalls;
  while (Date.now() < until) {
    await vi.advanceTimersToNextTimerAsync();
    for (; seen < world.inFlightCalls; seen++) reads.push(Date.now() - START);
  }
  return reads;
}

/** When each edit of the board happened, from the start, with the rooms' states it showed. */
function edits(moves: readonly WaveView[]): [number, string[]][] {
  return moves.map((view) => [view.now - START, view.rooms.map((room) => `${room.phase}:${room.state}`)]);
}

describe("wave engine: how a room's job ended (more)", () => {
  it("a purge whose reason only mentions 'nothing to purge' further on fails the room: only a reason starting with it skips", async () => {
    const { engine, world, store } = setUp({ retries: 0 });
    const wave = await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x", { status: "failed", reason: "the worker said: nothing to purge, then crashed" });

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", reason: "the worker said: nothing to purge, then crashed" });
  });

  it("a task that ends marks the board for an edit, which shows the room done", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 2, boardEveryMs: 1_000 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(edits(board.moves)).toEqual([[1_000, ["main:sent", "main:sent"]]]);

    await world.end(engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(edits(board.moves)).toEqual([
      [1_000, ["main:sent", "main:sent"]],
      [5_000, ["main:done", "main:sent"]],
    ]);
  });
});

describe("wave engine: the purge phase of a shutdown", () => {
  it("a purge wave gets no purge phase, even with purgeAfterMs among its parameters", async () => {
    const { engine, world, store } = setUp();
    const wave = await start(engine, 1, "purge", { purgeAfterMs: 1_000 });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(10_000);

    expect(store.rooms(wave.id).map((room) => `${room.phase}:${room.state}`)).toEqual(["main:done"]);
    expect(world.sent).toHaveLength(1);
  });

  it("a purge wave with purgeAfterMs among its parameters finishes when its rooms end: it owes no purge phase", async () => {
    const { engine, world, store, board } = setUp();
    const wave = await start(engine, 1, "purge", { purgeAfterMs: 1_000 });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(10_000);

    expect(store.get(wave.id)?.status).toBe("finished");
    expect(board.summaries).toHaveLength(1);
  });

  it("a cancelled shutdown queues no purge phase for a room that ends after the cancel, and finishes", async () => {
    const { engine, world, store, board } = setUp();
    const wave = await start(engine, 1, "shutdown", { purgeAfterMs: 60_000 });
    await runUntil(() => world.running().length === 1);
    await engine.cancel(wave.id, "@mod:x");
    await world.end(engine, "!r0:x");
    await runUntil(() => board.summaries.length === 1, 3_600_000);

    expect(store.rooms(wave.id).map((room) => `${room.phase}:${room.state}`)).toEqual(["main:done"]);
    expect(store.get(wave.id)).toMatchObject({ status: "finished", finishedAt: START });
  });

  it("a shutdown with purgeAfterMs whose rooms all failed owes no purge phase: it finishes", async () => {
    const { engine, world, store, board } = setUp({ retries: 0 });
    const wave = await start(engine, 1, "shutdown", { purgeAfterMs: 60_000 });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x", { status: "failed", reason: "forbidden" });
    await runUntil(() => board.summaries.length === 1, 3_600_000);

    expect(store.rooms(wave.id).map((room) => `${room.phase}:${room.state}`)).toEqual(["main:failed"]);
    expect(store.get(wave.id)).toMatchObject({ status: "finished", finishedAt: START });
  });

  it("the purge phase keeps the room's name", async () => {
    const { engine, world, store } = setUp();
    const wave = await start(engine, 0, "shutdown", { purgeAfterMs: 60_000 }, [{ roomId: "!s:x", label: "#s:x", name: "Spam" }]);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!s:x");

    expect(store.room(wave.id, "purge", "!s:x")).toEqual({ waveId: wave.id, roomId: "!s:x", phase: "purge", label: "#s:x", name: "Spam", state: "queued", attempts: 0, notBefore: START + 60_000 });
  });
});

describe("wave engine: rooms caught sending by a restart", () => {
  it("a room is not matched with another wave's task for the same room and attempt: it is queued again, untried and unfinished", async () => {
    const world = new World();
    const first = setUp({ maxConcurrentJobs: 0 }, false, world);
    const other = await start(first.engine, 1);
    const wave = await start(first.engine, 1);
    await first.engine.stop();
    const othersTask = recordTask(world, first.store, other.id, "main", "!r0:x", 1);
    await first.store.updateRooms(other.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sent", taskId: othersTask.id, attempts: 1 } }]);
    await first.store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending", attempts: 1 } }]);

    const second = await restart(world);

    const room = second.store.room(wave.id, "main", "!r0:x");
    expect(room).toMatchObject({ state: "queued", attempts: 0 });
    expect(room?.taskId).toBeUndefined();
    expect(room?.finishedAt).toBeUndefined();
  });

  it("a purge phase caught sending is not matched with the task of the room's shutdown", async () => {
    const world = new World();
    const first = setUp({ maxConcurrentJobs: 0 }, false, world);
    const wave = await start(first.engine, 1, "shutdown", { purgeAfterMs: 60_000 });
    await first.engine.stop();
    const shutdownTask = recordTask(world, first.store, wave.id, "main", "!r0:x", 1, { status: "complete", finishedAt: START });
    await first.store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "done", taskId: shutdownTask.id, attempts: 1, finishedAt: START } }]);
    await first.store.addRooms(wave.id, [{ waveId: wave.id, roomId: "!r0:x", phase: "purge", label: "#r0:x", state: "sending", attempts: 1 }]);

    const second = await restart(world);

    expect(second.store.room(wave.id, "purge", "!r0:x")).toMatchObject({ state: "queued", attempts: 0 });
    expect(second.store.room(wave.id, "purge", "!r0:x")?.taskId).toBeUndefined();
  });

  it("a retry caught sending is not matched with the earlier try's task: it is queued again with the earlier tries counted", async () => {
    const world = new World();
    const first = setUp({ maxConcurrentJobs: 0 }, false, world);
    const wave = await start(first.engine, 1);
    await first.engine.stop();
    const firstTry = recordTask(world, first.store, wave.id, "main", "!r0:x", 1, { status: "failed", reason: "locked", finishedAt: START });
    await first.store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending", taskId: firstTry.id, attempts: 2 } }]);

    const second = await restart(world);

    expect(second.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 1 });
    expect(second.store.room(wave.id, "main", "!r0:x")?.notBefore).toBeUndefined();
  });
});

describe("wave engine: summaries (more)", () => {
  it("after a restart, a finished wave's undelivered summary is sent at once", async () => {
    const world = new World();
    const board = new Board();
    board.summaryAnswers = [false];
    const first = setUp({}, false, world, board);
    const wave = await start(first.engine, 0);
    await first.engine.stop();
    expect(first.store.get(wave.id)).toMatchObject({ status: "finished", finalNotificationSent: false });

    const again = new Board();
    const second = await restart(world, again);
    await vi.advanceTimersByTimeAsync(1);

    expect(again.summaries.map((summary) => [summary.view.wave.id, summary.at - START])).toEqual([[wave.id, 0]]);
    expect(second.store.get(wave.id)?.finalNotificationSent).toBe(true);
  });

  it("a summary whose sending failed is tried again after summaryRetryMs, also when nothing else is going on", async () => {
    const { engine, board, store } = setUp({ summaryRetryMs: 30_000 });
    board.summaryAnswers = ["throw"];
    const wave = await start(engine, 0);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(board.summaries.map((summary) => summary.at - START)).toEqual([0, 30_000]);
    expect(store.get(wave.id)?.finalNotificationSent).toBe(true);
  });

  it("the summary's view of the finished wave has no estimate of time left", async () => {
    const { engine, world, board } = setUp();
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 10_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => board.summaries.length === 1);

    expect(board.summaries[0]?.view.wave.status).toBe("finished");
    expect(board.summaries[0]?.view.remainingMs).toBeUndefined();
  });
});

describe("wave engine: a wave that ends", () => {
  it("leaves nothing that wakes the engine: another wave's waiting room is looked at every slotCheckCeilingMs, no more", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 100, slotCheckCeilingMs: 300, boardEveryMs: 1_000 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    await readsUntil(world, START + 1_050);
    expect(Date.now()).toBe(START + 1_300);
    const other = await start(engine, 0, "purge", {}, [{ roomId: "!o:x", label: "!o:x" }]);
    expect(await readsUntil(world, START + 1_500)).toEqual([1_300, 1_600]);

    // Cancelled while its room waits: it finishes and is summarized at once.
    await engine.cancel(other.id, "@mod:x");
    expect(await readsUntil(world, START + 4_000)).toEqual([1_900, 2_200, 2_500, 2_800, 3_100, 3_400, 3_700, 4_000]);
    expect(board.summaries.map((summary) => [summary.view.wave.id, summary.at - START])).toEqual([[other.id, 1_600]]);
  });

  it("is summarized once when it is cancelled while its last room's task ends", async () => {
    const { engine, world, board, store } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    const cancelling = engine.cancel(wave.id, "@mod:x");
    const ending = world.end(engine, "!r0:x");
    await Promise.all([cancelling, ending]);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(board.summaries.map((summary) => summary.at - START)).toEqual([0]);
    expect(store.get(wave.id)).toMatchObject({ status: "finished", finalNotificationSent: true });
  });
});

describe("wave engine: the board (more)", () => {
  it("the board is edited only when something changed, however often the engine looks", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1, boardEveryMs: 1_000, slotCheckMs: 100, slotCheckCeilingMs: 300 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(world.inFlightCalls).toBeGreaterThan(20);
    expect(edits(board.moves)).toEqual([[1_000, ["main:sent", "main:queued"]]]);
  });

  it("a finished wave's board is not edited while its summary waits for another try: the summary edits it", async () => {
    const { engine, world, board } = setUp({ boardEveryMs: 1_000 });
    board.summaryAnswers = [false];
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => board.summaries.length === 2);

    expect(edits(board.moves)).toEqual([[1_000, ["main:sent"]]]);
    expect(board.summaries.map((summary) => summary.at - START)).toEqual([5_000, 7_000]);
  });

  it("a room sent while its wave's board is still being posted shows on the board's next edit", async () => {
    const { engine, world, board, store } = setUp({ maxConcurrentJobs: 1, boardEveryMs: 1_000 });
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    // The second wave's board post hangs; its room is stored and waits for the slot.
    let post: ((eventId: string | undefined) => void) | undefined;
    board.posted = () => {
      board.posts++;
      return new Promise<string | undefined>((resolve) => {
        post = resolve;
      });
    };
    const starting = start(engine, 1, "purge", undefined, [{ roomId: "!b0:x", label: "#b0:x" }]);
    await runUntil(() => post !== undefined);
    // The first wave's room ends: the slot goes to the second wave's room while its post is on its way.
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);
    post?.("$second");
    const second = await starting;
    await vi.advanceTimersByTimeAsync(5_000);

    expect(store.room(second.id, "main", "!b0:x")?.state).toBe("sent");
    // An edit asked for before the post has no message to edit (the chat notifier drops it): only
    // edits of the posted board reach the room, and the post itself showed the room queued.
    const shown = board.moves.filter((view) => view.wave.id === second.id && view.wave.boardEventId === "$second");
    expect(edits(shown).map(([, states]) => states)).toEqual([["main:sent"]]);
  });

  it("stop() waits for a board edit still under way", async () => {
    const { engine, world, board } = setUp({ boardEveryMs: 1_000 });
    let release: (() => void) | undefined;
    board.moved = (view) => {
      board.moves.push(view);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    await runUntil(() => board.moves.length === 1);

    let stopped = false;
    const stopping = engine.stop().then(() => {
      stopped = true;
    });
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release?.();
    await stopping;
    expect(stopped).toBe(true);
  });

  it("a second edit waits until the one under way is done, however long it takes", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 2, boardEveryMs: 1_000 });
    const releases: (() => void)[] = [];
    board.moved = (view) => {
      board.moves.push(view);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    await start(engine, 2);
    await runUntil(() => world.running().length === 2);
    await runUntil(() => board.moves.length === 1);
    await world.end(engine, "!r0:x");
    // Bounded: a board edit in flight for longer than boardEveryMs must not start a second one.
    for (let step = 0; step < 30; step++) await vi.advanceTimersToNextTimerAsync();
    expect(board.moves).toHaveLength(1);

    releases[0]?.();
    for (let step = 0; step < 30 && board.moves.length < 2; step++) await vi.advanceTimersToNextTimerAsync();
    releases[1]?.();
    expect(edits(board.moves)).toEqual([
      [1_000, ["main:sent", "main:sent"]],
      [2_000, ["main:done", "main:sent"]],
    ]);
  });
});

describe("wave engine: the estimate of time left (more)", () => {
  it("has no estimate in the millisecond of the first send, and counts a room that ended in that millisecond", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.scripted.set("!r0:x", [{ kind: "done" }]);
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    expect(engine.view(wave.id)?.rooms.map((room) => room.state)).toEqual(["done", "sent"]);
    expect(engine.view(wave.id)?.remainingMs).toBeUndefined();

    vi.setSystemTime(START + 10_000);
    expect(engine.view(wave.id)?.remainingMs).toBe(10_000);
  });

  it("counts failed and skipped rooms as ended, and divides by all that ended", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 3, retries: 0 });
    const wave = await start(engine, 3);
    await runUntil(() => world.running().length === 3);
    vi.setSystemTime(START + 10_000);
    await world.end(engine, "!r0:x", { status: "failed", reason: "forbidden" });
    // One ended in 10 s, two left.
    expect(engine.view(wave.id)?.remainingMs).toBe(20_000);
    vi.setSystemTime(START + 20_000);
    await world.end(engine, "!r1:x", { status: "failed", reason: "nothing to purge" });
    // Two ended in 20 s, one left.
    expect(engine.view(wave.id)?.rooms.map((room) => room.state)).toEqual(["failed", "skipped", "sent"]);
    expect(engine.view(wave.id)?.remainingMs).toBe(10_000);
  });

  it("does not count cancelled rooms as left", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 3);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 10_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);
    await engine.cancel(wave.id, "@mod:x");
    vi.setSystemTime(START + 20_000);

    expect(engine.view(wave.id)?.rooms.map((room) => room.state)).toEqual(["done", "sent", "cancelled"]);
    // One ended in 20 s, one left.
    expect(engine.view(wave.id)?.remainingMs).toBe(20_000);
  });

  it("counts a main room waiting for its retry as left, not as a cooldown", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2, retries: 1, retryAfterMs: 60_000 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 2);
    vi.setSystemTime(START + 10_000);
    await world.end(engine, "!r0:x");
    await world.end(engine, "!r1:x", { status: "failed", reason: "locked" });

    expect(store.room(wave.id, "main", "!r1:x")).toMatchObject({ state: "queued", notBefore: START + 70_000 });
    // One ended in 10 s, one left.
    expect(engine.view(wave.id)?.remainingMs).toBe(10_000);
  });

  it("after a restart, rooms that ended before it do not count toward the pace", async () => {
    const world = new World();
    const first = setUp({ maxConcurrentJobs: 0 }, false, world);
    const wave = await start(first.engine, 2);
    await first.engine.stop();
    await first.store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "done", attempts: 1, finishedAt: START + 100 } }]);
    vi.setSystemTime(START + 1_000);

    const second = await restart(world, new Board(), 1);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 11_000);

    expect(second.engine.view(wave.id)?.rooms.map((room) => room.state)).toEqual(["done", "sent"]);
    expect(second.engine.view(wave.id)?.remainingMs).toBeUndefined();
  });
});

describe("wave engine: found by the mutation run", () => {
  it("while a board edit takes longer than boardEveryMs and the board changed again, the engine does not look again and again in the same millisecond", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1, boardEveryMs: 1_000, slotCheckMs: 100, slotCheckCeilingMs: 300 });
    const releases: (() => void)[] = [];
    board.moved = (view) => {
      board.moves.push(view);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    await start(engine, 3);
    await runUntil(() => board.moves.length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);
    // The edit at 1 s is still under way; !r1 was sent since (the board is dirty again) and !r2 waits for a slot.
    const reads: number[] = [];
    let seen = world.inFlightCalls;
    for (let step = 0; step < 50; step++) {
      await vi.advanceTimersToNextTimerAsync();
      for (; seen < world.inFlightCalls; seen++) reads.push(Date.now() - START);
    }
    for (const release of releases) release();
    const atOnce = Math.max(...reads.map((at) => reads.filter((other) => other === at).length));
    expect(atOnce).toBeLessThanOrEqual(2);
  });

  it("a cancel that crosses the last room's end does not turn a finished wave back to cancelled: the summary shows it finished", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 1 });
    const wave = await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    const ending = world.end(engine, "!r0:x");
    const cancelling = engine.cancel(wave.id, "@mod:x");
    await Promise.all([ending, cancelling]);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(board.summaries.map((summary) => summary.view.wave.status)).toEqual(["finished"]);
  });
});
