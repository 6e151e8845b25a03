import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TaskStore } from "../../../src/tasks/store.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import {
  DEFAULT_TRACKER_OPTIONS,
  LOST_TASK_REASON,
  NEVER_CONFIRMED_REASON,
  TaskTracker,
  type TrackerOptions,
} from "../../../src/tasks/tracker.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import type { Clock } from "../../../src/util/clock.js";
import { err, ok } from "../../../src/util/result.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { observed, pollFails, ScriptedTaskHandler, type PollAnswer, type RecoverAnswer } from "../../fakes/scriptedTaskHandler.js";
import { runUntil, useFakeClock } from "./fakeTime.js";

const now = (): number => Date.now();
const clock: Clock = { now };

let directory: string;
const running: TaskTracker[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-tracker-"));
  useFakeClock(FIXED_NOW);
});

afterEach(() => {
  for (const tracker of running.splice(0)) tracker.stop();
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

interface World {
  readonly store: TaskStore;
  readonly purge: ScriptedTaskHandler;
  readonly shutdown: ScriptedTaskHandler;
  readonly notifier: RecordingTaskNotifier;
  readonly logger: MemoryLogger;
  readonly tracker: TaskTracker;
}

/** A tracker as Warden builds it at start-up: a fresh TaskStore read from `directory`. */
function world(
  script: { polls?: PollAnswer[]; recoveries?: RecoverAnswer[]; shutdownPolls?: PollAnswer[] } = {},
  options: TrackerOptions = DEFAULT_TRACKER_OPTIONS,
): World {
  const store = openTaskStore(directory, now);
  const purge = new ScriptedTaskHandler(clock, script.polls ?? [], script.recoveries ?? []);
  const shutdown = new ScriptedTaskHandler(clock, script.shutdownPolls ?? []);
  const notifier = new RecordingTaskNotifier(clock);
  const logger = new MemoryLogger();
  const redact = new ScriptedTaskHandler(clock, []);
  const tracker = new TaskTracker(store, { purge, shutdown, redact }, notifier, clock, logger.log, options);
  running.push(tracker);
  return { store, purge, shutdown, notifier, logger, tracker };
}

function purgeTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleTask({
    id: "p-000001",
    status: "scheduled",
    homeserverTaskId: "purge-1",
    createdAt: Date.now(),
    statusChangedAt: Date.now(),
    ...overrides,
  });
}

/** The task as a later run of Warden would read it from disk. */
function reloaded(id: string): TaskRecord | undefined {
  return openTaskStore(directory, now).get(id);
}

/** True once the tracker has finished a step and is waiting on its next timer. */
function waitingForNextPoll(): boolean {
  return vi.getTimerCount() > 0;
}

describe("TaskTracker statuses", () => {
  it("scheduled -> active -> complete: one progress update for the change, one final notification", async () => {
    const { store, purge, notifier, tracker } = world({
      polls: [observed("scheduled"), observed("scheduled"), observed("active"), observed("active"), observed("active"), observed("complete")],
    });
    await store.insert(purgeTask());

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(purge.polls).toHaveLength(6);
    expect(purge.polls.map((poll) => poll.task.homeserverTaskId)).toEqual(Array<string>(6).fill("purge-1"));
    expect(notifier.of("progressed").map((task) => task.status)).toEqual(["active"]);
    const finished = notifier.of("finished");
    expect(finished.map((task) => task.status)).toEqual(["complete"]);
    expect(finished[0]?.finishedAt).toBe(purge.polls[5]?.at);
    expect(reloaded("p-000001")).toMatchObject({ status: "complete", finalNotificationSent: true, finishedAt: purge.polls[5]?.at });
  });

  it("failed: the homeserver's reason reaches the final notification and the store", async () => {
    const { store, notifier, tracker } = world({ polls: [observed("active"), observed("failed", { reason: "out of disk space" })] });
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(notifier.of("progressed")).toEqual([]);
    expect(notifier.of("finished").map((task) => [task.status, task.reason])).toEqual([["failed", "out of disk space"]]);
    expect(reloaded("p-000001")).toMatchObject({ status: "failed", reason: "out of disk space", finalNotificationSent: true });
  });

  it("a poll answered 404 ends the task as unknown with LOST_TASK_REASON", async () => {
    const { store, purge, notifier, tracker } = world({ polls: [pollFails("not-found", 404, "Unknown purge ID")] });
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(purge.polls).toHaveLength(1);
    expect(notifier.of("finished").map((task) => [task.status, task.reason])).toEqual([["unknown", LOST_TASK_REASON]]);
    expect(reloaded("p-000001")).toMatchObject({ status: "unknown", reason: LOST_TASK_REASON, finalNotificationSent: true });
  });

  it("transient poll failures are retried and change nothing", async () => {
    const { store, purge, notifier, logger, tracker } = world({
      polls: [pollFails("server-error", 502), pollFails("timeout"), pollFails("unreachable", undefined, "ECONNRESET"), observed("complete")],
    });
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(purge.polls).toHaveLength(4);
    expect(notifier.of("progressed")).toEqual([]);
    expect(notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
    expect(logger.withMessage("status poll failed; will retry").map((entry) => entry["error"])).toEqual([
      "server-error",
      "timeout",
      "unreachable",
    ]);
  });

  it("routes each task to the handler of its kind", async () => {
    const { store, purge, shutdown, notifier, tracker } = world({ shutdownPolls: [observed("complete")] });
    await store.insert(purgeTask({ id: "s-000001", kind: "shutdown", homeserverTaskId: "delete-1" }));

    tracker.track("s-000001");
    await runUntil(() => !tracker.isTracking("s-000001"));

    expect(purge.polls).toEqual([]);
    expect(shutdown.polls.map((poll) => poll.task.homeserverTaskId)).toEqual(["delete-1"]);
    expect(notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
  });
});

describe("TaskTracker polling rhythm", () => {
  it("backs off from about a second to the 30 s ceiling while nothing changes", async () => {
    const { store, purge, tracker } = world({ polls: [observed("active")] });
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => purge.polls.length >= 14 && waitingForNextPoll());

    const times = purge.polls.map((poll) => poll.at);
    const intervals = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    const expected = [1_000, 1_500, 2_250, 3_375, 5_062.5, 7_593.75, 11_390.625, 17_085.9375, 25_628.90625, 30_000, 30_000, 30_000, 30_000];
    expect(times[0]).toBe(FIXED_NOW);
    expect(intervals).toHaveLength(expected.length);
    intervals.forEach((interval, index) => {
      expect(Math.abs(interval - (expected[index] ?? Number.NaN))).toBeLessThanOrEqual(1);
    });
  });

  it("starts again at about a second once the homeserver answers after an outage", async () => {
    const failures = Array.from({ length: 6 }, () => pollFails("unreachable", undefined, "ECONNREFUSED"));
    const { store, purge, tracker } = world({ polls: [...failures, observed("active")] });
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => purge.polls.length >= 9 && waitingForNextPoll());

    const times = purge.polls.map((poll) => poll.at);
    const intervals = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    // Six failures back off to about 7.6 s; the first answer after them resets the pace to 1 s.
    expect(Math.abs((intervals[5] ?? 0) - 7_593.75)).toBeLessThanOrEqual(1);
    expect(Math.abs((intervals[6] ?? 0) - 1_000)).toBeLessThanOrEqual(1);
    expect(Math.abs((intervals[7] ?? 0) - 1_500)).toBeLessThanOrEqual(1);
  });

  it("starts again at about a second after the status changes", async () => {
    const { store, purge, notifier, tracker } = world({
      polls: [observed("scheduled"), observed("scheduled"), observed("scheduled"), observed("scheduled"), observed("active")],
    });
    await store.insert(purgeTask({ status: "scheduled" }));

    tracker.track("p-000001");
    await runUntil(() => purge.polls.length >= 7 && waitingForNextPoll());

    const times = purge.polls.map((poll) => poll.at);
    const intervals = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    // Four quiet polls, the change on the fifth, then the rhythm starts over.
    expect(intervals.map(Math.floor)).toEqual([1_000, 1_500, 2_250, 3_375, 1_000, 1_500]);
    expect(notifier.of("progressed").map((task) => task.status)).toEqual(["active"]);
  });

  it("warns exactly once when a job stays active longer than stuckAfterMs", async () => {
    const options: TrackerOptions = { ...DEFAULT_TRACKER_OPTIONS, stuckAfterMs: { purge: 60_000, shutdown: 60_000, redact: 60_000 } };
    const { store, purge, notifier, tracker } = world({ polls: [observed("active")] }, options);
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => Date.now() - FIXED_NOW >= 20 * 60_000 && waitingForNextPoll());

    const stuck = notifier.calls.filter((call) => call.method === "stuck");
    expect(stuck).toHaveLength(1);
    const warnedAt = stuck[0]?.at ?? Number.NaN;
    expect(warnedAt - FIXED_NOW).toBeGreaterThanOrEqual(60_000);
    // Warned at the first poll past the limit, not a poll later.
    const pollsBefore = purge.polls.filter((poll) => poll.at < warnedAt);
    expect(pollsBefore.every((poll) => poll.at - FIXED_NOW < 60_000)).toBe(true);
    expect(reloaded("p-000001")?.warnedStuckAt).toBe(warnedAt);
    expect(notifier.of("finished")).toEqual([]);
  });

  it("does not warn again about a stuck job after a restart", async () => {
    const options: TrackerOptions = { ...DEFAULT_TRACKER_OPTIONS, stuckAfterMs: { purge: 60_000, shutdown: 60_000, redact: 60_000 } };
    const first = world({ polls: [observed("active")] }, options);
    await first.store.insert(purgeTask({ status: "active" }));
    first.tracker.track("p-000001");
    await runUntil(() => first.notifier.of("stuck").length === 1 && waitingForNextPoll());
    first.tracker.stop();

    const second = world({ polls: [observed("active")] }, options);
    second.tracker.resumeAll();
    await runUntil(() => second.purge.polls.length >= 10 && waitingForNextPoll());

    expect(second.notifier.of("stuck")).toEqual([]);
  });

  it("stop() ends all polling", async () => {
    const { store, purge, tracker } = world({ polls: [observed("active")] });
    await store.insert(purgeTask({ status: "active" }));
    tracker.track("p-000001");
    await runUntil(() => purge.polls.length === 3 && waitingForNextPoll());

    tracker.stop();
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(purge.polls).toHaveLength(3);
    expect(tracker.isTracking("p-000001")).toBe(false);
  });
});

describe("TaskTracker final notification", () => {
  it("is retried after the room refused it, and delivered exactly once", async () => {
    const { store, notifier, logger, tracker } = world({ polls: [observed("complete")] });
    notifier.finishedAnswers.push(false, true);
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    const finished = notifier.calls.filter((call) => call.method === "finished");
    expect(finished.map((call) => call.task.status)).toEqual(["complete", "complete"]);
    expect((finished[1]?.at ?? 0) - (finished[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(logger.withMessage("final notification not delivered; will retry")).toHaveLength(1);
    expect(reloaded("p-000001")).toMatchObject({ finalNotificationSent: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is retried after the notifier threw, and delivered exactly once", async () => {
    const { store, notifier, tracker } = world({ polls: [observed("failed", { reason: "boom" })] });
    notifier.finishedAnswers.push(new Error("the room is gone"), true);
    await store.insert(purgeTask({ status: "active" }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(notifier.of("finished").map((task) => task.status)).toEqual(["failed", "failed"]);
    expect(reloaded("p-000001")).toMatchObject({ status: "failed", finalNotificationSent: true });
  });
});

describe("TaskTracker across restarts", () => {
  it("a new store and tracker on the same directory finish an interrupted task with one notification", async () => {
    const first = world({ polls: [observed("active")] });
    await first.store.insert(purgeTask({ status: "scheduled" }));
    first.tracker.track("p-000001");
    await runUntil(() => first.notifier.of("progressed").length === 1 && waitingForNextPoll());
    first.tracker.stop(); // Warden stops (or crashes) while the purge runs.

    const second = world({ polls: [observed("active"), observed("complete")] });
    second.tracker.resumeAll();
    await runUntil(() => !second.tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(first.notifier.of("finished")).toEqual([]);
    expect(second.purge.polls[0]?.task.status).toBe("active");
    expect(second.notifier.of("progressed")).toEqual([]);
    expect(second.notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
    expect(reloaded("p-000001")).toMatchObject({ status: "complete", finalNotificationSent: true });

    const third = world({ polls: [observed("complete")] });
    third.tracker.resumeAll();
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(third.tracker.isTracking("p-000001")).toBe(false);
    expect(third.purge.polls).toEqual([]);
    expect(third.notifier.calls).toEqual([]);
  });

  it("a task that ended before the crash but was never announced is announced once, without polling", async () => {
    const seed = openTaskStore(directory, now);
    await seed.insert(purgeTask({ status: "complete", finishedAt: Date.now(), finalNotificationSent: false }));

    const { purge, notifier, tracker } = world({ polls: [observed("complete")] });
    tracker.resumeAll();
    await runUntil(() => !tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(purge.polls).toEqual([]);
    expect(notifier.of("finished").map((task) => task.id)).toEqual(["p-000001"]);
    expect(reloaded("p-000001")?.finalNotificationSent).toBe(true);
  });

  it("a task already announced is left alone", async () => {
    const seed = openTaskStore(directory, now);
    await seed.insert(purgeTask({ status: "failed", reason: "x", finishedAt: Date.now(), finalNotificationSent: true }));

    const { purge, notifier, tracker } = world({ polls: [observed("failed")] });
    tracker.resumeAll();
    tracker.track("p-000001"); // even when asked to follow it explicitly
    await runUntil(() => !tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(tracker.isTracking("p-000001")).toBe(false);
    expect(purge.polls).toEqual([]);
    expect(notifier.calls).toEqual([]);
  });
});

describe("TaskTracker recovering a submission that was never confirmed", () => {
  it("adopts the job the homeserver has, then polls it to the end", async () => {
    const { store, purge, notifier, tracker } = world({
      recoveries: [ok("purge-found")],
      polls: [observed("active"), observed("complete")],
    });
    await store.insert(purgeTask({ status: "submitting", homeserverTaskId: undefined }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(purge.recoveries.map((call) => call.task.status)).toEqual(["submitting"]);
    expect(purge.polls.map((poll) => [poll.task.homeserverTaskId, poll.task.status])).toEqual([
      ["purge-found", "scheduled"],
      ["purge-found", "active"],
    ]);
    expect(notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
    expect(reloaded("p-000001")).toMatchObject({ homeserverTaskId: "purge-found", status: "complete", finalNotificationSent: true });
  });

  it("ends as unknown with NEVER_CONFIRMED_REASON when the homeserver has no such job", async () => {
    const { store, purge, notifier, tracker } = world({ recoveries: [ok(undefined)], polls: [observed("complete")] });
    await store.insert(purgeTask({ status: "submitting", homeserverTaskId: undefined }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(purge.recoveries).toHaveLength(1);
    expect(purge.polls).toEqual([]);
    expect(notifier.of("finished").map((task) => [task.status, task.reason])).toEqual([["unknown", NEVER_CONFIRMED_REASON]]);
    expect(reloaded("p-000001")).toMatchObject({ status: "unknown", reason: NEVER_CONFIRMED_REASON, finalNotificationSent: true });
  });

  it("keeps looking when the homeserver cannot be asked, and never gives up to a resend", async () => {
    const { store, purge, notifier, tracker } = world({
      recoveries: [err(adminError("unreachable")), err(adminError("server-error", 500)), ok("purge-late")],
      polls: [observed("complete")],
    });
    await store.insert(purgeTask({ status: "submitting", homeserverTaskId: undefined }));

    tracker.track("p-000001");
    await runUntil(() => !tracker.isTracking("p-000001"));

    expect(purge.recoveries).toHaveLength(3);
    expect(purge.polls.map((poll) => poll.task.homeserverTaskId)).toEqual(["purge-late"]);
    expect(notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
  });
});
