import { describe, expect, it, vi } from "vitest";
import { failedStep, type WaveRecord, type WaveRoom } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { RoomStep, StepResult } from "../../../../src/tasks/waves/senders.js";
import { Board, START, World, rooms, start, useEngineHarness } from "./engineHarness.js";
import { runUntil } from "../fakeTime.js";

const { setUp, database } = useEngineHarness();

const SHUTDOWN = { block: true, purge: false, forcePurge: false, quarantineMedia: true };
const NOT_SERVED = "its media could not be quarantined, so the room was not shut down: not served here";

/** A media step that records each call (with what the store held for the room then) and answers from a script. */
class MediaStep implements RoomStep {
  readonly name = "media";
  readonly calls: { roomId: string; phase: string; at: number }[] = [];
  readonly answers = new Map<string, StepResult[]>();
  run(_wave: WaveRecord, room: WaveRoom): Promise<StepResult> {
    this.calls.push({ roomId: room.roomId, phase: room.phase, at: Date.now() });
    return Promise.resolve(this.answers.get(room.roomId)?.shift() ?? { kind: "done", count: 3 });
  }
}

function withMedia(world: World): MediaStep {
  const media = new MediaStep();
  world.steps = () => [media];
  return media;
}

describe("wave engine: the steps before a room's job", () => {
  it("stores each step's outcome before the job is sent, and hands the job the room with it", async () => {
    const world = new World();
    const media = withMedia(world);
    const { engine, store } = setUp({}, false, world);
    const seenAtSend: unknown[] = [];
    world.scripted.set("!r0:x", [
      (wave, room) => {
        // What a restart would read at this moment: the step is already in the database.
        seenAtSend.push(new WaveStore(database(), () => Date.now()).room(wave.id, room.phase, room.roomId)?.steps);
        return world.startJob(wave, room);
      },
    ]);
    const wave = await start(engine, 2, "shutdown", SHUTDOWN);

    await runUntil(() => world.sent.length === 2);

    expect(media.calls.map((call) => call.roomId)).toEqual(["!r0:x", "!r1:x"]);
    expect(seenAtSend).toEqual([{ media: { ok: true, count: 3, at: START } }]);
    expect(world.sentRooms.map((room) => room.steps)).toEqual([{ media: { ok: true, count: 3, at: START } }, { media: { ok: true, count: 3, at: START } }]);
    expect(store.room(wave.id, "main", "!r1:x")).toMatchObject({ state: "sent", steps: { media: { ok: true, count: 3 } } });
  });

  it("a room without steps is sent as before, with nothing stored", async () => {
    const { engine, world, store } = setUp();
    const wave = await start(engine, 1, "shutdown", { block: true, purge: true, forcePurge: false });
    await runUntil(() => world.sent.length === 1);
    expect(store.room(wave.id, "main", "!r0:x")?.steps).toBeUndefined();
  });

  it("a failed step sends no job: the try fails and is retried after the back-off, the failure stored until a try gets past it", async () => {
    const world = new World();
    const media = withMedia(world);
    media.answers.set("!r0:x", [{ kind: "failed", reason: NOT_SERVED }, { kind: "done", count: 5 }]);
    const { engine, store } = setUp({ retries: 2, retryAfterMs: 15_000 }, false, world);
    const wave = await start(engine, 1, "shutdown", SHUTDOWN);

    await runUntil(() => media.calls.length === 1 && store.room(wave.id, "main", "!r0:x")?.state === "queued");
    expect(world.sent).toEqual([]);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({
      attempts: 1,
      notBefore: START + 15_000,
      reason: `try 1 failed: ${NOT_SERVED}`,
      steps: { media: { ok: false, reason: NOT_SERVED, at: START } },
    });

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]).toMatchObject({ roomId: "!r0:x", attempt: 2, at: START + 15_000 });
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", steps: { media: { ok: true, count: 5, at: START + 15_000 } } });
  });

  it("a step that fails every try fails the room with the step's reason, and names the step", async () => {
    const world = new World();
    const media = withMedia(world);
    media.answers.set("!r0:x", [
      { kind: "failed", reason: NOT_SERVED },
      { kind: "failed", reason: NOT_SERVED },
    ]);
    const { engine, store, board } = setUp({ retries: 1, retryAfterMs: 1_000 }, false, world);
    const wave = await start(engine, 1, "shutdown", SHUTDOWN);

    await runUntil(() => board.summaries.length === 1);

    const room = store.room(wave.id, "main", "!r0:x");
    expect(room).toMatchObject({ state: "failed", attempts: 2, reason: NOT_SERVED });
    expect(room === undefined ? undefined : failedStep(room)).toBe("media");
    expect(world.sent).toEqual([]);
    expect(media.calls).toHaveLength(2);
  });

  it("a slow-down at a step puts the room back, the try not counted and nothing stored, and the wave waits", async () => {
    const world = new World();
    const media = withMedia(world);
    media.answers.set("!r0:x", [{ kind: "slow-down", reason: "rate-limited", waitMs: 10_000 }]);
    const { engine, store } = setUp({}, false, world);
    const wave = await start(engine, 1, "shutdown", SHUTDOWN);

    await runUntil(() => media.calls.length === 1 && store.room(wave.id, "main", "!r0:x")?.state === "queued");
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ attempts: 0, reason: "waiting: rate-limited" });
    expect(store.room(wave.id, "main", "!r0:x")?.steps).toBeUndefined();

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]).toMatchObject({ attempt: 1, at: START + 10_000 });
    expect(media.calls.map((call) => call.at)).toEqual([START, START + 10_000]);
  });

  it("a single command's room (no board) fails at a slow-down step instead of going round again at once", async () => {
    const world = new World();
    const media = withMedia(world);
    media.answers.set("!r0:x", [{ kind: "slow-down", reason: "the homeserver failed with HTTP 502" }]);
    const { engine, store, board } = setUp({}, false, world);
    const wave = await engine.start({
      kind: "shutdown",
      requester: "@mod:x",
      managementRoomId: "!mgmt:x",
      commandEventId: "$command",
      selection: { listed: ["!r0:x"] },
      parameters: SHUTDOWN,
      rooms: rooms(1),
      leftOut: [],
      board: false,
    });

    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({
      state: "failed",
      reason: "the homeserver failed with HTTP 502",
      steps: { media: { ok: false, reason: "the homeserver failed with HTTP 502", at: START } },
    });
    expect(media.calls).toHaveLength(1);
    expect(world.sent).toEqual([]);
  });

  it("runs the steps before the purge phase's job too", async () => {
    const world = new World();
    const media = withMedia(world);
    const { engine, store } = setUp({}, false, world);
    const wave = await start(engine, 1, "shutdown", { ...SHUTDOWN, purgeAfterMs: 60_000 });
    await runUntil(() => world.sent.length === 1);
    await world.end(engine, "!r0:x");

    await runUntil(() => world.sent.length === 2);

    expect(media.calls.map((call) => [call.phase, call.at])).toEqual([
      ["main", START],
      ["purge", START + 60_000],
    ]);
    expect(store.room(wave.id, "purge", "!r0:x")?.steps).toEqual({ media: { ok: true, count: 3, at: START + 60_000 } });
    expect(world.sentRooms[1]).toMatchObject({ phase: "purge", steps: { media: { ok: true, count: 3 } } });
  });

  it("sends no job when a step's outcome could not be stored: the room goes back to the queue", async () => {
    const world = new World();
    const media = withMedia(world);
    const { engine, store } = setUp({}, false, world);
    const wave = await start(engine, 1, "shutdown", SHUTDOWN);
    const updateRooms = store.updateRooms.bind(store);
    let failures = 0;
    vi.spyOn(store, "updateRooms").mockImplementation((id, changes) => {
      if (changes.some((change) => change.change.steps !== undefined) && failures++ === 0) return Promise.reject(new Error("disk full"));
      return updateRooms(id, changes);
    });

    await runUntil(() => world.sent.length === 1);

    expect(media.calls).toHaveLength(2);
    expect(world.sent[0]).toMatchObject({ attempt: 1 });
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", steps: { media: { ok: true, count: 3 } } });
  });
});

describe("wave engine: killed between a room's step and its job", () => {
  it("at the next start the room goes on: its step runs again (it is harmless to repeat) and its job is sent once", async () => {
    const world = new World();
    const media = withMedia(world);
    const first = setUp({}, false, world);
    // The job's request never leaves: Warden dies with the room "sending", its step stored, no task recorded.
    world.scripted.set("!r0:x", ["hold"]);
    const wave = await start(first.engine, 1, "shutdown", SHUTDOWN);
    await runUntil(() => world.held.length === 1);
    expect(new WaveStore(database(), () => Date.now()).room(wave.id, "main", "!r0:x")).toMatchObject({
      state: "sending",
      attempts: 1,
      steps: { media: { ok: true, count: 3, at: START } },
    });
    expect(world.tasks.size).toBe(0);
    await vi.advanceTimersByTimeAsync(30_000);

    const restarted = setUp({}, false, world, new Board(), new WaveStore(database(), () => Date.now()));
    await restarted.engine.resumeAll();
    await runUntil(() => world.sent.length === 2);

    expect(media.calls.map((call) => call.at)).toEqual([START, START + 30_000]);
    expect(world.sent.map((send) => send.attempt)).toEqual([1, 1]);
    expect(world.tasks.size).toBe(1);
    const [task] = world.tasks.values();
    expect(restarted.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", taskId: task?.id, steps: { media: { ok: true, count: 3, at: START + 30_000 } } });
    // The first run's send, still held, is let go only now (a dead process sends nothing).
    world.held[0]?.({ kind: "slow-down", reason: "the process is gone" });
  });
});
