import { afterEach, describe, expect, it, vi } from "vitest";
import { scheduledRunId, type RetentionPolicy } from "../../../src/model/retention.js";
import type { WaveRecord, WaveRequest } from "../../../src/model/waves.js";
import { RetentionScheduler, waveSelectionOf, type RetentionPlan } from "../../../src/retention/scheduler.js";
import type { RetentionStateRow } from "../../../src/retention/stateStore.js";
import type { Timers } from "../../../src/tasks/alarm.js";
import { systemClock } from "../../../src/util/clock.js";
import { err, type Result } from "../../../src/util/result.js";
import type { SelectionResult } from "../../../src/model/waves.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { MemoryRetentionStore, policy, RecordingMediaReporter, RecordingWaves, ScriptedMediaAdmin, ScriptedSelector } from "../../fakes/retention.js";
import { useFakeClock } from "../tasks/fakeTime.js";

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
/** 2025-01-15 12:00 UTC */
const T0 = Date.UTC(2025, 0, 15, 12);
const WARDEN = "@warden:example.org";

const timers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

const created: RetentionScheduler[] = [];

afterEach(async () => {
  for (const scheduler of created.splice(0)) await scheduler.stop();
  vi.useRealTimers();
});

interface Setup {
  readonly store?: MemoryRetentionStore;
  readonly waves?: RecordingWaves;
  readonly selector?: ScriptedSelector;
}

function setup(policies: readonly RetentionPolicy[], given: Setup = {}) {
  const store = given.store ?? new MemoryRetentionStore();
  const waves = given.waves ?? new RecordingWaves();
  const selector = given.selector ?? new ScriptedSelector();
  const logger = new MemoryLogger();
  const retention = new RetentionScheduler({
    policies,
    store,
    selector,
    waves,
    media: new ScriptedMediaAdmin(),
    reporter: new RecordingMediaReporter(),
    clock: systemClock,
    timers,
    log: logger.log,
    managementRoomId: "!mgmt:example.org",
    selfUserId: WARDEN,
  });
  created.push(retention);
  return { retention, store, waves, selector, logger };
}

function storeWith(...rows: RetentionStateRow[]): MemoryRetentionStore {
  const store = new MemoryRetentionStore();
  for (const row of rows) store.rows.set(row.policy, row);
  return store;
}

function wave(id: string, change: Partial<WaveRecord>): WaveRecord {
  return {
    id,
    kind: "purge",
    requester: WARDEN,
    managementRoomId: "!mgmt:example.org",
    commandEventId: `$${id}`,
    selection: { listed: [], all: true },
    parameters: {},
    policy: "old-history",
    leftOut: [],
    status: "running",
    createdAt: T0,
    finalNotificationSent: false,
    ...change,
  };
}

function planOf(name = "old-history"): RetentionPlan {
  return { policy: policy({ name }), history: { cutoffTs: T0 - 180 * D, rooms: [{ roomId: "!a:example.org", label: "!a:example.org" }], leftOut: [] } };
}

async function advanceTo(time: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(time - Date.now());
}

const runTimes = (waves: RecordingWaves): string[] => waves.requests.map((request) => request.commandEventId);

describe("RetentionScheduler: its timer", () => {
  it("arms nothing before start: pausing or resuming a policy schedules no run", async () => {
    useFakeClock(T0);
    const { retention, waves } = setup([policy()]);

    await retention.pause("old-history");
    await retention.resume("old-history");

    expect(vi.getTimerCount()).toBe(0);
    await advanceTo(T0 + 3 * D);
    expect(waves.requests).toEqual([]);
  });

  it("after stop, has no timer left and arms none again, even when a policy is resumed", async () => {
    useFakeClock(T0);
    const { retention, waves } = setup([policy()]);
    await retention.start();
    expect(vi.getTimerCount()).toBe(1);

    await retention.stop();
    expect(vi.getTimerCount()).toBe(0);
    await retention.pause("old-history");
    await retention.resume("old-history");

    expect(vi.getTimerCount()).toBe(0);
    await advanceTo(T0 + 3 * D);
    expect(waves.requests).toEqual([]);
  });

  it("has no timer while every policy is paused, and one again when one resumes", async () => {
    useFakeClock(T0);
    const { retention } = setup([policy(), policy({ name: "bridges" })]);
    await retention.start();

    await retention.pause("old-history");
    expect(vi.getTimerCount()).toBe(1);
    await retention.pause("bridges");
    expect(vi.getTimerCount()).toBe(0);
    await retention.resume("bridges");
    expect(vi.getTimerCount()).toBe(1);
  });

  it("wakes for the policy due first", async () => {
    useFakeClock(T0);
    const { retention, waves } = setup([policy({ name: "daily" }), policy({ name: "often", everyMs: 30 * MIN, every: "30min" })]);
    await retention.start();

    await advanceTo(T0 + 30 * MIN);

    expect(runTimes(waves)).toEqual([scheduledRunId("often", T0 + 30 * MIN)]);
  });

  it("starts no further policy once a stop is asked for in the middle of a tick", async () => {
    useFakeClock(T0);
    const waves = new RecordingWaves();
    const { retention } = setup([policy(), policy({ name: "bridges" })], { waves });
    const start = waves.start.bind(waves);
    waves.start = (request: WaveRequest) => {
      // Warden drains while the first policy's wave is being recorded.
      void retention.stop();
      return start(request);
    };
    await retention.start();

    await advanceTo(T0 + D);

    expect(waves.requests.map((request) => request.policy)).toEqual(["old-history"]);
  });
});

describe("RetentionScheduler: what it stores", () => {
  it("writes at start only the schedules that changed", async () => {
    useFakeClock(T0);
    const kept: RetentionStateRow = { policy: "old-history", paused: false, nextRunAt: T0 + 5 * H, lastWaveId: "w-000009", lastStartedAt: T0 - D };
    const { retention, store } = setup([policy(), policy({ name: "bridges" })], { store: storeWith(kept) });

    await retention.start();

    expect(store.saved).toEqual([{ policy: "bridges", paused: false, nextRunAt: T0 + D }]);
  });

  it("keeps a schedule it could not store in memory, and says so in the log", async () => {
    useFakeClock(T0);
    const store = new MemoryRetentionStore();
    store.failure = new Error("the disk is full");
    const { retention, logger } = setup([policy()], { store });

    await retention.start();

    expect(retention.states()[0]?.nextRunAt).toBe(T0 + D);
    expect(logger.withMessage("could not store a retention policy's schedule")).toHaveLength(1);
  });

  it("starts a moderator's run it could not record, and says so in the log", async () => {
    useFakeClock(T0);
    const store = new MemoryRetentionStore();
    const { retention, logger, waves } = setup([policy()], { store });
    store.failure = new Error("the disk is full");

    expect((await retention.runNow(planOf(), "@alice:example.org", "$command")).ok).toBe(true);

    expect(waves.requests).toHaveLength(1);
    expect(logger.withMessage("could not record a retention run")).toHaveLength(1);
  });

  it("tallies a run still going without a finishing time", async () => {
    useFakeClock(T0);
    const { retention } = setup([policy()]);
    await retention.runNow(planOf(), "@alice:example.org", "$command");

    expect(retention.states()[0]?.lastRun).toStrictEqual({ waveId: "w-000001", startedAt: T0, purged: 0, skipped: 0, failed: 0 });
  });
});

describe("RetentionScheduler: resume", () => {
  it("keeps a next run that is still ahead", async () => {
    useFakeClock(T0);
    const { retention } = setup([policy()]);
    await retention.start();
    await retention.pause("old-history");
    vi.setSystemTime(T0 + H);

    expect(await retention.resume("old-history")).toMatchObject({ ok: true, value: { nextRunAt: T0 + D } });
  });

  it("reschedules a next run that is due the moment it resumes, rather than run it at once", async () => {
    useFakeClock(T0);
    const { retention, waves } = setup([policy()]);
    await retention.start();
    await retention.pause("old-history");
    vi.setSystemTime(T0 + D);

    expect(await retention.resume("old-history")).toMatchObject({ ok: true, value: { nextRunAt: T0 + 2 * D } });
    await advanceTo(T0 + D + H);
    expect(waves.requests).toEqual([]);
  });
});

describe("RetentionScheduler: a run lost in a restart", () => {
  it("is found when it started at the very moment of its slot", async () => {
    useFakeClock(T0 + D);
    const waves = new RecordingWaves();
    waves.adopt(wave("w-lost", { createdAt: T0 + D }));
    const { retention, logger } = setup([policy()], { waves, store: storeWith({ policy: "old-history", paused: false, nextRunAt: T0 + D }) });

    await retention.start();

    expect(retention.states()[0]).toMatchObject({ nextRunAt: T0 + 2 * D, lastRun: { waveId: "w-lost", startedAt: T0 + D } });
    expect(logger.withMessage("retention run found unrecorded after a restart; not run again")).toHaveLength(1);
  });

  it("is only a wave of this policy, started at or after the slot, and not the run already recorded", async () => {
    useFakeClock(T0 + D + H);
    const waves = new RecordingWaves();
    waves.adopt(wave("w-older", { createdAt: T0 + D - 1 }));
    waves.adopt(wave("w-other", { createdAt: T0 + D + 20, policy: "bridges" }));
    waves.adopt(wave("w-recorded", { createdAt: T0 + D + 10 }));
    const row: RetentionStateRow = { policy: "old-history", paused: false, nextRunAt: T0 + D, lastWaveId: "w-recorded", lastStartedAt: T0 + D + 10 };
    const { retention, logger } = setup([policy()], { waves, store: storeWith(row) });

    await retention.start();

    expect(logger.withMessage("retention run found unrecorded after a restart; not run again")).toEqual([]);
    expect(retention.states()[0]?.lastRun?.waveId).toBe("w-recorded");
  });

  it("is not looked for while the slot is still ahead", async () => {
    useFakeClock(T0);
    const waves = new RecordingWaves();
    // Only a wall clock set back can show a wave created after a slot still to come.
    waves.adopt(wave("w-ahead", { createdAt: T0 + D + 5 }));
    const { retention, logger } = setup([policy()], { waves, store: storeWith({ policy: "old-history", paused: false, nextRunAt: T0 + D }) });

    await retention.start();

    expect(retention.states()[0]?.nextRunAt).toBe(T0 + D);
    expect(logger.withMessage("retention run found unrecorded after a restart; not run again")).toEqual([]);
  });
});

describe("RetentionScheduler: runs held back, and runs that go ahead", () => {
  it("refuses a moderator's run while a scheduled run of the policy is being started", async () => {
    useFakeClock(T0);
    const selector = new ScriptedSelector();
    let answer: (result: Result<SelectionResult, string>) => void = () => undefined;
    const scheduledSelection = new Promise<Result<SelectionResult, string>>((resolve) => (answer = resolve));
    const { retention, waves } = setup([policy()], { selector });
    await retention.start();
    selector.select = (request) => {
      selector.requests.push(request);
      return scheduledSelection;
    };
    await advanceTo(T0 + D);

    expect(await retention.runNow(planOf(), "@alice:example.org", "$command")).toEqual(err("a run of this policy is being started already"));
    answer(selector.answer);
    await vi.waitFor(() => {
      expect(runTimes(waves)).toEqual([scheduledRunId("old-history", T0 + D)]);
    });
    expect((await retention.runNow(planOf(), "@alice:example.org", "$later")).ok).toBe(false);
  });

  it("is held back by its own running run only: not by another policy's, nor by its own cancelled one", async () => {
    useFakeClock(T0);
    const waves = new RecordingWaves();
    waves.adopt(wave("w-bridges", { policy: "bridges" }));
    waves.adopt(wave("w-cancelled", { status: "cancelled", cancelledBy: "@alice:example.org" }));
    const { retention } = setup([policy(), policy({ name: "bridges" })], { waves });

    expect(await retention.runNow(planOf(), "@alice:example.org", "$command")).toMatchObject({ ok: true, value: { wave: { policy: "old-history" } } });
    expect(await retention.runNow(planOf("bridges"), "@alice:example.org", "$command-2")).toEqual(err("its previous run w-bridges is still running"));
  });

  it("logs why a run started no wave: the selection's error, or the engine's", async () => {
    useFakeClock(T0);
    const waves = new RecordingWaves();
    const selector = new ScriptedSelector();
    selector.answer = err("the homeserver did not answer");
    const { retention, logger } = setup([policy()], { waves, selector });
    await retention.start();
    await advanceTo(T0 + D);
    waves.failNextStart = new Error("the disk is full");
    await retention.runNow(planOf(), "@alice:example.org", "$command");

    const misses = logger.withMessage("retention run started no wave");
    expect(misses.map((entry) => entry["error"])).toEqual(["the homeserver did not answer", undefined]);
    expect(misses.map((entry) => (entry["err"] as { message?: unknown } | undefined)?.message)).toEqual([undefined, "the disk is full"]);
  });
});

describe("waveSelectionOf", () => {
  it("records each kind of selection as the board shows it", () => {
    expect(waveSelectionOf({ kind: "all" })).toEqual({ listed: [], all: true });
    expect(waveSelectionOf({ kind: "matching", words: "spam" })).toEqual({ listed: [], matching: "spam" });
    expect(waveSelectionOf({ kind: "rooms", rooms: ["!a:example.org"] })).toEqual({ listed: ["!a:example.org"] });
    expect(waveSelectionOf({ kind: "space", space: "#space:example.org" })).toEqual({ listed: [], space: "#space:example.org" });
  });
});
