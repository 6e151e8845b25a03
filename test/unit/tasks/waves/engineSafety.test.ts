import { describe, expect, it, vi } from "vitest";
import { scheduledRunId } from "../../../../src/model/retention.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { HomeserverJob } from "../../../../src/tasks/homeserverJobs.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { waveTaskParameters } from "../../../../src/tasks/waves/senders.js";
import { Board, START, World, start, useEngineHarness } from "./engineHarness.js";
import { runUntil } from "../fakeTime.js";

const { setUp, database } = useEngineHarness();

const DAY = 86_400_000;

/** A task of Warden's that no wave sent (a single command's), running on a room. */
function singleTask(id: string, roomId: string, parameters: TaskRecord["parameters"], change: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    kind: "purge",
    roomId,
    roomLabel: roomId,
    requester: "@m:x",
    managementRoomId: "!mgmt:x",
    commandEventId: "$single",
    homeserverTaskId: `job-${id}`,
    parameters,
    status: "active",
    createdAt: START,
    statusChangedAt: START,
    finalNotificationSent: false,
    ...change,
  };
}

describe("wave engine: tasks scheduled for the future take no slot", () => {
  it("purge_room tasks Synapse scheduled a week ahead (forgotten rooms) do not stall a wave", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const future = (id: string): HomeserverJob => ({ id, action: "purge_room", resourceId: `!forgotten-${id}:x`, status: "scheduled", timestampMs: START + 7 * DAY });
    world.jobs.set("f1", future("f1"));
    world.jobs.set("f2", future("f2"));
    const wave = await start(engine, 2);

    await runUntil(() => world.sent.length === 2);

    expect(world.sent.map((send) => [send.roomId, send.at])).toEqual([
      ["!r0:x", START],
      ["!r1:x", START],
    ]);
    expect(store.room(wave.id, "main", "!r0:x")?.state).toBe("sent");
  });

  it("a task whose time has come waits for a slot like a running one, and takes it", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.jobs.set("due", { id: "due", action: "purge_room", resourceId: "!due:x", status: "scheduled", timestampMs: START - 1 });
    world.jobs.set("running", { id: "running", action: "purge_history", resourceId: "!o:x", status: "active", timestampMs: START - 60_000 });
    await start(engine, 1);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent).toEqual([]);
    world.jobs.delete("due");
    await runUntil(() => world.sent.length === 1);
  });
});

describe("wave engine: a cancel wins over a send it crossed", () => {
  it("rooms read as due before the task queue was read are not sent once the wave was cancelled meanwhile", async () => {
    const { engine, world, store, board } = setUp({ maxConcurrentJobs: 2 });
    world.holdInFlight = true;
    const wave = await start(engine, 3);
    // The pass has read the rooms and waits for the homeserver's queue.
    await runUntil(() => world.heldInFlight() === 1);

    const cancelled = await engine.cancel(wave.id, "@mod:x");
    const reads = world.inFlightCalls;
    world.releaseInFlight();
    // The pass goes on with the rooms it read before the cancel; let it end.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(world.inFlightCalls).toBe(reads);
    expect(board.summaries).toHaveLength(1);

    expect(cancelled.ok && cancelled.value.rooms.map((room) => room.state)).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(world.sent).toEqual([]);
    expect(store.rooms(wave.id).map((room) => [room.roomId, room.state, room.reason, room.attempts])).toEqual([
      ["!r0:x", "cancelled", "cancelled by @mod:x before it was sent", 0],
      ["!r1:x", "cancelled", "cancelled by @mod:x before it was sent", 0],
      ["!r2:x", "cancelled", "cancelled by @mod:x before it was sent", 0],
    ]);
    expect(store.get(wave.id)).toMatchObject({ status: "finished", cancelledBy: "@mod:x" });
  });

  it("a cancel while a room's purge phase is asked whether it may go is not undone by the answer", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    let answer: ((ready: { ready: false; until: number; reason: string }) => void) | undefined;
    world.gate = () => new Promise((resolve) => (answer = resolve));
    const wave = await start(engine, 1, "shutdown", { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => answer !== undefined);

    await engine.cancel(wave.id, "@mod:x");
    answer?.({ ready: false, until: Date.now() + 60_000, reason: "waiting for the clients of 1 of 1 kicked member to see that they left" });
    await vi.advanceTimersByTimeAsync(1);

    expect(store.room(wave.id, "purge", "!r0:x")).toMatchObject({ state: "cancelled", reason: "cancelled by @mod:x before it was sent" });
    expect(store.get(wave.id)?.status).toBe("finished");
  });
});

describe("wave engine: a claim that cannot be written", () => {
  it("sends nothing, and the queue waits as after a slow-down before it tries the room again", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1, slowDownMs: 5_000 });
    vi.spyOn(store, "updateQueued").mockRejectedValueOnce(new Error("disk I/O error"));
    await start(engine, 1);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(world.sent).toEqual([]);

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]).toMatchObject({ roomId: "!r0:x", attempt: 1, at: START + 5_000 });
  });
});

describe("wave engine: a room joins only a job that does what it needs", () => {
  it("waits for a single command's job on the room that does less, then sends its own", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const single = singleTask("p-single", "!r0:x", { cutoffTs: START - 30 * DAY, deleteLocalEvents: false });
    world.tasks.set(single.id, single);
    const wave = await start(engine, 2);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r1:x"]);
    expect(store.room(wave.id, "main", "!r0:x")?.state).toBe("queued");

    const ended: TaskRecord = { ...single, status: "complete", finishedAt: Date.now() };
    world.tasks.set(single.id, ended);
    await engine.taskEnded(ended);
    await runUntil(() => world.sent.length === 2);
    expect(world.sent[1]?.roomId).toBe("!r0:x");
  });

  it("waits while any job on the room does less, even when another one there would do", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.tasks.set("p-enough", singleTask("p-enough", "!r0:x", { cutoffTs: START, deleteLocalEvents: true }));
    world.tasks.set("s-other", { ...singleTask("s-other", "!r0:x", { block: false, purge: false, forcePurge: false }), kind: "shutdown" });
    world.joinable = (task) => task.id === "p-enough";
    await start(engine, 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(world.sent).toEqual([]);
  });

  it("joins a job on the room that does at least as much: the room is sent at once (the launcher follows that job)", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    const single = singleTask("p-single", "!r0:x", { cutoffTs: START, deleteLocalEvents: true });
    world.tasks.set(single.id, single);
    world.joinable = (task) => task.id === "p-single";
    await start(engine, 1);

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]?.roomId).toBe("!r0:x");
  });

  it("a room the launcher finds busy goes back to the queue, its try not counted, and waits for that task", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const single = singleTask("p-single", "!r0:x", { cutoffTs: START - DAY, deleteLocalEvents: false });
    // The single command started after the pass looked: the launcher meets it.
    world.scripted.set("!r0:x", [
      () => {
        world.tasks.set(single.id, single);
        return { kind: "busy", taskId: single.id, reason: "waiting for p-single, which runs on this room and does less than this wave asks, to end" };
      },
    ]);
    const wave = await start(engine, 1);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(world.sent).toHaveLength(1);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 0, reason: "waiting for p-single, which runs on this room and does less than this wave asks, to end" });

    const ended: TaskRecord = { ...single, status: "complete", finishedAt: Date.now() };
    world.tasks.set(single.id, ended);
    await engine.taskEnded(ended);
    await runUntil(() => world.sent.length === 2);
    expect(world.sent[1]).toMatchObject({ roomId: "!r0:x", attempt: 1 });
  });
});

describe("wave engine: what waits for a running job, and in which order", () => {
  it("a block starts no job: it goes whatever runs on the room", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 }, true);
    world.tasks.set("p-single", singleTask("p-single", "!r0:x", { cutoffTs: START, deleteLocalEvents: false }));
    await start(engine, 1, "block", {});
    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]?.roomId).toBe("!r0:x");
  });

  it("a gate slow to answer holds up no other room: another wave's rooms go meanwhile", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.gate = () => new Promise(() => undefined);
    await start(engine, 1, "shutdown", { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY });
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x");
    await vi.advanceTimersByTimeAsync(1_000);

    await start(engine, 0, "purge", { cutoffTs: START, deleteLocalEvents: false }, [{ roomId: "!other:x", label: "!other:x" }]);
    await runUntil(() => world.sent.some((send) => send.roomId === "!other:x"));
    expect(world.sent.filter((send) => send.phase === "purge")).toEqual([]);
  });
});

describe("wave engine: each send has its own identity", () => {
  it("after a kill, a room follows the task of its own send, not an earlier failed task of the same attempt number", async () => {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 1 }, false, world, new Board(), store);
    let failedTask: TaskRecord | undefined;
    world.scripted.set("!r0:x", [
      // The first try's task was recorded and refused with a 429: a slow-down, the try not counted.
      (wave, room) => {
        const started = world.startJob(wave, room, "failed");
        if (started.kind !== "sent") throw new Error("no task");
        failedTask = world.tasks.get(started.taskId);
        world.jobs.clear();
        return { kind: "slow-down", reason: "rate-limited", waitMs: 1_000 };
      },
    ]);
    const wave = await start(first.engine, 1);
    await runUntil(() => world.sent.length === 2);
    await runUntil(() => store.room(wave.id, "main", "!r0:x")?.state === "sent");
    const second = store.room(wave.id, "main", "!r0:x");
    expect(world.sent.map((send) => send.attempt)).toEqual([1, 1]);
    await first.engine.stop();
    // Killed before "sent" was recorded: the room is caught sending, with its send id.
    await store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending" } }]);
    const running = world.running()[0];
    expect(running?.parameters["waveSend"]).toBe(second?.sendId);
    expect(failedTask?.parameters["waveAttempt"]).toBe(running?.parameters["waveAttempt"]);

    const restarted = setUp({ maxConcurrentJobs: 1 }, false, world, new Board(), new WaveStore(database(), () => Date.now()));
    await restarted.engine.resumeAll();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(restarted.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", taskId: running?.id });
    expect(world.sent).toHaveLength(2);
  });

  it("the task of its own send, even when another task of the same attempt is newer", async () => {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 0 }, false, world, new Board(), store);
    const wave = await start(first.engine, 1);
    await first.engine.stop();
    await store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending", attempts: 1, sendId: "own-send" } }]);
    const room = store.room(wave.id, "main", "!r0:x");
    if (room === undefined) throw new Error("no room");
    const mine = { ...singleTask("p-mine", "!r0:x", waveTaskParameters(wave, room)), createdAt: START - 2_000 };
    const newer = { ...singleTask("p-newer", "!r0:x", { ...waveTaskParameters(wave, room), waveSend: "another-send" }), status: "failed" as const, createdAt: START - 1_000 };
    world.tasks.set(newer.id, newer);
    world.tasks.set(mine.id, mine);

    const restarted = setUp({ maxConcurrentJobs: 0 }, false, world, new Board(), new WaveStore(database(), () => Date.now()));
    await restarted.engine.resumeAll();

    expect(restarted.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", taskId: "p-mine" });
  });

  it("a room claimed by an older Warden (no send id) follows the newest task of its attempt", async () => {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 0 }, false, world, new Board(), store);
    const wave = await start(first.engine, 1);
    await first.engine.stop();
    await store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending", attempts: 1 } }]);
    const room = store.room(wave.id, "main", "!r0:x");
    if (room === undefined) throw new Error("no room");
    const older = { ...singleTask("p-older", "!r0:x", waveTaskParameters(wave, room)), status: "failed" as const, createdAt: START - 2_000 };
    const newer = { ...singleTask("p-newer", "!r0:x", waveTaskParameters(wave, room)), createdAt: START - 1_000 };
    world.tasks.set(newer.id, newer);
    world.tasks.set(older.id, older);

    const restarted = setUp({ maxConcurrentJobs: 0 }, false, world, new Board(), new WaveStore(database(), () => Date.now()));
    await restarted.engine.resumeAll();

    expect(restarted.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", taskId: "p-newer" });
  });
});

describe("wave engine: who is served first", () => {
  it("a moderator's wave is served before a scheduled retention run still draining", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    await engine.start({
      kind: "purge",
      requester: "@warden:x",
      managementRoomId: "!mgmt:x",
      commandEventId: scheduledRunId("old-history", START),
      selection: { listed: [], all: true },
      parameters: { cutoffTs: START - DAY, deleteLocalEvents: false },
      policy: "old-history",
      rooms: [
        { roomId: "!quiet0:x", label: "!quiet0:x" },
        { roomId: "!quiet1:x", label: "!quiet1:x" },
        { roomId: "!quiet2:x", label: "!quiet2:x" },
      ],
      leftOut: [],
    });
    await runUntil(() => world.sent.length === 1);
    await start(engine, 0, "purge", { cutoffTs: START - 1000, deleteLocalEvents: false }, [{ roomId: "!spam:x", label: "!spam:x" }]);

    await world.end(engine, "!quiet0:x");
    await runUntil(() => world.sent.length === 2);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!quiet0:x", "!spam:x"]);
  });
});
