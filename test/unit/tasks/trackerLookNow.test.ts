import { describe, expect, it } from "vitest";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { runUntil } from "./fakeTime.js";
import { pass, purgeTask, ROOM, times, useTrackerHarness } from "./trackerHarness.js";

const { world } = useTrackerHarness("warden-tracker-look-now-");

/** Real event-loop turns without moving fake time: lets disk writes and promise chains settle. */
async function turns(count = 10): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe("TaskTracker.lookNow: a job the wave engine saw missing from the homeserver's queue", () => {
  it("is read on its own at once, not at the next tick, and its end is recorded then", async () => {
    const { store, queue, tracker, notifier } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    tracker.track(task.id);
    await runUntil(() => times(queue, "in-flight").length === 1);
    const lastRead = times(queue, "in-flight")[0] ?? 0;
    queue.set(job.id, "complete");

    tracker.lookNow([task.id]);
    await runUntil(() => store.get(task.id)?.status === "complete");

    expect(times(queue, "own-status")).toEqual([Date.now()]);
    // Well before the loop's next read of the queue would have seen it gone.
    expect(Date.now() - lastRead).toBeLessThan(1_000);
    expect(times(queue, "in-flight")).toEqual([lastRead]);
    await runUntil(() => notifier.of("finished").some((finished) => finished.id === task.id));
  });

  it("a job still queued turns the loop to per-job polling, as on a homeserver that lists only some statuses", async () => {
    const { store, queue, tracker, logger } = world();
    queue.firstStatusOnly = true;
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);
    tracker.track(task.id);
    await runUntil(() => times(queue, "in-flight").length === 1);

    tracker.lookNow([task.id]);
    await runUntil(() => times(queue, "own-status").length === 1);
    await turns();

    expect(tracker.perJob).toBe(true);
    expect(logger.withMessage("following each job on its own from now on: one status request per job")).toHaveLength(1);
  });

  it("is not read again when asked again within a second, and is read again after it; between, the queue follows it as before", async () => {
    const { store, queue, tracker } = world({ ceilingMs: 60_000, listRequestsPerMinute: 1 });
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    tracker.track(task.id);
    await runUntil(() => times(queue, "in-flight").length === 1);
    // The look finds nothing out (a passing failure): the task stays followed by the queue.
    queue.ownFailures.push(FakeTaskQueue.error("server-error", 502));

    tracker.lookNow([task.id]);
    await runUntil(() => times(queue, "own-status").length === 1);
    await turns();
    tracker.lookNow([task.id]);
    await pass(500);
    expect(times(queue, "own-status")).toHaveLength(1);

    await pass(3_000);
    expect(times(queue, "own-status")).toHaveLength(1);
    expect(tracker.perJob).toBe(false);
    tracker.lookNow([task.id]);
    await runUntil(() => times(queue, "own-status").length === 2);
  });

  it("asked while a tick is under way, it reads the job as soon as that tick ends, not at the loop's next pace", async () => {
    const { store, queue, tracker } = world({ firstTickMs: 1_000, ceilingMs: 60_000, listRequestsPerMinute: 60 });
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    let release: (() => void) | undefined;
    const inFlight = queue.inFlight.bind(queue);
    queue.inFlight = () =>
      new Promise((resolve) => {
        release = () => {
          resolve(inFlight());
        };
      });
    tracker.track(task.id);
    await runUntil(() => release !== undefined);

    tracker.lookNow([task.id]);
    const endedAt = Date.now();
    release?.();
    await runUntil(() => times(queue, "own-status").length === 1);
    expect((times(queue, "own-status")[0] ?? 0) - endedAt).toBeLessThan(100);
  });

  it("ignores tasks it does not follow, and does nothing once stopped", async () => {
    const { queue, tracker } = world();
    tracker.lookNow(["p-unknown"]);
    await pass(3_000);
    tracker.stop();
    tracker.lookNow(["p-unknown"]);
    await pass(3_000);
    expect(queue.requests).toEqual([]);
  });

  it("on a homeserver that lists every job, a job missing from a read yet running (Synapse ran it again) keeps the queue following it", async () => {
    const { store, queue, tracker, logger } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    tracker.track(task.id);
    await runUntil(() => times(queue, "in-flight").length === 1);

    tracker.lookNow([task.id]);
    await runUntil(() => times(queue, "own-status").length === 1);
    await turns();
    expect(tracker.perJob).toBe(false);
    expect(logger.withMessage("following each job on its own from now on: one status request per job")).toEqual([]);

    // It ends: the loop's next read of the queue finds it gone and reads its status once.
    queue.set(job.id, "complete");
    await runUntil(() => store.get(task.id)?.status === "complete");
    expect(times(queue, "in-flight").length).toBeGreaterThan(1);
    expect(times(queue, "own-status")).toHaveLength(2);
  });
});
