import { describe, expect, it, vi } from "vitest";
import { LOST_TASK_REASON } from "../../../src/tasks/tracker.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { runUntil } from "./fakeTime.js";
import { ROOM, pass, purgeTask, times, useTrackerHarness } from "./trackerHarness.js";

const { world, openStore, reloaded } = useTrackerHarness();

describe("TaskTracker: one loop, statuses from the task queue", () => {
  it("scheduled -> active -> complete: one progress update, one final notification, one own-status read (the result)", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM);
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.track(task.id);
    await pass(5_000);
    queue.set(job.id, "active");
    await pass(5_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("progressed").map((record) => record.status)).toEqual(["active"]);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
    expect(queue.requests.filter((request) => request.kind === "own-status").map((request) => request.jobId)).toEqual([job.id]);
    expect(reloaded(task.id)).toMatchObject({ status: "complete", finalNotificationSent: true, finishedAt: times(queue, "own-status")[0] });
  });

  it("a purge queued behind others stays queued although its own status says active; running time counts from Synapse's start", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM);
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.track(task.id);
    await pass(60_000);
    const startedAt = Date.now() - 700; // Synapse started it between two ticks
    queue.set(job.id, "active", { at: startedAt });
    await pass(5_000);

    expect(notifier.of("progressed").map((record) => record.status)).toEqual(["active"]);
    expect(reloaded(task.id)).toMatchObject({ status: "active", statusChangedAt: startedAt });
    expect(times(queue, "own-status")).toEqual([]);
  });

  it("failed: the homeserver's reason reaches the final notification and the store", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await pass(3_000);
    queue.set(job.id, "failed", { error: "out of disk space" });
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("progressed")).toEqual([]);
    expect(notifier.of("finished").map((record) => [record.status, record.reason])).toEqual([["failed", "out of disk space"]]);
    expect(reloaded(task.id)).toMatchObject({ status: "failed", reason: "out of disk space", finalNotificationSent: true });
  });

  it("a job that left the queue and whose own status answers 404 ends as unknown with LOST_TASK_REASON", async () => {
    const { store, queue, notifier, tracker } = world();
    const task = purgeTask("job-forgotten", { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(queue.count("in-flight")).toBe(1);
    expect(queue.count("own-status")).toBe(1);
    expect(notifier.of("finished").map((record) => [record.status, record.reason])).toEqual([["unknown", LOST_TASK_REASON]]);
  });

  it("routes each job's own status to the handler of its kind", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("shutdown_and_purge_room", ROOM, "complete");
    job.outcome = { kickedUsers: ["@a:example.org"] };
    const task = purgeTask(job.id, { kind: "shutdown", id: "s-000001" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("finished").map((record) => [record.status, record.outcome])).toEqual([["complete", { kickedUsers: ["@a:example.org"] }]]);
  });
});

describe("TaskTracker request budget and pace", () => {
  it.each([1, 10, 100])("asks the task queue once per tick with %i jobs in flight, and nothing more while they run", async (count) => {
    const { store, queue, tracker } = world();
    for (let index = 0; index < count; index++) {
      const status = index % 2 === 0 ? "active" : "scheduled";
      const job = queue.add("purge_history", `!room${index}:example.org`, status);
      const task = purgeTask(job.id, { roomId: `!room${index}:example.org`, status });
      await store.insert(task);
    }
    tracker.resumeAll();
    await pass(10 * 60_000);

    const perMinute = queue.requests.length / 10;
    expect(queue.requests.every((request) => request.kind === "in-flight")).toBe(true);
    // Quiet jobs: a tick every 1.7 s.
    expect(perMinute).toBeGreaterThanOrEqual(34);
    expect(perMinute).toBeLessThanOrEqual(36);
  });

  it("ticks about a second after a change, slowing to 1.7 s; never more than 40 requests in any minute however often statuses change", async () => {
    const { store, queue, tracker } = world();
    const jobs = Array.from({ length: 120 }, (_, index) => queue.add("purge_history", `!r${index}:example.org`));
    for (const [index, job] of jobs.entries()) await store.insert(purgeTask(job.id, { roomId: `!r${index}:example.org` }));
    tracker.resumeAll();
    await pass(20_000);
    const quiet = times(queue, "in-flight");
    const quietGaps = quiet.slice(1).map((time, index) => time - (quiet[index] ?? 0));
    expect(quietGaps.slice(-3)).toEqual([1_700, 1_700, 1_700]);

    // A change at every tick: one more job starts each second, for two minutes.
    const before = queue.requests.length;
    for (const job of jobs) {
      queue.set(job.id, "active");
      await pass(1_000);
    }
    const busy = times(queue, "in-flight").slice(before);
    const firstGap = (busy[0] ?? 0) - (quiet.at(-1) ?? 0);
    expect(firstGap).toBeLessThanOrEqual(1_700);
    for (const start of busy) expect(busy.filter((time) => time >= start && time < start + 60_000).length).toBeLessThanOrEqual(40);
    const gaps = busy.slice(1).map((time, index) => time - (busy[index] ?? 0));
    expect(Math.min(...gaps)).toBeLessThanOrEqual(1_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_700);
  });

  it("sends nothing while no job is in flight, and starts again when one is tracked", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id);
    await store.insert(task);
    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));
    const asked = queue.requests.length;

    await vi.advanceTimersByTimeAsync(3600_000);
    expect(queue.requests.length).toBe(asked);
    expect(vi.getTimerCount()).toBe(0);

    const next = queue.add("purge_history", ROOM);
    await store.insert(purgeTask(next.id, { id: "p-next01" }));
    tracker.track("p-next01");
    const trackedAt = Date.now();
    await pass(1_500);
    expect(queue.requests.slice(asked).map((request) => [request.kind, request.at - trackedAt])).toEqual([["in-flight", 1_000]]);
  });

  it("retries a task queue that fails for a while, logs the outage once, and changes nothing meanwhile", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    queue.queueFailures.push(FakeTaskQueue.error("server-error", 502), FakeTaskQueue.error("timeout"), FakeTaskQueue.error("unreachable"));

    tracker.track(task.id);
    await pass(10_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("progressed")).toEqual([]);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
    expect(logger.withMessage("status poll failed; will retry")).toHaveLength(1);
    expect(tracker.perJob).toBe(false);
  });
});

describe("TaskTracker where the task queue cannot be used", () => {
  it("a homeserver without scheduled_tasks (404): each job is polled on its own, at most every 3 s, said once in the log", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    queue.queueFailures.push(FakeTaskQueue.error("not-found", 404, "Unrecognized request"));
    const jobs = [queue.add("purge_history", ROOM, "active"), queue.add("purge_history", "!other:example.org", "active")];
    for (const job of jobs) await store.insert(purgeTask(job.id, { status: "active" }));

    tracker.resumeAll();
    await pass(60_000);
    for (const job of jobs) queue.set(job.id, "complete");
    await runUntil(() => notifier.of("finished").length === 2);

    expect(tracker.perJob).toBe(true);
    expect(queue.count("in-flight")).toBe(1);
    for (const job of jobs) {
      const polls = queue.requests.filter((request) => request.jobId === job.id).map((request) => request.at);
      const gaps = polls.slice(1).map((time, index) => time - (polls[index] ?? 0));
      expect(Math.max(...gaps)).toBeLessThanOrEqual(3_000);
      expect(gaps.slice(-3)).toEqual([3_000, 3_000, 3_000].slice(0, Math.min(3, gaps.length)));
    }
    expect(logger.lines.filter((line) => line.includes("following each job on its own"))).toHaveLength(1);
  });

  it("a homeserver that reads only the first of several statuses is noticed, and jobs are followed one by one", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    queue.firstStatusOnly = true;
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.track(task.id);
    await pass(10_000);
    queue.set(job.id, "active");
    await pass(10_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(tracker.perJob).toBe(true);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
    expect(logger.lines.filter((line) => line.includes("following each job on its own"))).toHaveLength(1);
  });
});

describe("TaskTracker: a job the homeserver reports as finished is finished once", () => {
  it("a status that moves backwards (Synapse resuming a job after its restart) is not reported", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("redact_all_events", "@spammer:example.org", "active");
    const task = purgeTask(job.id, { kind: "redact", id: "r-000001", roomId: "@spammer:example.org", status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await pass(5_000);
    queue.set(job.id, "scheduled");
    await pass(5_000);
    queue.set(job.id, "active");
    await pass(5_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("progressed")).toEqual([]);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
  });

  it("a lost own-status answer for an ended job is asked again, and the job ends once", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    queue.ownFailures.push(FakeTaskQueue.error("timeout"), FakeTaskQueue.error("unreachable"));

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(queue.count("own-status")).toBe(3);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
  });

  it("across a restart: a new store and tracker finish the job with one notification; a third run does nothing", async () => {
    const first = world();
    const job = first.queue.add("purge_history", ROOM);
    const task = purgeTask(job.id);
    await first.store.insert(task);
    first.tracker.track(task.id);
    await pass(3_000);
    first.queue.set(job.id, "active");
    await runUntil(() => first.notifier.of("progressed").length === 1);
    first.tracker.stop(); // Warden stops (or crashes) while the purge runs.

    const second = world({}, first.queue);
    second.tracker.resumeAll();
    await pass(3_000);
    first.queue.set(job.id, "complete");
    await runUntil(() => !second.tracker.isTracking(task.id));

    expect(first.notifier.of("finished")).toEqual([]);
    expect(second.notifier.of("progressed")).toEqual([]);
    expect(second.notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);

    const asked = first.queue.requests.length;
    const third = world({}, first.queue);
    third.tracker.resumeAll();
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(third.tracker.isTracking(task.id)).toBe(false);
    expect(first.queue.requests.length).toBe(asked);
    expect(third.notifier.calls).toEqual([]);
  });

  it("a task that ended before a crash but was never announced is announced once, without asking the homeserver", async () => {
    const seed = openStore();
    await seed.insert(purgeTask("job-done", { id: "p-ended1", status: "complete", finishedAt: Date.now(), finalNotificationSent: false }));

    const { queue, notifier, tracker } = world();
    tracker.resumeAll();
    await runUntil(() => !tracker.isTracking("p-ended1"));
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(queue.requests).toEqual([]);
    expect(notifier.of("finished").map((record) => record.id)).toEqual(["p-ended1"]);
    expect(reloaded("p-ended1")?.finalNotificationSent).toBe(true);
  });

  it("a task already announced is left alone, even when asked to follow it", async () => {
    const seed = openStore();
    await seed.insert(purgeTask("job-done", { id: "p-ended2", status: "failed", reason: "x", finishedAt: Date.now(), finalNotificationSent: true }));

    const { queue, notifier, tracker } = world();
    tracker.resumeAll();
    tracker.track("p-ended2");
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(tracker.isTracking("p-ended2")).toBe(false);
    expect(queue.requests).toEqual([]);
    expect(notifier.calls).toEqual([]);
  });

  it("an undelivered or failing final notification is retried, backing off, and delivered exactly once", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    notifier.finishedAnswers.push(false, new Error("the room is gone"), true);
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));
    await vi.advanceTimersByTimeAsync(3600_000);

    const finished = notifier.calls.filter((call) => call.method === "finished");
    expect(finished.map((call) => call.task.status)).toEqual(["complete", "complete", "complete"]);
    expect((finished[1]?.at ?? 0) - (finished[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(logger.withMessage("final notification not delivered; will retry")).toHaveLength(2);
    expect(reloaded(task.id)).toMatchObject({ finalNotificationSent: true });
    expect(queue.count("own-status")).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("TaskTracker never forgets a job", () => {
  it("track() twice for one task: followed once, one request per tick, one final notification", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    tracker.track(task.id);
    await pass(10_000);
    tracker.track(task.id);
    const ticks = times(queue, "in-flight");
    expect(new Set(ticks).size).toBe(ticks.length);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));
    tracker.track(task.id);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(notifier.of("finished")).toHaveLength(1);
    expect(queue.count("own-status")).toBe(1);
  });

  it("stop() while a request is in flight: its answer changes nothing, and nothing is sent or scheduled afterwards", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    let answer: (() => void) | undefined;
    const inFlight = queue.inFlight.bind(queue);
    queue.inFlight = () =>
      new Promise((resolve) => {
        answer = () => {
          queue.set(job.id, "complete");
          resolve(inFlight());
        };
      });

    tracker.track(task.id);
    await runUntil(() => answer !== undefined);
    tracker.stop();
    answer?.();
    await vi.advanceTimersByTimeAsync(3600_000);

    expect(vi.getTimerCount()).toBe(0);
    expect(tracker.isTracking(task.id)).toBe(false);
    expect(queue.count("own-status")).toBe(0);
    expect(notifier.calls).toEqual([]);
    expect(reloaded(task.id)?.status).toBe("active");
  });

  it("a task tracked while a tick is in flight is followed from the next tick", async () => {
    const { store, queue, notifier, tracker } = world();
    const first = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(first.id, { id: "p-first1", status: "active" }));
    const second = queue.add("purge_history", "!b:example.org", "complete");
    await store.insert(purgeTask(second.id, { id: "p-secnd1", roomId: "!b:example.org", status: "active" }));
    let release: (() => void) | undefined;
    const inFlight = queue.inFlight.bind(queue);
    queue.inFlight = () => {
      if (release !== undefined) return inFlight();
      return new Promise((resolve) => {
        release = () => {
          resolve(inFlight());
        };
      });
    };

    tracker.track("p-first1");
    await runUntil(() => release !== undefined);
    tracker.track("p-secnd1");
    release?.();
    await runUntil(() => !tracker.isTracking("p-secnd1"));

    expect(notifier.of("finished").map((record) => record.id)).toEqual(["p-secnd1"]);
    expect(tracker.isTracking("p-first1")).toBe(true);
  });

  it("a tick that fails unexpectedly (the store throws) leaves every job tracked, and the next tick goes on", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);
    const update = store.update.bind(store);
    let broken = true;
    store.update = (id, change) => {
      if (broken) {
        broken = false;
        return Promise.reject(new Error("disk on fire"));
      }
      return update(id, change);
    };

    tracker.track(task.id);
    queue.set(job.id, "active");
    await pass(5_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(logger.withMessage("tracking tick failed unexpectedly")).toHaveLength(1);
    expect(notifier.of("progressed").map((record) => record.status)).toEqual(["active"]);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
  });
});

describe("TaskTracker stuck warning", () => {
  const options = { stuckAfterMs: 10 * 60_000 };

  it("does not count time a job waits for a homeserver slot (a queued purge reads active on its own status)", async () => {
    const { store, queue, notifier, tracker } = world(options);
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.track(task.id);
    await pass(30 * 60_000);
    expect(notifier.of("stuck")).toEqual([]);

    queue.set(job.id, "active");
    const startedAt = Date.now();
    await pass(9 * 60_000);
    expect(notifier.of("stuck")).toEqual([]);
    await pass(2 * 60_000);
    const stuck = notifier.calls.filter((call) => call.method === "stuck");
    expect(stuck).toHaveLength(1);
    expect((stuck[0]?.at ?? 0) - startedAt).toBeGreaterThanOrEqual(10 * 60_000);
    expect((stuck[0]?.at ?? 0) - startedAt).toBeLessThanOrEqual(10 * 60_000 + 2_000);
  });

  it("warns once, and not again after a restart", async () => {
    const first = world(options);
    const job = first.queue.add("purge_history", ROOM, "active");
    await first.store.insert(purgeTask(job.id, { id: "p-stuck1", status: "active" }));
    first.tracker.track("p-stuck1");
    await pass(30 * 60_000);
    expect(first.notifier.of("stuck")).toHaveLength(1);
    first.tracker.stop();

    const second = world(options, first.queue);
    second.tracker.resumeAll();
    await pass(30 * 60_000);
    expect(second.notifier.of("stuck")).toEqual([]);
    expect(reloaded("p-stuck1")?.warnedStuckAt).toBeDefined();
  });
});

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
