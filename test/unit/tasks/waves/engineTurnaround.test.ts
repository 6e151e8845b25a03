import { describe, expect, it, vi } from "vitest";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { runUntil } from "../fakeTime.js";
import { START, start, useEngineHarness, type World } from "./engineHarness.js";

const { setUp } = useEngineHarness();

/** The homeserver ended a room's job; the tracker has not recorded it yet (its task is still running). */
function endedOnHomeserver(world: World, roomId: string): TaskRecord {
  const task = world.running().find((candidate) => candidate.roomId === roomId);
  if (task === undefined) throw new Error(`no job runs for ${roomId}`);
  world.jobs.delete(task.homeserverTaskId ?? "");
  return task;
}

/** How long after the latest send the homeserver's queue is read next (the board is never edited, so only slot checks read it). */
async function nextLook(world: World): Promise<number> {
  const sentAt = world.sent.at(-1)?.at ?? Date.now();
  const reads = world.inFlightCalls;
  await runUntil(() => world.inFlightCalls > reads);
  return Date.now() - sentAt;
}

describe("wave engine: a slot frees as soon as the homeserver's list shows its job ended", () => {
  it("where the list is whole (Synapse 1.163 and later), the next room goes at the next read, before the tracker records the end", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    world.listsEveryStatus = true;
    await start(engine, 2);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + 1_000);
    const ended = endedOnHomeserver(world, "!r0:x");

    await runUntil(() => world.sent.length === 2);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
    expect(world.looked.flat()).toContain(ended.id);
    // The tracker's record is untouched: the slot was freed by the list alone.
    expect(world.tasks.get(ended.id)?.status).toBe("scheduled");
  });

  it("where the list may leave jobs out (before 1.163), a missing job keeps its slot until the tracker records its end", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    await start(engine, 2);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + 1_000);
    const ended = endedOnHomeserver(world, "!r0:x");
    await runUntil(() => world.looked.flat().includes(ended.id));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(world.sent).toHaveLength(1);

    world.tasks.set(ended.id, { ...ended, status: "complete", finishedAt: Date.now() });
    await engine.taskEnded(world.tasks.get(ended.id) as TaskRecord);
    await runUntil(() => world.sent.length === 2);
  });

  it("a job of Warden's still being submitted (no job id yet) holds its slot even where the list is whole", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    world.listsEveryStatus = true;
    world.tasks.set("submitting", {
      id: "submitting",
      kind: "purge",
      roomId: "!other:x",
      roomLabel: "!other:x",
      requester: "@m:x",
      managementRoomId: "!mgmt:x",
      commandEventId: "$c",
      parameters: {},
      status: "submitting",
      createdAt: START - 5_000,
      statusChangedAt: START - 5_000,
      finalNotificationSent: false,
    });
    await start(engine, 1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(world.inFlightCalls).toBeGreaterThan(0);
    expect(world.sent).toEqual([]);
  });

  it("counts each missing job once: two ended jobs free two slots, not more", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    world.listsEveryStatus = true;
    await start(engine, 5);
    await runUntil(() => world.sent.length === 2);
    vi.setSystemTime(START + 1_000);
    endedOnHomeserver(world, "!r0:x");
    endedOnHomeserver(world, "!r1:x");
    await runUntil(() => world.sent.length === 4);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x", "!r2:x", "!r3:x"]);
  });
});

describe("wave engine: how soon the queue is read again, from how long jobs take", () => {
  /** One slot, three rooms: the first job ends after `jobMs`, then the reads while the second runs. */
  async function firstLookAfterJobOf(jobMs: number): Promise<number> {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + jobMs);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.sent.length === 2);
    return nextLook(world);
  }

  it("jobs of a second: the first look after a tenth of one (100 ms)", async () => {
    expect(await firstLookAfterJobOf(1_000)).toBe(100);
  });

  it("jobs of a tenth of a second: never more often than every 25 ms", async () => {
    expect(await firstLookAfterJobOf(100)).toBe(25);
  });

  it("jobs of a minute: no more often than slotCheckMs", async () => {
    expect(await firstLookAfterJobOf(60_000)).toBe(150);
  });

  it("before any job has ended: slotCheckMs", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    await start(engine, 2);
    await runUntil(() => world.sent.length === 1);
    expect(await nextLook(world)).toBe(150);
  });

  it("the typical job follows the recent ones: after jobs of 1 s then one of 6 s, the first look is at a tenth of their moving average", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 1_000, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    await start(engine, 4);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + 1_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.sent.length === 2);
    vi.setSystemTime(Date.now() + 6_000);
    await world.end(engine, "!r1:x");
    await runUntil(() => world.sent.length === 3);
    // 0.8 × 1,000 + 0.2 × 6,000 = 2,000 ms: a look after 200 ms.
    expect(await nextLook(world)).toBe(200);
  });

  it("a failed job tells nothing of how long jobs take", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 150, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9, retries: 0 });
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + 1_000);
    await world.end(engine, "!r0:x", { status: "failed", reason: "locked" });
    await runUntil(() => world.sent.length === 2);
    expect(await nextLook(world)).toBe(150);
  });
});

describe("wave engine: a look when a running job should end", () => {
  it("the looks slow down while the job runs, and one comes when a typical job would have ended, then they start again from the first", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 1_000, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    vi.setSystemTime(START + 1_000);
    await world.end(engine, "!r0:x");
    await runUntil(() => world.sent.length === 2);
    const sentAt = world.sent[1]?.at ?? 0;
    const reads: number[] = [];
    let seen = world.inFlightCalls;
    while (Date.now() < sentAt + 1_300) {
      await vi.advanceTimersToNextTimerAsync();
      for (; seen < world.inFlightCalls; seen++) reads.push(Date.now() - sentAt);
    }
    // Jobs take 1 s: looks after 100, 250, 475 and 813 ms; the next (1 319) would come after the
    // job's end is due, so the look is at 1 000 ms, and then 100 ms after it.
    expect(reads.slice(0, 7)).toEqual([100, 250, 475, 813, 1_000, 1_100, 1_250]);
  });
});

describe("wave engine: a job's time where the list is whole", () => {
  it("is taken when the job is first seen missing, and the tracker's later record of its end does not count it again", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 1_000, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    world.listsEveryStatus = true;
    await start(engine, 3);
    await runUntil(() => world.sent.length === 1);
    const first = endedOnHomeserver(world, "!r0:x");
    // The look at 1 s finds it gone: a job of 1 s, so the next look 100 ms after !r1 is sent.
    await runUntil(() => world.sent.length === 2);
    expect(world.sent[1]?.at).toBe(START + 1_000);
    let reads = world.inFlightCalls;
    await runUntil(() => world.inFlightCalls > reads);
    expect(Date.now()).toBe(START + 1_100);

    // The tracker records the end much later (as if the job had taken 50 s): the time stays 1 s.
    const recorded: TaskRecord = { ...first, status: "complete", finishedAt: START + 50_000 };
    world.tasks.set(first.id, recorded);
    await engine.taskEnded(recorded);
    reads = world.inFlightCalls;
    await runUntil(() => world.inFlightCalls > reads + 1);
    expect(Date.now()).toBe(START + 1_200);
  });
});

describe("wave engine: with no room left to send, the last jobs are looked at when they should end", () => {
  /** One slot, two rooms: !r0's job ends after 1 s (the typical job), so !r1 is sent at START + 1 s and no room waits after it. */
  async function lastRoomSent(listsEveryStatus: boolean): Promise<{ engine: Awaited<ReturnType<typeof setUp>>["engine"]; world: World }> {
    const { engine, world } = setUp({ maxConcurrentJobs: 1, slotCheckMs: 1_000, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    world.listsEveryStatus = listsEveryStatus;
    await start(engine, 2);
    await runUntil(() => world.sent.length === 1);
    if (listsEveryStatus) endedOnHomeserver(world, "!r0:x");
    else {
      vi.setSystemTime(START + 1_000);
      await world.end(engine, "!r0:x");
    }
    await runUntil(() => world.sent.length === 2);
    return { engine, world };
  }

  /** The times (ms after START) of the reads of the homeserver's queue until `until`. */
  async function readsUntil(world: World, until: number): Promise<number[]> {
    const reads: number[] = [];
    let seen = world.inFlightCalls;
    while (Date.now() < START + until) {
      await vi.advanceTimersToNextTimerAsync();
      for (; seen < world.inFlightCalls; seen++) reads.push(Date.now() - START);
    }
    return reads;
  }

  it("the read when the last job is due finds it gone and asks the tracker to look at once", async () => {
    const { world } = await lastRoomSent(true);
    expect(world.sent[1]?.at).toBe(START + 1_000);
    const last = world.running().find((task) => task.roomId === "!r1:x");
    world.jobs.delete(last?.homeserverTaskId ?? "");
    const reads = await readsUntil(world, 2_050);
    // No read before the job is due (1 s after it was sent), one when it is.
    expect(reads).toEqual([2_000]);
    expect(world.looked.at(-1)).toContain(last?.id);
  });

  it("a job still running at its due time is read again at the first looks' pace, slowing, and left to the tracker once it has overrun by a typical job", async () => {
    const { world } = await lastRoomSent(true);
    const reads = await readsUntil(world, 6_000);
    // Due at 2 000; then after 100, 150, 225 and 338 ms (a tenth of a typical job, times 1.5
    // each); the next would come at 3 319, when the job has overrun by a whole typical job: none.
    expect(reads).toEqual([2_000, 2_100, 2_250, 2_475, 2_813]);
    const last = world.running().find((task) => task.roomId === "!r1:x");
    expect(world.looked.flat()).not.toContain(last?.id);
  });

  it("where the list may leave jobs out (before 1.163), no read follows the last send: a missing job may still run", async () => {
    const { world } = await lastRoomSent(false);
    expect(await readsUntil(world, 6_000)).toEqual([]);
  });

  it("with two jobs running, the reads follow the one due first", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2, slotCheckMs: 1_000, slotCheckCeilingMs: 2_000, boardEveryMs: 1e9 });
    world.listsEveryStatus = true;
    await start(engine, 3);
    await runUntil(() => world.sent.length === 2);
    // !r0's job ends: the look at 1 s finds it gone (a typical job of 1 s) and sends !r2, the last.
    endedOnHomeserver(world, "!r0:x");
    await runUntil(() => world.sent.length === 3);
    expect(Date.now()).toBe(START + 1_000);
    // !r1's job, sent at START, is due now; !r2's only at START + 2 s.
    const older = endedOnHomeserver(world, "!r1:x");
    await runUntil(() => world.looked.flat().includes(older.id));
    expect(Date.now()).toBeLessThan(START + 2_000);
  });

  it("the looks' pace starts again from the first for a job due later, after the last one's looks had slowed", async () => {
    const { engine, world } = await lastRoomSent(true);
    // !r1's job overruns: looks at 2 000, 2 100, 2 250, 2 475 and 2 813, slowing.
    expect(await readsUntil(world, 2_900)).toEqual([2_000, 2_100, 2_250, 2_475, 2_813]);
    await world.end(engine, "!r1:x");
    await start(engine, 1, "purge", { cutoffTs: START - 1000, deleteLocalEvents: false }, [{ roomId: "!late:x", label: "#late:x" }]);
    await runUntil(() => world.sent.length === 3);
    const sentAt = (world.sent[2]?.at ?? 0) - START;
    const [due, next] = (await readsUntil(world, sentAt + 2_000)).filter((at) => at > sentAt);
    // The first read when the job is due (a typical job after it was sent: !r1's long job moved the
    // typical one), the next a tenth of a typical job later, not 1.5⁵ times that as before.
    const typical = (due ?? 0) - sentAt;
    expect(typical).toBeGreaterThan(1_000);
    expect((next ?? 0) - (due ?? 0)).toBe(Math.ceil(typical / 10));
  });
});

