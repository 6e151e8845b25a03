import { afterEach, describe, expect, it, vi } from "vitest";
import { scheduledRunId, type RetentionPolicy } from "../../../src/model/retention.js";
import { RetentionScheduler } from "../../../src/retention/scheduler.js";
import type { WardenDatabase } from "../../../src/store/database.js";
import { WardenDatabase as Database } from "../../../src/store/database.js";
import { SqliteRetentionStore } from "../../../src/store/retention.js";
import type { Timers } from "../../../src/tasks/alarm.js";
import { systemClock } from "../../../src/util/clock.js";
import { err, ok } from "../../../src/util/result.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { freshDirectory, makeReadOnly } from "../store/storeTestKit.js";
import { useFakeClock } from "../tasks/fakeTime.js";
import { policy, RecordingMediaReporter, RecordingWaves, ScriptedMediaAdmin, ScriptedSelector } from "../../fakes/retention.js";

const H = 3_600_000;
const D = 24 * H;
/** 2025-01-15 12:00 UTC */
const T0 = Date.UTC(2025, 0, 15, 12);
const MANAGEMENT_ROOM = "!mgmt:example.org";
const WARDEN = "@warden:example.org";

const timers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

const open: { database: WardenDatabase; scheduler: RetentionScheduler }[] = [];

afterEach(async () => {
  for (const { database, scheduler } of open.splice(0)) {
    await scheduler.stop();
    database.close();
  }
  vi.useRealTimers();
});

interface Setup {
  readonly directory?: string;
  readonly waves?: RecordingWaves;
  readonly selector?: ScriptedSelector;
  readonly media?: ScriptedMediaAdmin;
}

function scheduler(policies: readonly RetentionPolicy[], setup: Setup = {}) {
  const directory = setup.directory ?? freshDirectory();
  const database = Database.open(directory);
  const waves = setup.waves ?? new RecordingWaves();
  const selector = setup.selector ?? new ScriptedSelector();
  const logger = new MemoryLogger();
  const media = setup.media ?? new ScriptedMediaAdmin();
  const reporter = new RecordingMediaReporter();
  const instance = new RetentionScheduler({
    policies,
    store: new SqliteRetentionStore(database),
    selector,
    waves,
    media,
    reporter,
    clock: systemClock,
    timers,
    log: logger.log,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: WARDEN,
  });
  open.push({ database, scheduler: instance });
  return { scheduler: instance, waves, selector, logger, database, directory, media, reporter };
}

/** Moves fake time to `time`, running every timer due on the way and the work they start. */
async function advanceTo(time: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(time - Date.now());
}

/** A moderator's run: planned (as its preview does), then started with that plan. */
async function runNow(retention: RetentionScheduler, name: string, requester: string, commandEventId: string) {
  const planned = await retention.plan(name);
  if (!planned.ok) throw new Error(planned.error);
  return retention.runNow(planned.value, requester, commandEventId);
}

const startTimes = (waves: RecordingWaves): number[] => waves.requests.map((request) => Number(request.commandEventId.split(":")[2]));

describe("RetentionScheduler: when runs happen", () => {
  it("without at, runs one interval after start and then every interval, as a purge wave by Warden itself", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, selector } = scheduler([policy()]);
    await retention.start();

    await advanceTo(T0 + D - 1);
    expect(waves.requests).toEqual([]);
    await advanceTo(T0 + D);
    expect(waves.requests).toHaveLength(1);
    const cutoffTs = T0 + D - 180 * D;
    expect(waves.requests[0]).toEqual({
      kind: "purge",
      requester: WARDEN,
      managementRoomId: MANAGEMENT_ROOM,
      commandEventId: scheduledRunId("old-history", T0 + D),
      selection: { listed: [], all: true },
      parameters: { cutoffTs, cutoff: "2024-07-20 12:00:00 UTC", deleteLocalEvents: false, reason: "retention policy old-history" },
      policy: "old-history",
      rooms: [
        { roomId: "!a:example.org", label: "!a:example.org" },
        { roomId: "!b:example.org", label: "!b:example.org" },
      ],
      leftOut: [{ label: "!dm:example.org", roomId: "!dm:example.org", why: "a direct-message room (exclude.dm)" }],
    });
    expect(selector.requests[0]).toEqual({ listed: [], all: true, unknownRooms: "leave-out", exclude: policy().history?.exclude });

    waves.finish("w-000001", ["done", "skipped"]);
    await advanceTo(T0 + 3 * D - 1);
    expect(startTimes(waves)).toEqual([T0 + D, T0 + 2 * D]);
    waves.finish("w-000002", []);
    await advanceTo(T0 + 3 * D);
    expect(startTimes(waves)).toEqual([T0 + D, T0 + 2 * D, T0 + 3 * D]);
  });

  it("with at, runs at that UTC time of day, then every interval from it", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves } = scheduler([policy({ at: "03:30" })]);
    await retention.start();
    expect(retention.states()[0]?.nextRunAt).toBe(Date.UTC(2025, 0, 16, 3, 30));

    await advanceTo(Date.UTC(2025, 0, 16, 3, 30));
    waves.finish("w-000001", []);
    await advanceTo(Date.UTC(2025, 0, 17, 3, 30));

    expect(startTimes(waves)).toEqual([Date.UTC(2025, 0, 16, 3, 30), Date.UTC(2025, 0, 17, 3, 30)]);
  });

  it("with at and an interval under a day, steps from the time of day", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves } = scheduler([policy({ at: "03:30", everyMs: 6 * H, every: "6h" })]);
    await retention.start();

    await advanceTo(Date.UTC(2025, 0, 15, 15, 30));
    waves.finish("w-000001", []);
    await advanceTo(Date.UTC(2025, 0, 15, 21, 30));

    expect(startTimes(waves)).toEqual([Date.UTC(2025, 0, 15, 15, 30), Date.UTC(2025, 0, 15, 21, 30)]);
  });

  it("waits beyond the longest timer setTimeout allows (an interval of 60 days)", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves } = scheduler([policy({ everyMs: 60 * D, every: "60d" })]);
    await retention.start();

    await advanceTo(T0 + 60 * D - 1);
    expect(waves.requests).toEqual([]);
    await advanceTo(T0 + 60 * D);
    expect(startTimes(waves)).toEqual([T0 + 60 * D]);
  });
});

describe("RetentionScheduler: across a restart", () => {
  it("keeps the stored next run: a restart neither moves it nor runs it early", async () => {
    useFakeClock(T0);
    const first = scheduler([policy()]);
    await first.scheduler.start();
    await advanceTo(T0 + 12 * H);
    await first.scheduler.stop();

    const second = scheduler([policy()], { directory: first.directory });
    await second.scheduler.start();
    expect(second.scheduler.states()[0]?.nextRunAt).toBe(T0 + D);
    await advanceTo(T0 + D);

    expect(startTimes(second.waves)).toEqual([T0 + D]);
  });

  it("runs a slot missed while Warden was down once at start, not once per missed slot", async () => {
    useFakeClock(T0);
    const first = scheduler([policy({ at: "03:30" })]);
    await first.scheduler.start();
    await first.scheduler.stop();

    vi.setSystemTime(Date.UTC(2025, 0, 19, 10));
    const second = scheduler([policy({ at: "03:30" })], { directory: first.directory });
    await second.scheduler.start();
    await advanceTo(Date.UTC(2025, 0, 19, 10, 1));

    expect(startTimes(second.waves)).toEqual([Date.UTC(2025, 0, 19, 10)]);
    expect(second.scheduler.states()[0]?.nextRunAt).toBe(Date.UTC(2025, 0, 20, 3, 30));
  });

  it("records a run started just before a restart instead of starting it again", async () => {
    useFakeClock(T0);
    const first = scheduler([policy()]);
    await first.scheduler.start();
    await first.scheduler.stop();
    // The engine recorded the wave of the slot at T0 + 1d, and Warden stopped before the scheduler stored it.
    const waves = new RecordingWaves();
    vi.setSystemTime(T0 + D);
    const lost = await waves.start({ kind: "purge", requester: WARDEN, managementRoomId: MANAGEMENT_ROOM, commandEventId: scheduledRunId("old-history", T0 + D), selection: { listed: [], all: true }, parameters: {}, policy: "old-history", rooms: [], leftOut: [] });
    waves.requests.length = 0;

    vi.setSystemTime(T0 + D + H);
    const second = scheduler([policy()], { directory: first.directory, waves });
    await second.scheduler.start();
    await advanceTo(T0 + D + 2 * H);

    expect(waves.requests).toEqual([]);
    expect(second.scheduler.states()[0]).toMatchObject({ nextRunAt: T0 + 2 * D, lastRun: { waveId: lost.id, startedAt: T0 + D } });
    expect(second.logger.withMessage("retention run found unrecorded after a restart; not run again")).toHaveLength(1);
  });

  it("starts afresh when every was shortened in the config since the next run was stored", async () => {
    useFakeClock(T0);
    const first = scheduler([policy({ everyMs: 30 * D, every: "30d" })]);
    await first.scheduler.start();
    await first.scheduler.stop();

    const second = scheduler([policy({ everyMs: H, every: "1h" })], { directory: first.directory });
    await second.scheduler.start();

    expect(second.scheduler.states()[0]?.nextRunAt).toBe(T0 + H);
  });

  it("keeps running when the state cannot be stored, without starting the same slot again", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, database, logger } = scheduler([policy({ everyMs: H, every: "1h" })]);
    await retention.start();
    makeReadOnly(database);

    await advanceTo(T0 + H);
    await advanceTo(T0 + H + 30 * 60_000);

    expect(startTimes(waves)).toEqual([T0 + H]);
    expect(retention.states()[0]?.nextRunAt).toBe(T0 + 2 * H);
    expect(logger.withMessage("could not store a retention run and the next one; after a restart it may run again")).toHaveLength(1);
  });
});

describe("RetentionScheduler: runs that start no wave", () => {
  it("skips a slot while the policy's previous wave still runs, and says so in its state", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, logger } = scheduler([policy()]);
    await retention.start();
    await advanceTo(T0 + D);
    await advanceTo(T0 + 2 * D);

    expect(startTimes(waves)).toEqual([T0 + D]);
    expect(retention.states()[0]).toMatchObject({ nextRunAt: T0 + 3 * D, lastMiss: { at: T0 + 2 * D, why: "its previous run w-000001 is still running" } });
    expect(logger.withMessage("retention run started no wave")).toEqual([expect.objectContaining({ policy: "old-history", waveId: "w-000001" })]);

    waves.finish("w-000001", []);
    await advanceTo(T0 + 3 * D);
    expect(startTimes(waves)).toEqual([T0 + D, T0 + 3 * D]);
    expect(retention.states()[0]?.lastMiss).toBeUndefined();
  });

  it("starts no wave when the selection is empty, and no wave when it fails (logged as an error)", async () => {
    useFakeClock(T0);
    const selector = new ScriptedSelector();
    selector.answer = ok({ rooms: [], leftOut: [{ label: "!x:example.org", why: "protected" }] });
    const { scheduler: retention, waves, logger } = scheduler([policy()], { selector });
    await retention.start();

    await advanceTo(T0 + D);
    expect(retention.states()[0]?.lastMiss).toEqual({ at: T0 + D, why: "it selected no room (1 left out)" });
    selector.answer = err("the room list could not be read: the homeserver did not answer");
    await advanceTo(T0 + 2 * D);

    expect(waves.requests).toEqual([]);
    expect(retention.states()[0]).toMatchObject({
      nextRunAt: T0 + 3 * D,
      lastMiss: { at: T0 + 2 * D, why: "the rooms could not be selected: the room list could not be read: the homeserver did not answer" },
    });
    expect(logger.entries().filter((entry) => entry["msg"] === "retention run started no wave").map((entry) => entry["level"])).toEqual([30, 50]);
  });

  it("moves on to the next slot when the engine cannot start the wave", async () => {
    useFakeClock(T0);
    const waves = new RecordingWaves();
    waves.failNextStart = new Error("could not record wave w-1: the disk is full");
    const { scheduler: retention } = scheduler([policy()], { waves });
    await retention.start();
    await advanceTo(T0 + D + H);

    expect(retention.states()[0]).toMatchObject({ nextRunAt: T0 + 2 * D, lastMiss: { why: "the wave could not be started: could not record wave w-1: the disk is full" } });
  });
});

describe("RetentionScheduler: pause, resume, run now", () => {
  it("runs nothing while paused, keeps the pause across a restart, and resumes at the next slot, not at once", async () => {
    useFakeClock(T0);
    const first = scheduler([policy({ at: "03:30" })]);
    await first.scheduler.start();
    expect(await first.scheduler.pause("old-history")).toMatchObject({ ok: true, value: { paused: true } });
    await advanceTo(T0 + 3 * D);
    expect(first.waves.requests).toEqual([]);
    await first.scheduler.stop();

    const second = scheduler([policy({ at: "03:30" })], { directory: first.directory });
    await second.scheduler.start();
    expect(second.scheduler.states()[0]?.paused).toBe(true);
    const resumed = await second.scheduler.resume("old-history");
    expect(resumed).toMatchObject({ ok: true, value: { paused: false, nextRunAt: Date.UTC(2025, 0, 19, 3, 30) } });
    await advanceTo(Date.UTC(2025, 0, 19, 3, 30));

    expect(startTimes(second.waves)).toEqual([Date.UTC(2025, 0, 19, 3, 30)]);
  });

  it("refuses to pause when the pause cannot be stored, and stays unpaused", async () => {
    useFakeClock(T0);
    const { scheduler: retention, database } = scheduler([policy()]);
    await retention.start();
    makeReadOnly(database);

    expect(await retention.pause("old-history")).toEqual(err("could not record the state of retention policy old-history: the database is read-only (check the data directory's permissions and mount)"));
    expect(retention.states()[0]?.paused).toBe(false);
  });

  it("runs now for the moderator without moving the schedule, and shows the last run's counts", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves } = scheduler([policy({ local: true })]);
    await retention.start();

    const started = await runNow(retention, "old-history", "@alice:example.org", "$command");
    expect(started).toMatchObject({ ok: true, value: { wave: { id: "w-000001" } } });
    expect(waves.requests[0]).toMatchObject({ requester: "@alice:example.org", commandEventId: "$command", parameters: { deleteLocalEvents: true } });
    expect(await runNow(retention, "old-history", "@alice:example.org", "$again")).toEqual(err("its previous run w-000001 is still running"));

    vi.setSystemTime(T0 + H);
    waves.finish("w-000001", ["done", "failed"]);
    expect(retention.states()).toEqual([
      {
        policy: policy({ local: true }),
        paused: false,
        nextRunAt: T0 + D,
        lastRun: { waveId: "w-000001", startedAt: T0, finishedAt: T0 + H, purged: 1, skipped: 0, failed: 1 },
        lastMiss: { at: T0, why: "its previous run w-000001 is still running" },
      },
    ]);
  });

  it("runs exactly the plan it is given (the rooms and cut-off a preview showed), selecting nothing again", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, selector } = scheduler([policy()]);
    const rooms = [{ roomId: "!shown:example.org", label: "#shown:example.org" }];
    const leftOut = [{ label: "!p:example.org", why: "protected" }];

    await retention.runNow({ policy: policy(), history: { cutoffTs: T0 - 7 * D, rooms, leftOut } }, "@alice:example.org", "$command");

    expect(selector.requests).toEqual([]);
    expect(waves.requests[0]).toMatchObject({ rooms, leftOut, parameters: { cutoffTs: T0 - 7 * D, cutoff: "2025-01-08 12:00:00 UTC" } });
  });

  it("runs a paused policy when a moderator asks", async () => {
    useFakeClock(T0);
    const { scheduler: retention } = scheduler([policy()]);
    await retention.start();
    await retention.pause("old-history");

    expect((await runNow(retention, "old-history", "@alice:example.org", "$command")).ok).toBe(true);
  });

  it("names the policies when asked for an unknown one", async () => {
    useFakeClock(T0);
    const { scheduler: retention } = scheduler([policy(), policy({ name: "bridges" })]);
    const { scheduler: none } = scheduler([]);

    expect(await retention.runNow({ policy: policy({ name: "old" }), history: { cutoffTs: T0, rooms: [], leftOut: [] } }, "@alice:example.org", "$c")).toEqual(err("there is no retention policy old; the policies are old-history, bridges"));
    expect(await retention.pause("old")).toEqual(err("there is no retention policy old; the policies are old-history, bridges"));
    expect(await none.plan("old")).toEqual(err("there is no retention policy old: none is configured (config key retention)"));
  });
});

describe("RetentionScheduler.checkAtStart", () => {
  it("names each policy whose selection is empty today or fails, by its place in the config", async () => {
    useFakeClock(T0);
    const selector = new ScriptedSelector();
    const { scheduler: retention } = scheduler([policy(), policy({ name: "spam", selection: { kind: "matching", words: "spam" } }), policy({ name: "space", selection: { kind: "space", space: "#space:example.org" } })], { selector });
    const answers = [selector.answer, ok({ rooms: [], leftOut: [] }), err("the space #space:example.org is not known to this homeserver")];
    selector.select = (request) => {
      selector.requests.push(request);
      return Promise.resolve(answers[selector.requests.length - 1] ?? err("unexpected"));
    };

    expect(await retention.checkAtStart()).toEqual([
      "retention[1] (spam): selects no room today; its runs start no wave until it does",
      "retention[2] (space): the rooms could not be selected: the space #space:example.org is not known to this homeserver",
    ]);
    expect(selector.requests.slice(1)).toEqual([
      { listed: [], matching: "spam", unknownRooms: "leave-out", exclude: policy().history?.exclude },
      { listed: [], space: { kind: "alias", alias: "#space:example.org" }, unknownRooms: "leave-out", exclude: policy().history?.exclude },
    ]);
  });

  // With many policies or a slow homeserver the check takes long; Warden handles commands from
  // its sync on, so start (called once the sync runs) must not wait for it.
  it("runs at start in the background: start does not wait for it, and its problems are logged once it ends", async () => {
    const selector = new ScriptedSelector();
    const { scheduler: retention, logger } = scheduler([policy(), policy({ name: "spam", selection: { kind: "matching", words: "spam" } })], { selector });
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    selector.select = async (request) => {
      selector.requests.push(request);
      await answered;
      return request.matching === undefined ? ok({ rooms: [{ roomId: "!a:example.org", label: "!a:example.org" }], leftOut: [] }) : ok({ rooms: [], leftOut: [] });
    };

    await retention.start();
    expect(selector.requests).toHaveLength(1);
    expect(logger.withMessage("retention policy")).toEqual([]);

    answer();
    await vi.waitFor(() => {
      expect(logger.withMessage("retention policy")).toEqual([
        expect.objectContaining({ level: 40, problem: "retention[1] (spam): selects no room today; its runs start no wave until it does" }),
      ]);
    });
  });

  it("logs a check that fails unexpectedly as an error, never as an unhandled rejection", async () => {
    const selector = new ScriptedSelector();
    const { scheduler: retention, logger } = scheduler([policy()], { selector });
    selector.select = () => Promise.reject(new Error("a bug in the selector"));

    await retention.start();

    await vi.waitFor(() => {
      const logged = logger.withMessage("retention policies could not be checked at start");
      expect(logged.map((entry) => [entry["level"], (entry["err"] as { message?: unknown } | undefined)?.message])).toEqual([[50, "a bug in the selector"]]);
    });
  });

  it("passes listed rooms as references and the selection as typed for the board", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, selector } = scheduler([policy({ selection: { kind: "rooms", rooms: ["!a:example.org", "#b:example.org"] } })]);
    await runNow(retention, "old-history", "@alice:example.org", "$c");

    expect(selector.requests[0]?.listed).toEqual([
      { kind: "id", roomId: "!a:example.org" },
      { kind: "alias", alias: "#b:example.org" },
    ]);
    expect(waves.requests[0]?.selection).toEqual({ listed: ["!a:example.org", "#b:example.org"] });
  });
});
