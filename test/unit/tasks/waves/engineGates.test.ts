import { describe, expect, it, vi } from "vitest";
import type { WaveRecord } from "../../../../src/model/waves.js";
import { WaveStore } from "../../../../src/store/waves.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import type { SendResult } from "../../../../src/tasks/waves/senders.js";
import { Board, START, World, log, start, useEngineHarness } from "./engineHarness.js";
import { runUntil } from "../fakeTime.js";

const { setUp, database } = useEngineHarness();

const DAY = 86_400_000;
const MEMBERS_SEEN = { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY };

/** A shutdown wave of `count` rooms whose first steps all ended: their purge phases wait at the gate. */
async function emptied(engine: Parameters<typeof start>[0], world: World, count: number): Promise<WaveRecord> {
  const wave = await start(engine, count, "shutdown", MEMBERS_SEEN);
  for (let ended = 0; ended < count; ) {
    await runUntil(() => world.running().length > 0);
    for (const task of world.running()) {
      await world.end(engine, task.roomId);
      ended++;
    }
  }
  return wave;
}

describe("wave engine: the gate of a purge phase", () => {
  it("is asked for purge-phase rooms only: a gate that says no never holds a main room", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    const asked: string[] = [];
    world.gate = (_wave, room) => {
      asked.push(`${room.phase} ${room.roomId}`);
      return Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "no" });
    };
    await start(engine, 2, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.sent.length === 2);
    expect(world.sent.map((send) => send.phase)).toEqual(["main", "main"]);
    await world.end(engine, "!r0:x");
    await runUntil(() => asked.length === 1);
    expect(asked).toEqual(["purge !r0:x"]);
  });

  it("answers each room on its own: one room found ready goes, the other waits", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    world.gate = (_wave, room) =>
      Promise.resolve(room.roomId === "!r0:x" ? { ready: true, reason: "seen" } : { ready: false, until: Date.now() + DAY, reason: "not seen" });
    const wave = await emptied(engine, world, 2);
    await runUntil(() => world.sent.some((send) => send.phase === "purge"));
    await vi.advanceTimersByTimeAsync(5_000);

    expect(world.sent.filter((send) => send.phase === "purge").map((send) => send.roomId)).toEqual(["!r0:x"]);
    expect(store.room(wave.id, "purge", "!r1:x")).toMatchObject({ state: "queued", reason: "not seen" });
  });

  it("logs why a room went once its gate opened (the audit of a two-step shutdown), and only for a room with a reason", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    const info = vi.spyOn(log, "info");
    world.gate = (_wave, room) => Promise.resolve(room.roomId === "!r0:x" ? { ready: true, reason: "seen" } : { ready: true });
    const wave = await emptied(engine, world, 2);
    await runUntil(() => world.sent.filter((send) => send.phase === "purge").length === 2);
    const opened = info.mock.calls.filter((call) => call[1] === "wave room sent once its gate opened").map((call) => call[0]);
    info.mockRestore();
    expect(opened).toEqual([{ waveId: wave.id, roomId: "!r0:x", phase: "purge", reason: "seen" }]);
  });

  it("a room let go without a reason keeps the reason it had", async () => {
    const { engine, world, store } = setUp({ maxConcurrentJobs: 2 });
    const answers: ({ ready: false; until: number; reason: string } | { ready: true })[] = [{ ready: false, until: START + 30_000, reason: "not yet" }, { ready: true }];
    world.gate = () => Promise.resolve(answers.shift() ?? { ready: true });
    const wave = await emptied(engine, world, 1);
    await runUntil(() => world.sent.some((send) => send.phase === "purge"));
    expect(store.room(wave.id, "purge", "!r0:x")).toMatchObject({ state: "sent", reason: "not yet" });
  });

  it("a room waiting at its gate shows on the board with why", async () => {
    const { engine, world, board } = setUp({ maxConcurrentJobs: 2 });
    world.gate = () => Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "waiting for the clients of 1 of 1 kicked member" });
    await emptied(engine, world, 1);
    await runUntil(() => board.moves.some((view) => view.rooms.some((room) => room.phase === "purge" && room.reason === "waiting for the clients of 1 of 1 kicked member")));
  });

  it("asks at most eight gates at once, and a room whose gate is being asked not again; the others are asked as answers come", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 5 });
    const pending: (() => void)[] = [];
    const asked: string[] = [];
    world.gate = (_wave, room) =>
      new Promise((resolve) => {
        asked.push(room.roomId);
        pending.push(() => {
          resolve({ ready: false, until: Date.now() + DAY, reason: "no" });
        });
      });
    await emptied(engine, world, 10);
    await runUntil(() => asked.length === 8);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(asked).toHaveLength(8);
    expect(new Set(asked).size).toBe(8);

    pending.shift()?.();
    await runUntil(() => asked.length === 9);
    pending.shift()?.();
    await runUntil(() => asked.length === 10);
    expect(new Set(asked).size).toBe(10);
  });

  it("a gate that fails is asked again after slotCheckCeilingMs, and the room is never sent on a guess", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2, slotCheckCeilingMs: 2_000 });
    const asked: number[] = [];
    world.gate = () => {
      asked.push(Date.now());
      return asked.length === 1 ? Promise.reject(new Error("bug")) : Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "no" });
    };
    await emptied(engine, world, 1);
    await runUntil(() => asked.length === 2);
    expect((asked[1] ?? 0) - (asked[0] ?? 0)).toBe(2_000);
    expect(world.sent.filter((send) => send.phase === "purge")).toEqual([]);
  });

  it("is asked again for a later send: a purge phase that failed is tried again only once its gate says so again", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2, retryAfterMs: 1_000 });
    let asked = 0;
    world.gate = () => {
      asked++;
      return Promise.resolve(asked === 1 ? { ready: true } : { ready: false, until: Date.now() + DAY, reason: "no" });
    };
    await emptied(engine, world, 1);
    await runUntil(() => world.running().length === 1);
    await world.end(engine, "!r0:x", { status: "failed", reason: "locked" });
    await runUntil(() => asked === 2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(world.sent.filter((send) => send.phase === "purge")).toHaveLength(1);
  });
});

describe("wave engine: a single command's room after a restart", () => {
  it("is sent at once, not after the queue's read of the homeserver, and its wave gets no board edits", async () => {
    const world = new World();
    const store = new WaveStore(database(), () => Date.now());
    const first = setUp({ maxConcurrentJobs: 1 }, false, world, new Board(), store);
    await first.engine.stop();
    // As an earlier run left it: a wave's room and a single command's room, both queued.
    await store.insert(
      { id: "w-wave01", kind: "purge", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$wave", selection: { listed: [] }, parameters: { cutoffTs: START, deleteLocalEvents: false }, leftOut: [], status: "running", createdAt: START - 2, finalNotificationSent: false },
      [{ waveId: "w-wave01", roomId: "!w:x", phase: "main", label: "!w:x", state: "queued", attempts: 0 }],
    );
    await store.insert(
      { id: "w-single", kind: "shutdown", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$single", selection: { listed: ["!s:x"] }, parameters: MEMBERS_SEEN, leftOut: [], status: "running", createdAt: START - 1, finalNotificationSent: false, board: false },
      [{ waveId: "w-single", roomId: "!s:x", phase: "main", label: "!s:x", state: "queued", attempts: 0 }],
    );
    world.holdInFlight = true;
    const board = new Board();
    const second = setUp({ maxConcurrentJobs: 1 }, false, world, board, new WaveStore(database(), () => Date.now()));
    await second.engine.resumeAll();

    await runUntil(() => world.sent.length === 1);
    expect(world.sent[0]?.roomId).toBe("!s:x");
    world.releaseInFlight();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(board.moves.every((view) => view.wave.id !== "w-single")).toBe(true);
  });

  it("a wave without a board and without rooms still gets its record (the summary call)", async () => {
    const { engine, board } = setUp();
    await engine.start({ kind: "shutdown", requester: "@m:x", managementRoomId: "!mgmt:x", commandEventId: "$c", selection: { listed: [] }, parameters: MEMBERS_SEEN, rooms: [], leftOut: [], board: false });
    await runUntil(() => board.summaries.length === 1);
    expect(board.posts).toBe(0);
  });
});

describe("wave engine: slots and hand-overs", () => {
  it("a room whose task is recorded while its request is still on its way counts once, not twice", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 2 });
    let release: ((result: SendResult) => void) | undefined;
    world.scripted.set("!r0:x", [
      (wave, room) => {
        const started = world.startJob(wave, room, "submitting");
        return new Promise<SendResult>((resolve) => {
          release = () => {
            resolve(started);
          };
        });
      },
    ]);
    await start(engine, 2);
    await runUntil(() => world.sent.length === 2);
    expect(world.sent.map((send) => send.roomId)).toEqual(["!r0:x", "!r1:x"]);
    release?.({ kind: "done" });
  });

  it("asks the tracker to look only at its own jobs missing from the list: not at one listed, nor at one still being submitted", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    const own = (id: string, change: Partial<TaskRecord>): TaskRecord => ({
      id,
      kind: "purge",
      roomId: `!${id}:x`,
      roomLabel: `!${id}:x`,
      requester: "@m:x",
      managementRoomId: "!mgmt:x",
      commandEventId: "$c",
      parameters: {},
      status: "active",
      createdAt: START - 5_000,
      statusChangedAt: START - 5_000,
      finalNotificationSent: false,
      ...change,
    });
    world.tasks.set("listed", own("listed", { homeserverTaskId: "job-listed" }));
    world.jobs.set("job-listed", { id: "job-listed", action: "purge_history", resourceId: "!listed:x", status: "active", timestampMs: START - 5_000 });
    world.tasks.set("submitting", own("submitting", { status: "submitting" }));
    world.tasks.set("gone", own("gone", { homeserverTaskId: "job-gone" }));
    await start(engine, 1);
    await runUntil(() => world.looked.length > 0);
    expect(world.looked[0]).toEqual(["gone"]);
  });
});

describe("wave engine: the gate of a purge phase behind a long queue", () => {
  it("is asked while more main-phase rooms wait for a slot than a pass lists", async () => {
    const { engine, world } = setUp({ maxConcurrentJobs: 1 });
    const asked: string[] = [];
    world.gate = (_wave, room) => {
      asked.push(`${room.phase} ${room.roomId}`);
      return Promise.resolve({ ready: false, until: Date.now() + DAY, reason: "no" });
    };
    await start(engine, 20, "shutdown", MEMBERS_SEEN);
    await runUntil(() => world.sent.length === 1);
    await world.end(engine, "!r0:x");
    await runUntil(() => asked.length === 1);

    // Eighteen main rooms still queued, more than the 3 × 1 + 1 a pass lists.
    expect(asked).toEqual(["purge !r0:x"]);
    expect(world.sent.map((send) => `${send.phase} ${send.roomId}`)).toEqual(["main !r0:x", "main !r1:x"]);
  });
});
