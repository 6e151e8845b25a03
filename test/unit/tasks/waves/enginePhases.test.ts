import { describe, expect, it, vi } from "vitest";
import type { WaveRecord } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { PreviousPhase } from "../../../../src/tasks/waves/leaveSeen.js";
import { Board, START, World, rooms, start, useEngineHarness } from "./engineHarness.js";
import { runUntil } from "../fakeTime.js";

const { setUp, database } = useEngineHarness();

const DAY = 86_400_000;
const MEMBERS_SEEN = { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY };

/** A single-room !shutdown with a purge phase: a wave without a board. */
function single(engine: Parameters<typeof start>[0], parameters: WaveRecord["parameters"] = MEMBERS_SEEN): Promise<WaveRecord> {
  return engine.start({
    kind: "shutdown",
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: "$single",
    selection: { listed: ["#spam:x"] },
    parameters,
    rooms: rooms(1),
    leftOut: [],
    board: false,
  });
}

describe("wave engine: a shutdown's purge waits for its members' clients", () => {
  it("queues each room's purge phase when its shutdown ends, and asks the gate, with the shutdown's task and end, before sending it", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const asked: { roomId: string; previous: PreviousPhase }[] = [];
    world.gate = (_wave, room, previous) => {
      asked.push({ roomId: room.roomId, previous });
      return Promise.resolve({ ready: false, until: Date.now() + 10_000, reason: "waiting for the clients of 1 of 2 kicked members to see that they left" });
    };
    const wave = await start(engine, 1, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(5_000);
    const ended = await world.end(engine, "!r0:x");
    await runUntil(() => asked.length === 1);

    expect(asked[0]).toEqual({ roomId: "!r0:x", previous: { task: ended, endedAt: START + 5_000 } });
    expect(store.room(wave.id, "purge", "!r0:x")).toMatchObject({
      state: "queued",
      attempts: 0,
      notBefore: START + 15_000,
      reason: "waiting for the clients of 1 of 2 kicked members to see that they left",
    });
    expect(world.sent.filter((send) => send.phase === "purge")).toEqual([]);

    // Asked again when its look comes, and sent once the gate lets it go, with why.
    world.gate = () => Promise.resolve({ ready: true, reason: "purged once every kicked member's recently active clients had been seen after the shutdown" });
    await runUntil(() => world.sent.some((send) => send.phase === "purge"));
    expect(world.sent.find((send) => send.phase === "purge")?.at).toBe(START + 15_000);
    expect(store.room(wave.id, "purge", "!r0:x")).toMatchObject({ state: "sent", attempts: 1, reason: "purged once every kicked member's recently active clients had been seen after the shutdown" });
  });

  it("a room waiting at its gate takes no job slot: another wave's rooms go meanwhile", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    await start(engine, 1, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await start(engine, 0, "purge", { cutoffTs: START, deleteLocalEvents: false }, [{ roomId: "!other:x", label: "!other:x" }]);

    await runUntil(() => world.sent.some((send) => send.roomId === "!other:x"));
  });

  it("tells the requester once when the main phase ended and the purge phase is still to come, and not again after a restart", async () => {
    const world = new World();
    const board = new Board();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 2 }, false, world, board, store);
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    const wave = await start(first.engine, 2, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 2);
    await world.end(first.engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(board.mainPhases).toEqual([]);

    await world.end(first.engine, "!r1:x");
    await runUntil(() => board.mainPhases.length === 1);
    await runUntil(() => store.get(wave.id)?.mainPhaseNotified === true);
    expect(board.mainPhases[0]?.view.rooms.filter((room) => room.phase === "main").map((room) => room.state)).toEqual(["done", "done"]);
    // The last room's purge phase is queued before the message is made: it counts both.
    expect(board.mainPhases[0]?.view.rooms.filter((room) => room.phase === "purge").map((room) => room.roomId)).toEqual(["!r0:x", "!r1:x"]);
    expect(board.summaries).toEqual([]);
    await first.engine.stop();

    const second = setUp({ maxConcurrentJobs: 2 }, false, world, board, new WaveStore(database(), () => Date.now()));
    await second.engine.resumeAll();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(board.mainPhases).toHaveLength(1);
  });

  it("a purge phase waiting for its members survives a restart: asked again after it, then sent", async () => {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 2 }, false, world, new Board(), store);
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + 60_000, reason: "waiting for the clients of 1 of 1 kicked member to see that they left" });
    const wave = await single(first.engine);
    await runUntil(() => world.running().length === 1);
    await world.end(first.engine, "!r0:x");
    await runUntil(() => store.room(wave.id, "purge", "!r0:x")?.notBefore !== undefined);
    await first.engine.stop();

    const asked: number[] = [];
    world.gate = () => {
      asked.push(Date.now());
      return Promise.resolve({ ready: true, reason: "purged once every kicked member's recently active clients had been seen after the shutdown" });
    };
    const second = setUp({ maxConcurrentJobs: 2 }, false, world, new Board(), new WaveStore(database(), () => Date.now()));
    await second.engine.resumeAll();
    await runUntil(() => world.sent.some((send) => send.phase === "purge"));

    expect(asked).toHaveLength(1);
    expect(second.store.room(wave.id, "purge", "!r0:x")).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("an undelivered main-phase message is tried again, and dropped once the wave finished", async () => {
    const { engine, world, board, store } = setUp({ maxConcurrentJobs: 2, summaryRetryMs: 30_000 });
    board.mainPhaseAnswers = [false];
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    const wave = await start(engine, 1, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => board.mainPhases.length === 2);

    const first = board.mainPhases[0]?.at ?? 0;
    expect(board.mainPhases.map((message) => message.at - first)).toEqual([0, 2_000]);
    expect(store.get(wave.id)?.mainPhaseNotified).toBe(true);
  });

  it("a main-phase message not delivered yet is dropped once the wave finished: the summary tells it", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 2, summaryRetryMs: 30_000 });
    board.mainPhaseAnswers = [false];
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    const wave = await start(engine, 1, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => board.mainPhases.length === 1);

    await engine.cancel(wave.id, "@mod:x");
    await runUntil(() => board.summaries.length === 1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(board.mainPhases).toHaveLength(1);
  });

  it("a cancel drops the purge phase still waiting: the wave finishes with its summary", async () => {
    const { engine, world, board, store } = setUp({ maxConcurrentJobs: 2 });
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    const wave = await start(engine, 1, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => store.room(wave.id, "purge", "!r0:x")?.notBefore !== undefined);

    await engine.cancel(wave.id, "@mod:x");
    await runUntil(() => board.summaries.length === 1);
    expect(store.room(wave.id, "purge", "!r0:x")?.state).toBe("cancelled");
    expect(world.sent.filter((send) => send.phase === "purge")).toEqual([]);
  });
});

describe("wave engine: a single command's wave (no board)", () => {
  it("posts no board and no main-phase message; its room goes out at once, whatever the slots", async () => {
    const { engine, world, board, store } = setUp({ maxConcurrentJobs: 1 });
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting" });
    world.jobs.set("other", { id: "other", action: "purge_history", resourceId: "!o:x", status: "active", timestampMs: START });
    const reads = world.inFlightCalls;
    const wave = await single(engine);

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]).toMatchObject({ roomId: "!r0:x", at: START });
    expect(world.inFlightCalls).toBe(reads);
    expect(board.posts).toBe(0);
    expect(wave.board).toBe(false);

    await world.end(engine, "!r0:x");
    await runUntil(() => store.room(wave.id, "purge", "!r0:x")?.notBefore !== undefined);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(board.mainPhases).toEqual([]);
    expect(board.moves).toEqual([]);
  });

  it("its room is handed over before any timer runs: a second command of the room, checked right after, finds its task", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    // The queue's pass is busy reading the homeserver for another wave.
    world.holdInFlight = true;
    await start(engine, 0, "purge", { cutoffTs: START, deleteLocalEvents: false }, [{ roomId: "!other:x", label: "!other:x" }]);
    await runUntil(() => world.heldInFlight() === 1);

    await single(engine);
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
    expect(world.running().map((task) => task.roomId)).toEqual(["!r0:x"]);
    world.releaseInFlight();
  });

  it("its room goes out while the waves slow down for the homeserver", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.scripted.set("!slow:x", [{ kind: "slow-down", reason: "rate-limited", waitMs: 60_000 }]);
    await start(engine, 0, "purge", { cutoffTs: START, deleteLocalEvents: false }, [{ roomId: "!slow:x", label: "!slow:x" }]);
    await runUntil(() => world.sent.length === 1);

    vi.setSystemTime(START + 1_000);
    await single(engine);
    await runUntil(() => world.sent.length === 2);
    expect(world.sent[1]).toMatchObject({ roomId: "!r0:x", at: START + 1_000 });
  });

  it("a failed first step is reported, not tried again: its task's own message told the moderator", async () => {
    const { engine, world, store, board } = setUp({ maxConcurrentJobs: 2 });
    const wave = await single(engine);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x", { status: "failed", reason: "Synapse said no" });
    await runUntil(() => store.get(wave.id)?.status === "finished");
    await vi.advanceTimersByTimeAsync(60_000);

    expect(world.sent).toHaveLength(1);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", reason: "Synapse said no" });
    expect(store.room(wave.id, "purge", "!r0:x")).toBeUndefined();
    expect(board.summaries).toHaveLength(1);
    expect(board.posts).toBe(0);
  });

  it("its purge phase is paced like any wave's", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    await single(engine, { block: true, purge: false, forcePurge: false, purgeAfterMs: 60_000 });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    world.jobs.set("other", { id: "other", action: "purge_history", resourceId: "!o:x", status: "active", timestampMs: START });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(world.sent.filter((send) => send.phase === "purge")).toEqual([]);

    world.jobs.delete("other");
    await runUntil(() => world.sent.some((send) => send.phase === "purge"));
  });
});
