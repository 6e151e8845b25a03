import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TaskStore } from "../../../src/store/tasks.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker, type TrackerOptions } from "../../../src/tasks/tracker.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import type { Clock } from "../../../src/util/clock.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { useFakeClock } from "./fakeTime.js";

const now = (): number => Date.now();
const clock: Clock = { now };
const ROOM = "!target:example.org";

let directory: string;
const running: TaskTracker[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-tracker-mutants-"));
  useFakeClock(FIXED_NOW);
});

afterEach(() => {
  for (const tracker of running.splice(0)) tracker.stop();
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

interface World {
  readonly store: TaskStore;
  readonly queue: FakeTaskQueue;
  readonly notifier: RecordingTaskNotifier;
  readonly logger: MemoryLogger;
  readonly tracker: TaskTracker;
}

/** A tracker as Warden builds it at start-up: a fresh TaskStore read from `directory`, over a fake task queue. */
function world(options: Partial<TrackerOptions> = {}, queue = new FakeTaskQueue(clock), store = openTaskStore(directory, now)): World {
  const notifier = new RecordingTaskNotifier(clock);
  const logger = new MemoryLogger();
  const handlers = {
    purge: queue.handler("purge_history", { resubmit: true, queuedReadsActive: true }),
    shutdown: queue.handler("shutdown_and_purge_room", { resubmit: true }),
    redact: queue.handler("redact_all_events"),
  };
  const tracker = new TaskTracker(store, handlers, queue, notifier, clock, logger.log, { ...DEFAULT_TRACKER_OPTIONS, ...options });
  running.push(tracker);
  return { store, queue, notifier, logger, tracker };
}

let taskNumber = 0;

/** A purge task already accepted by the homeserver as `jobId`. */
function purgeTask(jobId: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
  taskNumber += 1;
  return sampleTask({
    id: `p-${String(taskNumber).padStart(6, "0")}`,
    roomId: ROOM,
    status: "scheduled",
    homeserverTaskId: jobId,
    createdAt: Date.now(),
    statusChangedAt: Date.now(),
    parameters: { deleteLocalEvents: false, cutoffTs: FIXED_NOW - 3600_000, cutoff: "an hour ago" },
    ...overrides,
  });
}

/**
 * Runs fake time forward by exactly `milliseconds`. A timer of our own marks the end, so time
 * never jumps past it; while the tracker has no timer of its own it is waiting on the disk,
 * and the real event loop gets turns (for a while: a tracker with nothing to do is idle).
 */
async function pass(milliseconds: number): Promise<void> {
  const end = { reached: false };
  setTimeout(() => {
    end.reached = true;
  }, milliseconds);
  let waitingSince = performance.now();
  while (!end.reached) {
    if (vi.getTimerCount() > 1 || performance.now() - waitingSince > 2_000) {
      await vi.advanceTimersToNextTimerAsync();
      waitingSince = performance.now();
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function times(queue: FakeTaskQueue, kind: "in-flight" | "own-status" | "of" | "resubmit"): number[] {
  return queue.requests.filter((request) => request.kind === kind).map((request) => request.at);
}

describe("TaskTracker stuck warning: the boundary", () => {
  it("warns at the tick where the job has run exactly stuckAfterMs, not a tick later", async () => {
    // One tick a second, and a budget that allows it, so a tick falls on the boundary.
    const { store, queue, notifier, tracker } = world({ stuckAfterMs: 10_000, firstTickMs: 1_000, ceilingMs: 1_000, listRequestsPerMinute: 60 });
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active", statusChangedAt: FIXED_NOW }));

    tracker.track(store.all()[0]?.id ?? "");
    await pass(15_000);

    expect(notifier.calls.filter((call) => call.method === "stuck").map((call) => call.at)).toEqual([FIXED_NOW + 10_000]);
  });
});

describe("TaskTracker per-job polling: back-off", () => {
  it("a status change resets a job's back-off: it is polled again after firstTickMs, then slows from there", async () => {
    const { store, queue, tracker } = world({ firstTickMs: 1_000, backoffFactor: 2, fallbackCeilingMs: 8_000 });
    queue.queueFailures.push(FakeTaskQueue.error("not-found", 404, "Unrecognized request"));
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id, { kind: "redact" });
    await store.insert(task);

    tracker.track(task.id);
    await pass(20_000);
    queue.set(job.id, "active");
    const changedFrom = Date.now();
    await pass(20_000);

    const polls = times(queue, "own-status");
    const before = polls.filter((time) => time <= changedFrom);
    const after = polls.filter((time) => time > changedFrom);
    const gaps = (list: number[]): number[] => list.slice(1).map((time, index) => time - (list[index] ?? 0));
    expect(gaps(before).slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
    // The first poll after the change sees it; the next comes firstTickMs later, then 1 s, 2 s, 4 s ...
    expect(gaps(after).slice(0, 4)).toEqual([1_000, 1_000, 2_000, 4_000]);
  });
});

describe("TaskTracker pace: a new job", () => {
  it("a job tracked after a quiet spell is looked at firstTickMs later, not at the slowed pace", async () => {
    const { store, queue, tracker } = world();
    const quiet = queue.add("purge_history", "!quiet:example.org", "active");
    await store.insert(purgeTask(quiet.id, { roomId: "!quiet:example.org", status: "active" }));
    tracker.track(store.all()[0]?.id ?? "");
    await pass(30_000);
    // Just after a task-queue request, at the slowed pace (1.7 s apart).
    while (Date.now() - (times(queue, "in-flight").at(-1) ?? 0) >= 100) await pass(100);
    const fresh = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(fresh.id);
    await store.insert(task);
    const trackedAt = Date.now();

    tracker.track(task.id);
    await pass(1_500);

    expect(times(queue, "in-flight").filter((time) => time > trackedAt)).toEqual([trackedAt + 1_000]);
  });
});
