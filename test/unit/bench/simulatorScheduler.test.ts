import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TaskScheduler } from "../../../bench/simulator/scheduler.js";

let counter = 0;
const newId = (): string => `t${String(++counter)}`;

describe("the simulator's task scheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    counter = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs at most five jobs at once, in order, the rest scheduled until a slot frees (100 ms later)", () => {
    const scheduler = new TaskScheduler({ newId });
    const tasks = Array.from({ length: 7 }, (_, index) => scheduler.schedule("purge_history", `!r${String(index)}:x`, { durationMs: 1000 }));
    expect(tasks.map((task) => task.status)).toEqual(["active", "active", "active", "active", "active", "scheduled", "scheduled"]);
    expect(scheduler.runningCount()).toBe(5);

    vi.advanceTimersByTime(1000);
    expect(tasks.slice(0, 5).map((task) => task.status)).toEqual(Array(5).fill("complete"));
    expect(tasks[0]?.timestamp).toBe(1_001_000);
    // Synapse launches the next ones 100 ms after a task ends.
    expect(tasks[5]?.status).toBe("scheduled");
    vi.advanceTimersByTime(100);
    expect(tasks[5]?.status).toBe("active");
    expect(tasks[5]?.timestamp).toBe(1_001_100);
    expect(tasks[6]?.status).toBe("active");
    vi.advanceTimersByTime(1000);
    expect(tasks.every((task) => task.status === "complete")).toBe(true);
    scheduler.stop();
  });

  it("never runs a sixth job, however many are scheduled", () => {
    const scheduler = new TaskScheduler({ newId });
    for (let index = 0; index < 40; index++) scheduler.schedule("shutdown_and_purge_room", `!r${String(index)}:x`, { durationMs: 250 + (index % 3) * 100 });
    let most = 0;
    for (let step = 0; step < 400; step++) {
      most = Math.max(most, scheduler.list({ statuses: ["active"] }).length);
      vi.advanceTimersByTime(10);
    }
    expect(most).toBe(5);
    expect(scheduler.list({ statuses: ["complete"] })).toHaveLength(40);
    scheduler.stop();
  });

  it("leaves a task scheduled for later alone until its time, and max_timestamp leaves it out", () => {
    const scheduler = new TaskScheduler({ newId, intervalMs: 60_000 });
    const later = scheduler.schedule("purge_room", "!later:x", { durationMs: 10 }, 1_000_000 + 120_000);
    expect(later.status).toBe("scheduled");
    expect(scheduler.list({ statuses: ["scheduled"], maxTimestamp: 1_000_000 + 3_600_000 }).map((task) => task.id)).toEqual([later.id]);
    expect(scheduler.list({ statuses: ["scheduled"], maxTimestamp: 1_000_000 + 60_000 })).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(later.status).toBe("scheduled");
    // The minute's look for due tasks after its time starts it.
    vi.advanceTimersByTime(60_000);
    expect(later.status).toBe("active");
    scheduler.stop();
  });

  it("filters by action, resource and statuses, and orders by stamp", () => {
    const scheduler = new TaskScheduler({ newId });
    const failing = scheduler.schedule("purge_history", "!a:x", { durationMs: 50, failure: "boom" });
    vi.advanceTimersByTime(10);
    const other = scheduler.schedule("shutdown_and_purge_room", "!a:x", { durationMs: 100, complete: () => ({ kicked_users: [] }) });
    vi.advanceTimersByTime(200);
    expect(failing).toMatchObject({ status: "failed", error: "boom", timestamp: 1_000_050 });
    expect(other).toMatchObject({ status: "complete", result: { kicked_users: [] }, timestamp: 1_000_110 });
    expect(scheduler.list({ resourceId: "!a:x" }).map((task) => task.id)).toEqual([failing.id, other.id]);
    expect(scheduler.list({ actions: ["shutdown_and_purge_room"] }).map((task) => task.id)).toEqual([other.id]);
    expect(scheduler.list({ statuses: ["active", "scheduled"] })).toEqual([]);
    expect(scheduler.list({ statuses: ["failed"], resourceId: "!a:x" }).map((task) => task.id)).toEqual([failing.id]);
    scheduler.stop();
  });
});
