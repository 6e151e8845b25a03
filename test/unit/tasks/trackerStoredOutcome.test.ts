import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker } from "../../../src/tasks/tracker.js";
import type { Clock } from "../../../src/util/clock.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import { runUntil, useFakeClock } from "./fakeTime.js";

const now = (): number => Date.now();
const clock: Clock = { now };
const ROOM = "!target:example.org";
let directory: string;
let tracker: TaskTracker | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-tracker-outcome-"));
  useFakeClock(FIXED_NOW);
});

afterEach(() => {
  tracker?.stop();
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

describe("TaskTracker: what it stores when a job ends", () => {
  it("keeps the job's result, status and end time on disk, where the next run of Warden reads them", async () => {
    const store = openTaskStore(directory, now);
    const queue = new FakeTaskQueue(clock);
    const job = queue.add("shutdown_and_purge_room", ROOM, "active");
    const task = sampleTask({ id: "s-000001", kind: "shutdown", roomId: ROOM, status: "active", homeserverTaskId: job.id, createdAt: FIXED_NOW, statusChangedAt: FIXED_NOW });
    await store.insert(task);
    const handlers = {
      purge: queue.handler("purge_history"),
      shutdown: queue.handler("shutdown_and_purge_room"),
      redact: queue.handler("redact_all_events"),
    };
    tracker = new TaskTracker(store, handlers, queue, new RecordingTaskNotifier(clock), clock, new MemoryLogger().log, DEFAULT_TRACKER_OPTIONS);

    tracker.track(task.id);
    queue.set(job.id, "complete", { outcome: { kickedUsers: ["@a:example.org"], failedToKickUsers: ["@b:example.org"] } });
    const tracking = tracker;
    await runUntil(() => !tracking.isTracking(task.id));

    const stored = openTaskStore(directory, now).get(task.id);
    expect(stored).toMatchObject({
      status: "complete",
      outcome: { kickedUsers: ["@a:example.org"], failedToKickUsers: ["@b:example.org"] },
      finishedAt: expect.any(Number) as unknown,
      finalNotificationSent: true,
    });
  });
});
