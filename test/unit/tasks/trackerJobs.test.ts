import { describe, expect, it, vi } from "vitest";
import type { TaskKindHandler } from "../../../src/tasks/tracker.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import { err, ok } from "../../../src/util/result.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { runUntil } from "./fakeTime.js";
import { ROOM, clock, pass, purgeTask, times, useTrackerHarness, type World } from "./trackerHarness.js";

const { world, reloaded } = useTrackerHarness("warden-tracker-jobs-");

/** A fake homeserver whose own-status requests can be held open, and whose kinds can be made unable to rebuild a request. */
class HookedQueue extends FakeTaskQueue {
  /** Runs inside each own-status request, before it is answered. */
  duringPoll: ((task: TaskRecord) => Promise<void>) | undefined;
  /** False: every kind that could send a request again cannot rebuild this one (resubmit answers undefined). */
  rebuilds = true;

  override handler(action: string, options: Parameters<FakeTaskQueue["handler"]>[1] = {}): TaskKindHandler {
    const inner = super.handler(action, options);
    const poll: TaskKindHandler["poll"] = async (task) => {
      await this.duringPoll?.(task);
      return inner.poll(task);
    };
    const resend = inner.resubmit?.bind(inner);
    if (resend === undefined) return { action, poll };
    return { action, poll, resubmit: (task) => (this.rebuilds ? resend(task) : undefined) };
  }
}

/** Real turns of the event loop, with fake time standing still: lets writes and answers already under way finish. */
async function turns(count = 20): Promise<void> {
  for (let index = 0; index < count; index++) await new Promise((resolve) => setImmediate(resolve));
}

let lostNumber = 0;

/** A task whose submission left at `statusChangedAt` (now, unless told) and whose answer never came. */
function lost(overrides: Partial<TaskRecord> = {}): TaskRecord {
  lostNumber += 1;
  return sampleTask({
    id: `p-l${String(lostNumber).padStart(5, "0")}`,
    roomId: LOST_ROOM,
    status: "submitting",
    createdAt: Date.now(),
    statusChangedAt: Date.now(),
    parameters: { deleteLocalEvents: false, cutoffTs: FIXED_NOW - 3600_000, cutoff: "an hour ago" },
    ...overrides,
  });
}

const LOST_ROOM = "!lost:example.org";
const USER = "@spammer:example.org";
const NOT_FOUND = FakeTaskQueue.error("not-found", 404, "Unrecognized request");

describe("TaskTracker: a stop() during an await changes nothing afterwards", () => {
  it("stop() while the task queue is asked: a job it shows started is not recorded or reported", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);
    const inFlight = queue.inFlight.bind(queue);
    queue.inFlight = () => {
      tracker.stop();
      queue.set(job.id, "active");
      return inFlight();
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("in-flight") === 1);
    await turns();

    expect(reloaded(task.id)?.status).toBe("scheduled");
    expect(notifier.calls).toEqual([]);
  });

  it("stop() while a status change is written: the other jobs the same answer showed started are left as they were", async () => {
    const { store, queue, notifier, tracker } = world();
    const jobs = [queue.add("purge_history", ROOM, "active"), queue.add("purge_history", "!other:example.org", "active")];
    const tasks = [purgeTask(jobs[0]?.id ?? ""), purgeTask(jobs[1]?.id ?? "", { roomId: "!other:example.org" })];
    for (const task of tasks) await store.insert(task);
    const progressed = notifier.progressed.bind(notifier);
    notifier.progressed = (task) => {
      tracker.stop();
      return progressed(task);
    };

    tracker.resumeAll();
    await runUntil(() => notifier.of("progressed").length === 1);
    await turns();

    expect(notifier.of("progressed").map((task) => task.id)).toEqual([tasks[0]?.id]);
    expect(reloaded(tasks[1]?.id ?? "")?.status).toBe("scheduled");
  });

  it("stop() is final: an own status answered after it changes nothing, even once resumeAll() ran again", async () => {
    const queue = new HookedQueue(clock);
    const { store, notifier, tracker } = world({}, queue);
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    queue.duringPoll = () => {
      tracker.stop();
      tracker.resumeAll();
      return Promise.resolve();
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("own-status") === 1);
    await turns();

    expect(reloaded(task.id)?.status).toBe("active");
    expect(notifier.calls).toEqual([]);
  });

  it("stop() while a final status is written: no final notification is sent", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    const update = store.update.bind(store);
    store.update = (id, change) => {
      if (change.status === "complete") tracker.stop();
      return update(id, change);
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("own-status") === 1);
    await turns();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(notifier.of("finished")).toEqual([]);
  });

  it("stop() while a lost submission is looked for: the job found is not adopted", async () => {
    const { store, queue, notifier, tracker } = world();
    queue.add("purge_history", LOST_ROOM, "scheduled");
    const task = lost();
    await store.insert(task);
    const of = queue.of.bind(queue);
    queue.of = (action, resourceId) => {
      tracker.stop();
      return of(action, resourceId);
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("of") === 1);
    await turns();

    expect(reloaded(task.id)).toMatchObject({ status: "submitting" });
    expect(reloaded(task.id)?.homeserverTaskId).toBeUndefined();
    expect(notifier.calls).toEqual([]);
  });

  it("stop() while a lost submission is sent again: the job it created is not adopted", async () => {
    const { store, queue, notifier, tracker } = world();
    const task = lost({ statusChangedAt: FIXED_NOW - 10 * 60_000 });
    await store.insert(task);
    queue.resubmitAnswer = () => {
      tracker.stop();
      return ok("job-resent");
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("resubmit") === 1);
    await turns();

    expect(reloaded(task.id)?.homeserverTaskId).toBeUndefined();
    expect(reloaded(task.id)?.status).toBe("submitting");
    expect(notifier.calls).toEqual([]);
  });
});

describe("TaskTracker: reading the task queue", () => {
  it("a task that ended while the task queue was asked is not asked for its own status", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    const inFlight = queue.inFlight.bind(queue);
    queue.inFlight = async () => {
      queue.set(job.id, "complete");
      await store.update(task.id, { status: "complete", statusChangedAt: Date.now(), finishedAt: Date.now() });
      return inFlight();
    };

    tracker.track(task.id);
    await runUntil(() => queue.count("in-flight") === 1);
    await turns();

    expect(queue.count("own-status")).toBe(0);
  });

  it("a second outage of the task queue is logged again, after the homeserver answered in between", async () => {
    const { store, queue, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    queue.queueFailures.push(FakeTaskQueue.error("server-error", 502));

    tracker.resumeAll();
    await pass(10_000);
    queue.queueFailures.push(FakeTaskQueue.error("timeout"));
    await pass(10_000);

    expect(logger.withMessage("status poll failed; will retry")).toHaveLength(2);
    expect(logger.withMessage("the homeserver answers status polls again")).toHaveLength(2);
  });

  it("a job the queue lists as scheduled again (Synapse resumed it after a restart) is not warned about as stuck", async () => {
    const { store, queue, notifier, tracker } = world({ stuckAfterMs: 60_000 });
    const job = queue.add("purge_history", ROOM, "scheduled");
    await store.insert(purgeTask(job.id, { status: "active", statusChangedAt: FIXED_NOW - 3600_000 }));

    tracker.resumeAll();
    await pass(10_000);

    expect(queue.count("in-flight")).toBeGreaterThan(3);
    expect(notifier.of("stuck")).toEqual([]);
  });

  it("sends at most parallelFetches own-status requests at once when many jobs left the queue together", async () => {
    const queue = new HookedQueue(clock);
    const { store, notifier, tracker } = world({}, queue);
    for (let index = 0; index < 6; index++) {
      const job = queue.add("purge_history", `!r${index}:example.org`, "complete");
      await store.insert(purgeTask(job.id, { roomId: `!r${index}:example.org`, status: "active" }));
    }
    let open = 0;
    let most = 0;
    queue.duringPoll = async () => {
      open += 1;
      most = Math.max(most, open);
      await turns(3);
      open -= 1;
    };

    tracker.resumeAll();
    await runUntil(() => notifier.of("finished").length === 6);

    expect(queue.count("own-status")).toBe(6);
    expect(most).toBe(4);
  });
});

describe("TaskTracker: switching to one request per job", () => {
  it("the log says why: the task queue's answer", async () => {
    const { store, queue, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    queue.queueFailures.push(NOT_FOUND);

    tracker.resumeAll();
    await pass(3_000);

    const [warning] = logger.withMessage("following each job on its own from now on: one status request per job");
    expect(warning?.["reason"]).toContain("scheduled_tasks");
    expect(warning?.["reason"]).toContain(NOT_FOUND.userMessage);
  });

  it("the log says why: the job the queue left out, and its status", async () => {
    const { store, queue, logger, tracker } = world();
    queue.firstStatusOnly = true;
    const job = queue.add("purge_history", ROOM, "scheduled");
    await store.insert(purgeTask(job.id));

    tracker.resumeAll();
    await pass(3_000);

    const [warning] = logger.withMessage("following each job on its own from now on: one status request per job");
    expect(warning?.["reason"]).toBe(`the homeserver's task queue left out job ${job.id}, which is still active`);
  });

  it("is said once, however many jobs the queue left out in one answer", async () => {
    const { store, queue, logger, tracker } = world();
    queue.firstStatusOnly = true;
    for (const room of [ROOM, "!other:example.org", "!third:example.org"]) {
      const job = queue.add("redact_all_events", room, "scheduled");
      await store.insert(purgeTask(job.id, { kind: "redact", roomId: room }));
    }

    tracker.resumeAll();
    await pass(3_000);

    expect(tracker.perJob).toBe(true);
    expect(logger.withMessage("following each job on its own from now on: one status request per job")).toHaveLength(1);
  });

  it("polls at once a job whose own status was failing, whatever back-off it had built up", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    await store.insert(purgeTask(job.id, { status: "active" }));
    queue.ownFailures.push(...Array.from({ length: 30 }, () => FakeTaskQueue.error("timeout")));

    tracker.resumeAll();
    await pass(15_000);
    queue.queueFailures.push(NOT_FOUND);
    await pass(5_000);

    expect(tracker.perJob).toBe(true);
    const fellBackAt = times(queue, "in-flight").at(-1) ?? 0;
    expect(times(queue, "own-status").filter((time) => time >= fellBackAt)[0]).toBe(fellBackAt);
  });
});

describe("TaskTracker per-job polling: a failing own status", () => {
  it("is asked again backing off, not at once", async () => {
    const { store, queue, tracker } = world();
    queue.queueFailures.push(NOT_FOUND);
    queue.ownFailures.push(FakeTaskQueue.error("timeout"), FakeTaskQueue.error("unreachable"), FakeTaskQueue.error("server-error", 502));
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));

    tracker.resumeAll();
    await pass(15_000);

    const polls = times(queue, "own-status");
    expect(polls.slice(1, 5).map((time, index) => time - (polls[index] ?? 0))).toEqual([1_000, 1_500, 2_250, 3_000]);
  });
});

describe("TaskTracker per-job polling: the stuck warning", () => {
  const options = { stuckAfterMs: 60_000 };

  it("a job polled on its own that runs too long is warned about, once", async () => {
    const { store, queue, notifier, tracker } = world(options);
    queue.queueFailures.push(NOT_FOUND);
    const job = queue.add("redact_all_events", USER, "active");
    await store.insert(purgeTask(job.id, { kind: "redact", roomId: USER, status: "active", statusChangedAt: FIXED_NOW - 3600_000 }));

    tracker.resumeAll();
    await pass(30_000);

    expect(tracker.perJob).toBe(true);
    expect(notifier.of("stuck")).toHaveLength(1);
  });

  it("a job polled on its own that reads scheduled again (resumed after a restart) is not warned about", async () => {
    const { store, queue, notifier, tracker } = world(options);
    queue.queueFailures.push(NOT_FOUND);
    const job = queue.add("redact_all_events", USER, "scheduled");
    await store.insert(purgeTask(job.id, { kind: "redact", roomId: USER, status: "active", statusChangedAt: FIXED_NOW - 3600_000 }));

    tracker.resumeAll();
    await pass(30_000);

    expect(queue.count("own-status")).toBeGreaterThan(3);
    expect(notifier.of("stuck")).toEqual([]);
  });

  it("a stuck warning that cannot be sent is logged, recorded, and not sent again", async () => {
    const { store, queue, notifier, logger, tracker } = world(options);
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active", statusChangedAt: FIXED_NOW - 3600_000 });
    await store.insert(task);
    const stuck = notifier.stuck.bind(notifier);
    notifier.stuck = async (record) => {
      await stuck(record);
      throw new Error("the room is gone");
    };

    tracker.resumeAll();
    await pass(30_000);

    expect(notifier.of("stuck")).toHaveLength(1);
    expect(logger.withMessage("could not send the stuck warning")).toHaveLength(1);
    expect(reloaded(task.id)?.warnedStuckAt).toBeDefined();
  });
});

describe("TaskTracker: a status change", () => {
  it("keeps in memory exactly what a later run reads from disk", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.track(task.id);
    await pass(2_000);
    queue.set(job.id, "active");
    await runUntil(() => notifier.of("progressed").length === 1);
    await turns();

    expect(store.get(task.id)).toStrictEqual(reloaded(task.id));
    expect(notifier.of("progressed")[0]).toStrictEqual(reloaded(task.id));
  });

  it("a progress report that fails is logged, and the job is still followed to its end", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "scheduled");
    const task = purgeTask(job.id);
    await store.insert(task);
    notifier.progressed = () => Promise.reject(new Error("the room is gone"));

    tracker.track(task.id);
    await pass(2_000);
    queue.set(job.id, "active");
    await pass(3_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(logger.withMessage("could not report progress")).toHaveLength(1);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["complete"]);
  });

  it("a job seen ending is announced at that moment, not at a later tick", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.calls.filter((call) => call.method === "finished").map((call) => call.at)).toEqual(times(queue, "own-status"));
  });
});

describe("TaskTracker: the final notification", () => {
  it("a final notification still being sent is not sent again, however many ticks come meanwhile", async () => {
    const { store, queue, notifier, tracker } = world();
    const busy = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(busy.id, { status: "active" }));
    const done = queue.add("purge_history", "!done:example.org", "complete");
    const task = purgeTask(done.id, { roomId: "!done:example.org", status: "active" });
    await store.insert(task);
    let deliver: ((delivered: boolean) => void) | undefined;
    notifier.finished = (record) => {
      notifier.calls.push({ method: "finished", task: structuredClone(record), at: Date.now() });
      return new Promise((resolve) => {
        deliver = resolve;
      });
    };

    tracker.resumeAll();
    const start = Date.now();
    await runUntil(() => Date.now() >= start + 20_000 || notifier.of("finished").length > 1);

    expect(notifier.of("finished").map((record) => record.id)).toEqual([task.id]);
    expect(queue.count("in-flight")).toBeGreaterThan(5);
    deliver?.(true);
  });

  it("once delivered and recorded, the task is no longer followed, with no tick needed", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => notifier.of("finished").length === 1);
    for (let round = 0; round < 100 && store.get(task.id)?.finalNotificationSent !== true; round++) await turns(1);
    await turns();

    expect(store.get(task.id)?.finalNotificationSent).toBe(true);
    expect(tracker.isTracking(task.id)).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a final notification that throws is logged as failed", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    notifier.finishedAnswers.push(new Error("the room is gone"));
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    const failures = logger.withMessage("final notification failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.["err"]).toMatchObject({ message: "the room is gone" });
  });

  it("a delivery that cannot be recorded is logged, and recorded at a later try", async () => {
    const { store, queue, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    const update = store.update.bind(store);
    let broken = true;
    store.update = (id, change) => {
      if (change.finalNotificationSent === true && broken) {
        broken = false;
        return Promise.reject(new Error("disk full"));
      }
      return update(id, change);
    };

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(logger.withMessage("could not record the final notification")).toHaveLength(1);
    expect(reloaded(task.id)?.finalNotificationSent).toBe(true);
  });
});

describe("TaskTracker: a final notification delivered but not recorded", () => {
  it("is not sent again: only the record is retried, backing off, until it is stored", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "complete");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    const update = store.update.bind(store);
    const writes: number[] = [];
    store.update = (id, change) => {
      if (change.finalNotificationSent !== true) return update(id, change);
      writes.push(Date.now() - FIXED_NOW);
      return writes.length <= 3 ? Promise.reject(new Error("disk full")) : update(id, change);
    };

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("finished")).toHaveLength(1);
    expect(logger.withMessage("could not record the final notification")).toHaveLength(3);
    // Each try waits longer than the one before: never two at one instant.
    const gaps = writes.slice(1).map((time, index) => time - (writes[index] ?? 0));
    expect(gaps).toHaveLength(3);
    for (const [index, gap] of gaps.entries()) expect(gap).toBeGreaterThan(index === 0 ? 0 : (gaps[index - 1] ?? 0));
    expect(reloaded(task.id)?.finalNotificationSent).toBe(true);
  });
});

describe("TaskTracker: a lost submission", () => {
  it("a look that fails is tried again, backing off", async () => {
    const { store, queue, tracker } = world();
    queue.queueFailures.push(FakeTaskQueue.error("unreachable"), FakeTaskQueue.error("timeout"), FakeTaskQueue.error("server-error", 502));
    const task = lost();
    await store.insert(task);

    tracker.track(task.id);
    await pass(10_000);

    expect(times(queue, "of").map((time) => time - FIXED_NOW)).toEqual([0, 1_000, 2_500, 4_750]);
  });

  it("never adopts a job another task already follows", async () => {
    const { store, queue, tracker } = world();
    const theirs = queue.add("purge_history", LOST_ROOM, "active");
    await store.insert(purgeTask(theirs.id, { roomId: LOST_ROOM, status: "active" }));
    const task = lost();
    await store.insert(task);

    tracker.track(task.id);
    await pass(20_000);

    expect(queue.count("of")).toBe(2);
    expect(reloaded(task.id)?.homeserverTaskId).toBeUndefined();
    expect(reloaded(task.id)?.status).toBe("submitting");
  });

  it("the job found is reported as scheduled", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", LOST_ROOM, "scheduled");
    const task = lost();
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => notifier.of("progressed").length === 1);

    expect(notifier.of("progressed").map((record) => [record.id, record.status, record.homeserverTaskId])).toEqual([[task.id, "scheduled", job.id]]);
  });

  it("a progress report of the job found that fails is logged, and the job is still followed", async () => {
    const { store, queue, notifier, logger, tracker } = world();
    const job = queue.add("purge_history", LOST_ROOM, "scheduled");
    const task = lost();
    await store.insert(task);
    notifier.progressed = () => Promise.reject(new Error("the room is gone"));

    tracker.track(task.id);
    await pass(3_000);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(task.id));

    expect(logger.withMessage("could not report progress")).toHaveLength(1);
    expect(notifier.of("finished").map((record) => [record.id, record.status])).toEqual([[task.id, "complete"]]);
  });

  it("a kind that cannot rebuild the request ends as unknown after the look window, without sending it again", async () => {
    const queue = new HookedQueue(clock);
    queue.rebuilds = false;
    const { store, notifier, tracker } = world({}, queue);
    const task = lost();
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(queue.count("resubmit")).toBe(0);
    expect(Date.now() - FIXED_NOW).toBeGreaterThanOrEqual(120_000);
    const [finished] = notifier.of("finished");
    expect(finished?.status).toBe("unknown");
    expect(finished?.reason).toContain("whether the homeserver received the request");
  });
});

/**
 * The loop's pace: one job ("quiet") runs unchanged until the task-queue requests are 8 s
 * apart; then, just after one, something happens to a second job. A tick that changed a status
 * makes the next request come 1 s after the last one; a tick that changed nothing slows it further.
 */
describe("TaskTracker pace: what a tick changed", () => {
  const PACE = { firstTickMs: 1_000, backoffFactor: 2, ceilingMs: 8_000, listRequestsPerMinute: 600 };

  async function quietLoop(queue: HookedQueue): Promise<World & { readonly at: number }> {
    const built = world(PACE, queue);
    const job = queue.add("purge_history", "!quiet:example.org", "active");
    const task = purgeTask(job.id, { roomId: "!quiet:example.org", status: "active" });
    await built.store.insert(task);
    built.tracker.track(task.id);
    await pass(40_000);
    const last = times(queue, "in-flight").at(-1) ?? 0;
    await pass(last + 8_000 - Date.now());
    expect(times(queue, "in-flight").at(-1)).toBe(Date.now());
    return { ...built, at: Date.now() };
  }

  interface Scenario {
    readonly what: string;
    readonly happen: (world: World, queue: HookedQueue) => Promise<string>;
    /** The next two task-queue requests, in ms after the scenario began. */
    readonly requests: readonly number[];
  }

  const follow = async ({ store, tracker }: World, task: TaskRecord): Promise<string> => {
    await store.insert(task);
    tracker.track(task.id);
    return task.id;
  };
  const leftQueue = (queue: HookedQueue, status: "complete" | "gone"): TaskRecord => {
    const jobId = status === "gone" ? "job-gone" : queue.add("purge_history", LOST_ROOM, status).id;
    return purgeTask(jobId, { roomId: LOST_ROOM, status: "active" });
  };

  const scenarios: Scenario[] = [
    {
      what: "the task-queue request fails: no change",
      happen: (_world, queue) => {
        queue.queueFailures.push(FakeTaskQueue.error("server-error", 502));
        return Promise.resolve("");
      },
      requests: [8_000, 16_000],
    },
    {
      what: "a job left the queue and ended: a change",
      happen: (built, queue) => follow(built, leftQueue(queue, "complete")),
      requests: [1_000, 2_000],
    },
    {
      what: "a job left the queue and its own status cannot be read: no change",
      happen: (built, queue) => {
        queue.ownFailures.push(...Array.from({ length: 10 }, () => FakeTaskQueue.error("timeout")));
        return follow(built, leftQueue(queue, "complete"));
      },
      requests: [1_000, 3_000],
    },
    {
      what: "a job left the queue and the homeserver no longer knows it: a change (it ends as unknown)",
      happen: (built, queue) => follow(built, leftQueue(queue, "gone")),
      requests: [1_000, 2_000],
    },
    {
      what: "a job left the queue, and its task ended some other way while its own status was read: no change",
      happen: (built, queue) => {
        queue.duringPoll = async (task) => {
          await built.store.update(task.id, { status: "complete", statusChangedAt: Date.now(), finishedAt: Date.now() });
        };
        return follow(built, leftQueue(queue, "complete"));
      },
      requests: [1_000, 5_000],
    },
    {
      what: "a lost submission is looked for and not found yet: no change",
      happen: (built) => follow(built, lost()),
      requests: [2_000, 6_000],
    },
    {
      what: "a lost submission cannot be looked for: no change",
      happen: (built, queue) => {
        queue.queueFailures.push(FakeTaskQueue.error("unreachable"));
        return follow(built, lost());
      },
      requests: [4_000, 12_000],
    },
    {
      what: "a lost submission's job is found: a change",
      happen: (built, queue) => {
        queue.add("purge_history", LOST_ROOM, "scheduled");
        return follow(built, lost());
      },
      requests: [1_000, 3_000],
    },
    {
      what: "a lost submission matches two jobs: a change (it ends as unknown)",
      happen: (built, queue) => {
        queue.add("purge_history", LOST_ROOM, "scheduled");
        queue.add("purge_history", LOST_ROOM, "scheduled");
        return follow(built, lost());
      },
      requests: [1_000, 3_000],
    },
    {
      what: "a lost redaction is never confirmed: a change (it ends as unknown)",
      happen: (built) => follow(built, lost({ kind: "redact", roomId: USER, parameters: { rooms: [] }, statusChangedAt: Date.now() - 10 * 60_000 })),
      requests: [1_000, 3_000],
    },
    {
      what: "a lost submission whose request cannot be rebuilt: a change (it ends as unknown)",
      happen: (built, queue) => {
        queue.rebuilds = false;
        return follow(built, lost({ statusChangedAt: Date.now() - 10 * 60_000 }));
      },
      requests: [1_000, 3_000],
    },
    {
      what: "a lost submission is sent again and accepted: a change",
      happen: (built) => follow(built, lost({ statusChangedAt: Date.now() - 10 * 60_000 })),
      requests: [1_000, 3_000],
    },
    {
      what: "a lost submission is sent again and the answer is lost too: no change",
      happen: (built, queue) => {
        queue.resubmitAnswer = () => err(FakeTaskQueue.error("timeout"));
        return follow(built, lost({ statusChangedAt: Date.now() - 10 * 60_000 }));
      },
      requests: [4_000, 12_000],
    },
    {
      what: "a lost submission is sent again and refused: a change (it ends as failed)",
      happen: (built, queue) => {
        queue.resubmitAnswer = () => err(FakeTaskQueue.error("bad-request", 400, "no"));
        return follow(built, lost({ statusChangedAt: Date.now() - 10 * 60_000 }));
      },
      requests: [1_000, 3_000],
    },
  ];

  it.each(scenarios)("$what", async ({ happen, requests }) => {
    const queue = new HookedQueue(clock);
    const built = await quietLoop(queue);

    await happen(built, queue);
    await pass(20_000);

    const after = times(queue, "in-flight").filter((time) => time > built.at);
    expect(after.slice(0, 2).map((time) => time - built.at)).toEqual(requests);
  });
});
