import { afterEach, describe, expect, it, vi } from "vitest";
import { mediaRunOf, mediaRunParameters, scheduledRunId, type RetentionMediaRun, type RetentionPolicy } from "../../../src/model/retention.js";
import { RetentionScheduler } from "../../../src/retention/scheduler.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteRetentionStore } from "../../../src/store/retention.js";
import type { AdminError } from "../../../src/synapse/adminClient.js";
import type { Timers } from "../../../src/tasks/alarm.js";
import { systemClock } from "../../../src/util/clock.js";
import { err, ok, type Result } from "../../../src/util/result.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { policy, RecordingMediaReporter, RecordingWaves, ScriptedMediaAdmin, ScriptedSelector } from "../../fakes/retention.js";
import { freshDirectory } from "../store/storeTestKit.js";
import { useFakeClock } from "../tasks/fakeTime.js";

const H = 3_600_000;
const D = 24 * H;
/** 2025-01-15 12:00 UTC */
const T0 = Date.UTC(2025, 0, 15, 12);
const WARDEN = "@warden:example.org";
const MEDIA = { local: { ms: 365 * D, text: "365d" }, remote: { ms: 30 * D, text: "30d" }, keepProfiles: true, sizeOver: 0 };
/** A policy with rooms and media, and one with media alone. */
const BOTH = policy({ media: MEDIA });
const MEDIA_ONLY = policy({ name: "media", history: undefined, media: MEDIA });

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

/** A scheduler on a real database, as Warden runs it: a second one on the same directory is Warden after a restart. */
function scheduler(policies: readonly RetentionPolicy[], setup: Setup = {}) {
  const directory = setup.directory ?? freshDirectory();
  const database = WardenDatabase.open(directory);
  const waves = setup.waves ?? new RecordingWaves();
  const selector = setup.selector ?? new ScriptedSelector();
  const media = setup.media ?? new ScriptedMediaAdmin();
  const reporter = new RecordingMediaReporter();
  const logger = new MemoryLogger();
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
    managementRoomId: "!mgmt:example.org",
    selfUserId: WARDEN,
  });
  open.push({ database, scheduler: instance });
  return { scheduler: instance, waves, selector, media, reporter, logger, directory };
}

async function advanceTo(time: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(time - Date.now());
}

const SERVER_ERROR: AdminError = { kind: "server-error", status: 500, detail: "Internal server error", userMessage: "the homeserver failed with HTTP 500: Internal server error" };

function mediaRun(at: number, local: Result<number, string>, remote: Result<number, string>): RetentionMediaRun {
  return { at, local: { beforeTs: at - 365 * D, files: local }, remote: { beforeTs: at - 30 * D, files: remote }, keepProfiles: true, sizeOver: 0 };
}

describe("RetentionScheduler: a policy with media", () => {
  it("deletes media by age first, then starts its wave, which carries the media step for its board and summary", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, media, reporter } = scheduler([BOTH]);
    let wavesWhenMediaAsked = -1;
    media.local = () => {
      wavesWhenMediaAsked = waves.requests.length;
      return Promise.resolve(ok({ deleted_media: ["a", "b"], total: 2 }));
    };
    await retention.start();

    await advanceTo(T0 + D);

    const at = T0 + D;
    expect(media.localCalls).toEqual([{ beforeTs: at - 365 * D, sizeGt: 0, keepProfiles: true }]);
    expect(media.remoteCalls).toEqual([at - 30 * D]);
    expect(wavesWhenMediaAsked).toBe(0);
    expect(waves.requests).toHaveLength(1);
    const carried = mediaRunOf(waves.requests[0]?.parameters ?? {});
    expect(carried).toEqual(mediaRun(at, ok(2), ok(5)));
    // The wave tells it: the report is not posted on its own, only written to the audit log.
    expect(reporter.reports).toEqual([{ policy: "old-history", run: carried, requester: WARDEN, announce: false }]);
    expect(retention.states()[0]?.lastMedia).toEqual(carried);
  });

  it("starts the wave when a media call fails, with the reason in the wave", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, media } = scheduler([BOTH]);
    media.local = () => Promise.resolve(err(SERVER_ERROR));
    await retention.start();

    await advanceTo(T0 + D);

    expect(waves.requests).toHaveLength(1);
    expect(waves.requests[0]?.rooms).toHaveLength(2);
    expect(mediaRunOf(waves.requests[0]?.parameters ?? {})).toEqual(mediaRun(T0 + D, err("the homeserver failed with HTTP 500: Internal server error"), ok(5)));
  });

  it("deletes media when the rooms cannot be selected or none is, and posts the report itself, saying why no room was purged", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, selector, media, reporter } = scheduler([BOTH]);
    selector.answer = err("the homeserver did not answer");
    await retention.start();

    await advanceTo(T0 + D);
    selector.answer = ok({ rooms: [], leftOut: [] });
    await advanceTo(T0 + 2 * D);

    expect(waves.requests).toEqual([]);
    expect(media.localCalls.map((call) => call.beforeTs)).toEqual([T0 + D - 365 * D, T0 + 2 * D - 365 * D]);
    expect(reporter.reports.map((report) => [report.announce, report.noWave])).toEqual([
      [true, "the rooms could not be selected: the homeserver did not answer"],
      [true, "it selected no room"],
    ]);
    expect(retention.states()[0]).toMatchObject({ nextRunAt: T0 + 3 * D, lastMiss: { why: "it selected no room" }, lastMedia: { at: T0 + 2 * D } });
  });

  it("does nothing at all, media included, while its previous run is still going", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, media } = scheduler([BOTH]);
    await retention.start();
    await advanceTo(T0 + D);
    expect(media.localCalls).toHaveLength(1);

    await advanceTo(T0 + 2 * D);

    expect(media.localCalls).toHaveLength(1);
    expect(waves.requests).toHaveLength(1);
    expect(retention.states()[0]?.lastMiss?.why).toBe("its previous run w-000001 is still running");
  });

  it("runs for a moderator with the cut-offs its preview showed, answered by the wave", async () => {
    useFakeClock(T0);
    const { scheduler: retention, media, reporter } = scheduler([BOTH]);
    const planned = await retention.plan("old-history");
    if (!planned.ok) throw new Error(planned.error);
    vi.setSystemTime(T0 + H);

    const started = await retention.runNow(planned.value, "@alice:example.org", "$command");

    expect(media.localCalls.map((call) => call.beforeTs)).toEqual([T0 - 365 * D]);
    expect(media.remoteCalls).toEqual([T0 - 30 * D]);
    expect(started).toMatchObject({ ok: true, value: { wave: { id: "w-000001" }, media: { at: T0 + H } } });
    expect(reporter.reports.map((report) => [report.requester, report.announce])).toEqual([["@alice:example.org", false]]);
  });
});

describe("RetentionScheduler: a media-only policy", () => {
  it("deletes media on its schedule, selects no room, starts no wave, and posts its own report", async () => {
    useFakeClock(T0);
    const { scheduler: retention, waves, selector, media, reporter } = scheduler([MEDIA_ONLY]);
    await retention.start();
    // Nothing to select at start either: it has no rooms to check.
    await vi.waitFor(() => {
      expect(retention.states()[0]?.nextRunAt).toBe(T0 + D);
    });

    await advanceTo(T0 + D);

    expect(selector.requests).toEqual([]);
    expect(waves.requests).toEqual([]);
    expect(media.localCalls).toHaveLength(1);
    expect(reporter.reports).toEqual([{ policy: "media", run: mediaRun(T0 + D, ok(2), ok(5)), requester: WARDEN, announce: true }]);
    expect(retention.states()[0]).toEqual({ policy: MEDIA_ONLY, paused: false, nextRunAt: T0 + 2 * D, lastMedia: mediaRun(T0 + D, ok(2), ok(5)) });
  });

  it("answers a moderator's run with its media step, and posts nothing itself", async () => {
    useFakeClock(T0);
    const { scheduler: retention, reporter } = scheduler([MEDIA_ONLY]);
    const planned = await retention.plan("media");
    if (!planned.ok) throw new Error(planned.error);

    expect(await retention.runNow(planned.value, "@alice:example.org", "$command")).toEqual(ok({ media: mediaRun(T0, ok(2), ok(5)) }));
    expect(reporter.reports.map((report) => report.announce)).toEqual([false]);
  });

  it("records the run when its report could not be made, so the slot does not run again at once", async () => {
    useFakeClock(T0);
    const { scheduler: retention, media, reporter, logger } = scheduler([MEDIA_ONLY]);
    reporter.mediaStepEnded = () => Promise.reject(new Error("a bug"));
    await retention.start();

    await advanceTo(T0 + D + H);

    expect(media.localCalls).toHaveLength(1);
    expect(retention.states()[0]?.nextRunAt).toBe(T0 + 2 * D);
    expect(logger.withMessage("a retention run's media step could not be reported")).toHaveLength(1);
  });
});

describe("RetentionScheduler: a media step cut short by a restart", () => {
  it("runs again with its slot at the next start (Synapse deletes by time, so asking twice deletes nothing twice), and only once", async () => {
    useFakeClock(T0);
    // The first Warden's local call never answers: it is killed while Synapse deletes.
    const stalled = new ScriptedMediaAdmin();
    let release: () => void = () => undefined;
    stalled.local = () =>
      new Promise((resolve) => {
        release = () => {
          resolve(err(SERVER_ERROR));
        };
      });
    const first = scheduler([BOTH], { media: stalled });
    await first.scheduler.start();
    await advanceTo(T0 + D);
    expect(stalled.localCalls).toHaveLength(1);
    expect(first.waves.requests).toEqual([]);

    try {
      vi.setSystemTime(T0 + D + H);
      const second = scheduler([BOTH], { directory: first.directory });
      await second.scheduler.start();
      await advanceTo(T0 + D + H + 1);

      expect(second.media.localCalls).toEqual([{ beforeTs: T0 + D + H - 365 * D, sizeGt: 0, keepProfiles: true }]);
      expect(second.waves.requests.map((request) => request.commandEventId)).toEqual([scheduledRunId("old-history", T0 + D + H)]);
      expect(second.scheduler.states()[0]?.nextRunAt).toBe(T0 + 2 * D);

      // A third start finds the run recorded: nothing runs before the next slot.
      const third = scheduler([BOTH], { directory: first.directory, waves: second.waves });
      await third.scheduler.start();
      await advanceTo(T0 + 2 * D - 1);
      expect(third.media.localCalls).toEqual([]);
    } finally {
      // The killed Warden's call ends, so the test can stop it.
      release();
    }
  });

  it("is not run again when its wave had started: the wave is adopted, and its parameters give the media step to !retention", async () => {
    useFakeClock(T0);
    const first = scheduler([BOTH]);
    await first.scheduler.start();
    await first.scheduler.stop();
    // The media step ended and the engine recorded the wave; Warden stopped before the scheduler stored the run.
    const waves = new RecordingWaves();
    vi.setSystemTime(T0 + D);
    const media = mediaRun(T0 + D, ok(40), ok(3));
    await waves.start({
      kind: "purge",
      requester: WARDEN,
      managementRoomId: "!mgmt:example.org",
      commandEventId: scheduledRunId("old-history", T0 + D),
      selection: { listed: [], all: true },
      parameters: { cutoffTs: T0 + D - 180 * D, ...mediaRunParameters(media) },
      policy: "old-history",
      rooms: [],
      leftOut: [],
    });

    vi.setSystemTime(T0 + D + H);
    const second = scheduler([BOTH], { directory: first.directory, waves });
    await second.scheduler.start();
    await advanceTo(T0 + D + 2 * H);

    expect(second.media.localCalls).toEqual([]);
    expect(waves.requests).toHaveLength(1);
    expect(second.scheduler.states()[0]).toMatchObject({ lastRun: { waveId: "w-000001" }, lastMedia: media, nextRunAt: T0 + 2 * D });
  });
});
