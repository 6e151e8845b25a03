import { describe, expect, it, vi } from "vitest";
import type { WaveRoom } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { err } from "../../../../src/util/result.js";
import { runUntil } from "../fakeTime.js";
import type { SendResult } from "../../../../src/tasks/waves/senders.js";
import { Board, START, World, start, unreachable, useEngineHarness } from "./engineHarness.js";

const { setUp, database: currentDatabase } = useEngineHarness();

describe("wave engine: starting", () => {
  it("records a wave with no rooms as finished at once, and summarizes it", async () => {
    const { engine, store, board, world } = setUp();
    const wave = await start(engine, 0);

    expect(wave).toMatchObject({ status: "finished", finishedAt: START });
    await runUntil(() => store.get(wave.id)?.finalNotificationSent === true);
    expect(board.summaries).toHaveLength(1);
    expect(world.sent).toHaveLength(0);
    expect(engine.active()).toEqual([]);
  });

  it("keeps the policy, the board's event and each room's name and member counts", async () => {
    const { engine, store } = setUp();
    const wave = await engine.start({
      kind: "purge",
      requester: "@mod:x",
      managementRoomId: "!mgmt:x",
      commandEventId: "$command",
      selection: { listed: [] },
      parameters: {},
      policy: "nightly",
      rooms: [{ roomId: "!a:x", label: "#a:x", name: "A", joinedMembers: 5, joinedLocalMembers: 2 }],
      leftOut: [],
    });

    expect(wave).toMatchObject({ status: "running", policy: "nightly", boardEventId: "$board" });
    expect(wave.finishedAt).toBeUndefined();
    expect(store.get(wave.id)).toMatchObject({ policy: "nightly", boardEventId: "$board" });
    expect(store.room(wave.id, "main", "!a:x")).toEqual({ waveId: wave.id, roomId: "!a:x", phase: "main", label: "#a:x", name: "A", joinedMembers: 5, joinedLocalMembers: 2, state: "queued", attempts: 0 });
    expect(engine.queueLength()).toBe(1);
  });

  it("lists the active waves newest first, and leaves finished ones out", async () => {
    const { engine } = setUp({ maxConcurrentJobs: 0 });
    const first = await start(engine, 1);
    vi.setSystemTime(START + 1_000);
    const second = await start(engine, 1);
    await start(engine, 0);

    expect(engine.active().map((wave) => wave.id)).toEqual([second.id, first.id]);
    expect(engine.queueLength()).toBe(2);
  });
});

describe("wave engine: cancelling", () => {
  it("says why a wave cannot be cancelled: unknown, already cancelled (and by whom), or finished", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1 });
    expect(await engine.cancel("w-nope", "@mod:x")).toEqual(err("there is no wave w-nope."));
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);

    const cancelled = await engine.cancel(wave.id, "@boss:x");
    expect(cancelled.ok && cancelled.value.rooms.map((room) => room.state)).toEqual(["sent", "cancelled"]);
    expect(store.room(wave.id, "main", "!r1:x")).toMatchObject({ state: "cancelled", finishedAt: Date.now() });
    expect(await engine.cancel(wave.id, "@mod:x")).toEqual(err(`wave ${wave.id} is already cancelled (by @boss:x).`));
    expect(engine.active().map((entry) => entry.status)).toEqual(["cancelled"]);

    await world.end(engine, "!r0:x");
    expect(await engine.cancel(wave.id, "@mod:x")).toEqual(err(`wave ${wave.id} is already finished.`));
    expect(engine.active()).toEqual([]);
  });

  it("a room whose hand-over ends in a slow-down after the wave was cancelled is cancelled, its try not counted", async () => {
    const { engine, world, store, board } = setUp({ maxConcurrentJobs: 1 });
    world.scripted.set("!r0:x", ["hold"]);
    const wave = await start(engine, 1);
    await runUntil(() => world.held.length === 1);

    await engine.cancel(wave.id, "@mod:x");
    world.held[0]?.({ kind: "slow-down", reason: "rate-limited" });
    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "cancelled", attempts: 0 });
    expect(store.get(wave.id)?.status).toBe("finished");
    expect(world.sent).toHaveLength(1);
  });
});

describe("wave engine: retries and slowing down", () => {
  it("a refusal that another try cannot fix fails the room at once", async () => {
    const { engine, world, store, board } = setUp({ retries: 2 });
    world.scripted.set("!r0:x", [{ kind: "failed", reason: "forbidden", retry: false }]);
    const wave = await start(engine, 1);
    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", attempts: 1, reason: "forbidden", finishedAt: START });
    expect(world.sent).toHaveLength(1);
  });

  it("tries a failed room again after retryAfterMs, doubling, and fails it after `retries` more tries", async () => {
    const { engine, world, store, board } = setUp({ retries: 2, retryAfterMs: 10_000 });
    const failed: SendResult = { kind: "failed", reason: "locked", retry: true };
    world.scripted.set("!r0:x", [failed, failed, failed]);
    const wave = await start(engine, 1);
    await runUntil(() => world.sent.length === 2);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 2, notBefore: START + 30_000, reason: "try 2 failed: locked" });
    await runUntil(() => board.summaries.length === 1);

    const times = world.sent.map((send) => send.at - START);
    expect(times[0]).toBe(0);
    expect(times[1]).toBe(10_000);
    expect(times[2]).toBe(30_000);
    expect(world.sent.map((send) => send.attempt)).toEqual([1, 2, 3]);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", attempts: 3, reason: "locked" });
  });

  it("waits slowDownMs after a slow-down without a wait, doubling while they last, and for the homeserver's wait when it gives one", async () => {
    const { engine, world, store } = setUp({ slowDownMs: 5_000 });
    world.scripted.set("!r0:x", [
      { kind: "slow-down", reason: "busy" },
      { kind: "slow-down", reason: "busy" },
      { kind: "slow-down", reason: "rate-limited", waitMs: 1_234 },
    ]);
    const wave = await start(engine, 1);
    await runUntil(() => world.running().length === 1);

    expect(world.sent.map((send) => send.at - START)).toEqual([0, 5_000, 15_000, 16_234]);
    expect(world.sent.map((send) => send.attempt)).toEqual([1, 1, 1, 1]);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("a sent room resets the slow-down streak: the next slow-down waits slowDownMs again", async () => {
    const { engine, world } = setUp({ slowDownMs: 5_000, maxConcurrentJobs: 1 });
    world.scripted.set("!r0:x", [{ kind: "slow-down", reason: "busy" }]);
    world.scripted.set("!r1:x", [{ kind: "slow-down", reason: "busy" }]);
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    const sentAt = Date.now();
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);

    const r1 = world.sent.filter((send) => send.roomId === "!r1:x").map((send) => send.at - sentAt);
    expect(r1).toEqual([0, 5_000]);
  });

  it("a room done at once also resets the slow-down streak", async () => {
    const { engine, world } = setUp({ slowDownMs: 5_000, maxConcurrentJobs: 1 });
    world.scripted.set("!r0:x", [{ kind: "slow-down", reason: "busy" }, { kind: "done" }]);
    world.scripted.set("!r1:x", [{ kind: "slow-down", reason: "busy" }]);
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);

    const r1 = world.sent.filter((send) => send.roomId === "!r1:x").map((send) => send.at - START);
    expect(r1).toEqual([5_000, 10_000]);
  });

  it("an unexpected error while handing a room over puts it back in the queue, untried, and the wave waits", async () => {
    const { engine, world, store } = setUp({ slowDownMs: 5_000 });
    world.scripted.set("!r0:x", ["throw"]);
    const wave = await start(engine, 1);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 0 });
    await runUntil(() => world.running().length === 1);

    expect(world.sent.map((send) => [send.at - START, send.attempt])).toEqual([
      [0, 1],
      [5_000, 1],
    ]);
  });

  it("an unexpected error in a step is looked at again after slotCheckCeilingMs", async () => {
    const { engine, world } = setUp({ slotCheckCeilingMs: 2_000 });
    world.inFlightAnswers.push("throw");
    await start(engine, 1);
    await runUntil(() => world.running().length === 1);

    expect(world.sent.map((send) => send.at - START)).toEqual([2_000]);
  });
});

describe("wave engine: how a room's job ended", () => {
  it("a complete job makes the room done, with how long the job took", async () => {
    const { engine, world, store } = setUp();
    const wave = await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    vi.setSystemTime(START + 7_000);
    await world.end(engine, "!r0:x", { createdAt: START + 1_000, finishedAt: START + 4_000 });

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "done", durationMs: 3_000, finishedAt: START + 7_000 });
  });

  it("a job the homeserver no longer knows, or that failed without a reason, fails the room with words that say so", async () => {
    const { engine, world, store } = setUp({ retries: 0 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 2);
    await world.end(engine, "!r0:x", { status: "unknown" });
    await world.end(engine, "!r1:x", { status: "failed" });

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", reason: "the homeserver no longer knows this job" });
    expect(store.room(wave.id, "main", "!r1:x")).toMatchObject({ state: "failed", reason: "the homeserver gave no reason" });
    expect(store.room(wave.id, "main", "!r1:x")?.durationMs).toBeUndefined();
  });

  it("a purge that found nothing to purge skips the room; another kind's failure with those words does not", async () => {
    const { engine, world, store } = setUp({ retries: 0 });
    const purge = await start(engine, 1);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x", { status: "failed", reason: "Nothing to purge before the point" });
    const shutdown = await start(engine, 0, "shutdown", {}, [{ roomId: "!s:x", label: "!s:x" }]);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!s:x", { status: "failed", reason: "nothing to purge" });

    expect(store.room(purge.id, "main", "!r0:x")).toMatchObject({ state: "skipped", reason: "Nothing to purge before the point" });
    expect(store.room(shutdown.id, "main", "!s:x")).toMatchObject({ state: "failed", reason: "nothing to purge" });
  });

  it("a room whose task had already ended when it was sent is settled at once", async () => {
    const { engine, world, store, board } = setUp();
    const wave = await start(engine, 0, "purge", {}, [{ roomId: "!r0:x", label: "!r0:x" }]);
    // The launcher joined a job that was just ending.
    const joined = world.startJob(wave, { ...(store.room(wave.id, "main", "!r0:x") as WaveRoom), attempts: 1 });
    if (joined.kind !== "sent") throw new Error("not sent");
    const task = world.tasks.get(joined.taskId) as TaskRecord;
    world.tasks.set(task.id, { ...task, status: "complete", finishedAt: START });
    world.scripted.set("!r0:x", [{ kind: "sent", taskId: task.id }]);
    await runUntil(() => board.summaries.length === 1);

    expect(store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "done", taskId: task.id });
  });

  it("a task that ends only settles the rooms it answers for, and frees the slot at once", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150, slotCheckCeilingMs: 60_000 });
    const wave = await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(30_000);
    const endedAt = Date.now();
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);

    expect(Date.now()).toBe(endedAt);
    expect(store.room(wave.id, "main", "!r1:x")?.state).toBe("sent");
  });
});

describe("wave engine: slots", () => {
  it("counts the homeserver's room purges and redactions by anyone against the limit", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 3 });
    world.jobs.set("purge-room", { id: "purge-room", action: "purge_room", resourceId: "!o:x", status: "active", timestampMs: START });
    world.jobs.set("redact", { id: "redact", action: "redact_all_events", resourceId: "@u:x", status: "scheduled", timestampMs: START });
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
  });

  it("when the homeserver's queue cannot be read, counts Warden's own unfinished jobs, and those still being submitted", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 3 });
    world.tasks.set("own", { id: "own", kind: "purge", roomId: "!o:x", roomLabel: "!o:x", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", homeserverTaskId: "job-own", parameters: {}, status: "active", createdAt: START, statusChangedAt: START, finalNotificationSent: false });
    world.tasks.set("submitting", { id: "submitting", kind: "purge", roomId: "!p:x", roomLabel: "!p:x", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", parameters: {}, status: "submitting", createdAt: START, statusChangedAt: START, finalNotificationSent: false });
    world.tasks.set("ended", { id: "ended", kind: "purge", roomId: "!q:x", roomLabel: "!q:x", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", homeserverTaskId: "job-ended", parameters: {}, status: "complete", createdAt: START, statusChangedAt: START, finalNotificationSent: true });
    world.inFlightAnswers.push(...Array.from({ length: 50 }, () => err(unreachable)));
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    await vi.advanceTimersByTimeAsync(1_000);

    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
  });

  it("an unfinished job of Warden's the homeserver no longer lists keeps its slot until its end is recorded; the tracker is asked to look at it at once", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    // Accepted before the read began and not listed: it ended, or the homeserver lists only some statuses (before 1.163).
    const old: TaskRecord = { id: "old", kind: "purge", roomId: "!o:x", roomLabel: "!o:x", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", homeserverTaskId: "job-old", parameters: {}, status: "scheduled", createdAt: START - 5_000, statusChangedAt: START - 5_000, finalNotificationSent: false };
    world.tasks.set("old", old);
    await start(engine, 1);
    await runUntil(() => world.looked.length > 0);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent).toEqual([]);
    expect(world.looked[0]).toEqual(["old"]);

    world.tasks.set("old", { ...old, status: "complete", finishedAt: Date.now() });
    await engine.taskEnded({ ...old, status: "complete" });
    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]?.roomId).toBe("!r0:x");
  });

  it("a job of Warden's accepted since the read began is not reported missing (the list may not show it yet), and counts", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    // The homeserver's list lags: it does not show the job sent a moment ago.
    world.jobs.clear();
    const reads = world.inFlightCalls;
    await engine.taskEnded({ ...(world.running()[0] as TaskRecord), id: "unrelated", homeserverTaskId: "job-unrelated", status: "complete" });
    await runUntil(() => world.inFlightCalls > reads);

    expect(world.looked).toEqual([]);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x"]);
  });

  it("a block wave uses no job slot: it never reads the homeserver's queue and sends maxConcurrentJobs rooms at once", async () => {
    const { engine, world, store, board } = setUp({ maxConcurrentJobs: 2 }, true);
    world.scripted.set("!r0:x", ["hold"]);
    world.scripted.set("!r1:x", ["hold"]);
    const wave = await start(engine, 3, "block", {});
    await runUntil(() => world.held.length === 2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(world.sent).toHaveLength(2);

    for (const release of world.held) release({ kind: "done" });
    await runUntil(() => board.summaries.length === 1);
    expect(world.inFlightCalls).toBe(0);
    expect(world.sent).toHaveLength(3);
    expect(store.rooms(wave.id).map((room) => room.state)).toEqual(["done", "done", "done"]);
  });

  it("while rooms wait for a slot, reads ahead for the next two rounds of them, not for rooms already busy", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    await start(engine, 5);
    await runUntil(() => world.running().length === 1);
    await runUntil(() => world.prepared.length >= 3);
    await vi.advanceTimersByTimeAsync(1_000);

    // !r0 read ahead while the queue was read, before it was sent, and never again once busy;
    // then the two past it (again at each look, which the sender answers from what it read).
    expect(world.prepared.slice(0, 3)).toEqual(["!r0:x", "!r1:x", "!r2:x"]);
    expect(new Set(world.prepared)).toEqual(new Set(["!r0:x", "!r1:x", "!r2:x"]));
    expect(world.prepared.filter((roomId) => roomId === "!r0:x")).toHaveLength(1);
  });

  it("reads the homeserver's queue again slotCheckMs after a room waits, slowing by half each time to the ceiling", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 100, slotCheckCeilingMs: 300 });
    await start(engine, 2);
    await runUntil(() => world.running().length === 1);
    const reads: number[] = [];
    const calls = world.inFlightCalls;
    while (reads.length < 4) {
      await vi.advanceTimersToNextTimerAsync();
      if (world.inFlightCalls > calls + reads.length) reads.push(Date.now() - START);
    }

    // The pass that sent !r0 found no slot left for !r1: it looks again after 100 ms, then 1.5 times later each time, up to 300 ms.
    expect(reads).toEqual([100, 250, 475, 775]);
  });
});

describe("wave engine: after a restart", () => {
  it("settles sent rooms whose task was lost or ended, queues owed purge phases, and cancels untried rooms of a cancelled wave", async () => {
    const world = new World();
    const board = new Board();
    const store = new WaveStore(currentDatabase(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 0 }, false, world, board, store);
    const shutdown = await start(first.engine, 3, "shutdown", { purgeAfterMs: 60_000 });
    const cancelled = await start(first.engine, 0, "purge", {}, [{ roomId: "!c:x", label: "!c:x" }]);
    await first.engine.stop();
    const wave = store.get(shutdown.id);
    if (wave === undefined) throw new Error("no wave");
    const lost = world.startJob(wave, { ...(store.room(wave.id, "main", "!r0:x") as WaveRoom), attempts: 1 });
    const ended = world.startJob(wave, { ...(store.room(wave.id, "main", "!r1:x") as WaveRoom), attempts: 1 });
    if (lost.kind !== "sent" || ended.kind !== "sent") throw new Error("not sent");
    world.tasks.delete(lost.taskId);
    const endedTask = world.tasks.get(ended.taskId) as TaskRecord;
    world.tasks.set(ended.taskId, { ...endedTask, status: "complete", finishedAt: START + 500 });
    await store.updateRooms(wave.id, [
      { phase: "main", roomId: "!r0:x", change: { state: "sent", taskId: lost.taskId, attempts: 1 } },
      { phase: "main", roomId: "!r1:x", change: { state: "sent", taskId: ended.taskId, attempts: 1 } },
      { phase: "main", roomId: "!r2:x", change: { state: "done", attempts: 1, finishedAt: START + 100 } },
    ]);
    await store.updateRooms(cancelled.id, [{ phase: "main", roomId: "!c:x", change: { state: "sending", attempts: 1 } }]);
    await store.update(cancelled.id, { status: "cancelled", cancelledBy: "@mod:x" });
    vi.setSystemTime(START + 1_000);

    const second = setUp({ maxConcurrentJobs: 0 }, false, world, board, new WaveStore(currentDatabase(), () => Date.now()));
    await second.engine.resumeAll();

    expect(second.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "failed", reason: "Warden lost the record of this room's job" });
    expect(second.store.room(wave.id, "main", "!r1:x")).toMatchObject({ state: "done" });
    expect(second.store.room(wave.id, "purge", "!r1:x")).toMatchObject({ state: "queued", notBefore: START + 61_000 });
    expect(second.store.room(wave.id, "purge", "!r2:x")).toMatchObject({ state: "queued", notBefore: START + 60_100 });
    expect(second.store.room(wave.id, "purge", "!r0:x")).toBeUndefined();
    expect(second.store.room(cancelled.id, "main", "!c:x")).toMatchObject({ state: "cancelled", attempts: 0, finishedAt: START + 1_000 });
    await runUntil(() => board.summaries.some((summary) => summary.view.wave.id === cancelled.id));
    expect(second.store.get(cancelled.id)?.status).toBe("finished");
  });

  it("a block wave's room caught sending is sent again (a block leaves no task to find)", async () => {
    const world = new World();
    const store = new WaveStore(currentDatabase(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 0 }, true, world, new Board(), store);
    const wave = await start(first.engine, 1, "block", {});
    await first.engine.stop();
    await store.updateRooms(wave.id, [{ phase: "main", roomId: "!r0:x", change: { state: "sending", attempts: 1 } }]);
    world.tasks.set("looks-like-it", { id: "looks-like-it", kind: "purge", roomId: "!r0:x", roomLabel: "!r0:x", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", parameters: { waveId: wave.id, wavePhase: "main", waveAttempt: 1 }, status: "active", createdAt: START, statusChangedAt: START, finalNotificationSent: false });

    const second = setUp({ maxConcurrentJobs: 0 }, true, world, new Board(), new WaveStore(currentDatabase(), () => Date.now()));
    await second.engine.resumeAll();

    expect(second.store.room(wave.id, "main", "!r0:x")).toMatchObject({ state: "queued", attempts: 0 });
    expect(second.store.room(wave.id, "main", "!r0:x")?.taskId).toBeUndefined();
  });
});

describe("wave engine: board and summary", () => {
  it("an undelivered summary is tried again, backing off from 2 s; a failing one after summaryRetryMs", async () => {
    const { engine, board, store } = setUp({ summaryRetryMs: 30_000 });
    board.summaryAnswers = [false, false, "throw"];
    const wave = await start(engine, 0);
    await runUntil(() => board.summaries.length === 4);
    await runUntil(() => store.get(wave.id)?.finalNotificationSent === true);

    expect(board.summaries.map((summary) => summary.at - START)).toEqual([0, 2_000, 6_000, 36_000]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(board.summaries).toHaveLength(4);
  });

  it("a failed board edit does not stop the wave, and the board is edited again at the next change", async () => {
    const { engine, board, world } = setUp({ maxConcurrentJobs: 1, boardEveryMs: 1_000 });
    board.failMoves = true;
    await start(engine, 3);
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(2_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(2_000);
    await world.end(engine, "!r1:x");
    await runUntil(() => world.running().length === 1);
    await vi.advanceTimersByTimeAsync(2_000);

    expect(board.moves.length).toBeGreaterThanOrEqual(2);
  });

  it("records no board when the board could not be posted", async () => {
    const { engine, store, board } = setUp({ maxConcurrentJobs: 0 });
    board.boardEventId = undefined;
    const wave = await start(engine, 1);

    expect(wave.boardEventId).toBeUndefined();
    expect(Object.keys(store.get(wave.id) ?? {})).not.toContain("boardEventId");
  });

  it("estimates the time left from the pace so far, and no earlier than a purge phase's cooldown ends", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 3 });
    const wave = await start(engine, 3);
    expect(engine.view(wave.id)?.remainingMs).toBeUndefined();
    await runUntil(() => world.running().length === 3);
    vi.setSystemTime(START + 10_000);
    expect(engine.view(wave.id)?.remainingMs).toBeUndefined();
    await world.end(engine, "!r0:x");
    // One room ended in 10 s; two are left.
    expect(engine.view(wave.id)?.remainingMs).toBe(20_000);

    const shutdown = await start(engine, 0, "shutdown", { purgeAfterMs: 3_600_000 }, [{ roomId: "!s:x", label: "!s:x" }]);
    await runUntil(() => world.running().some((task) => task.roomId === "!s:x"));
    vi.setSystemTime(Date.now() + 1_000);
    await world.end(engine, "!s:x");
    const view = engine.view(shutdown.id);
    expect(view?.remainingMs).toBe(3_600_000);
    expect(engine.view("w-none")).toBeUndefined();
  });
});
