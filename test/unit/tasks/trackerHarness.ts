import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, vi } from "vitest";
import type { TaskStore } from "../../../src/store/tasks.js";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker, type TrackerOptions } from "../../../src/tasks/tracker.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import type { Clock } from "../../../src/util/clock.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import { useFakeClock } from "./fakeTime.js";

export const now = (): number => Date.now();
export const clock: Clock = { now };
export const ROOM = "!target:example.org";

export interface World {
  readonly store: TaskStore;
  readonly queue: FakeTaskQueue;
  readonly notifier: RecordingTaskNotifier;
  readonly logger: MemoryLogger;
  readonly tracker: TaskTracker;
}

export interface TrackerHarness {
  /** A tracker as Warden builds it at start-up: a fresh TaskStore read from the test's directory, over a fake task queue. */
  readonly world: (options?: Partial<TrackerOptions>, queue?: FakeTaskQueue, store?: TaskStore) => World;
  /** A fresh TaskStore over the test's directory, as a later run of Warden opens it. */
  readonly openStore: () => TaskStore;
  /** The task as a later run of Warden would read it from disk. */
  readonly reloaded: (id: string) => TaskRecord | undefined;
}

/**
 * Registers the hooks every tracker test needs (a fresh directory, fake time from FIXED_NOW,
 * every tracker stopped afterwards) and hands out the worlds built in it.
 */
export function useTrackerHarness(prefix = "warden-tracker-"): TrackerHarness {
  let directory = "";
  const running: TaskTracker[] = [];
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), prefix));
    useFakeClock(FIXED_NOW);
  });
  afterEach(() => {
    for (const tracker of running.splice(0)) tracker.stop();
    vi.useRealTimers();
    rmSync(directory, { recursive: true, force: true });
  });
  const openStore = (): TaskStore => openTaskStore(directory, now);
  return {
    world: (options = {}, queue = new FakeTaskQueue(clock), store = openStore()): World => {
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
    },
    openStore,
    reloaded: (id) => openStore().get(id),
  };
}

let taskNumber = 0;

/** A purge task already accepted by the homeserver as `jobId`. */
export function purgeTask(jobId: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
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
export async function pass(milliseconds: number): Promise<void> {
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

export function times(queue: FakeTaskQueue, kind: "in-flight" | "own-status" | "of" | "resubmit"): number[] {
  return queue.requests.filter((request) => request.kind === kind).map((request) => request.at);
}
