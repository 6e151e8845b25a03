import { describe, expect, it, vi } from "vitest";
import type { HomeserverJob } from "../../../src/tasks/homeserverJobs.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import type { AdminError } from "../../../src/synapse/errors.js";
import type { Result } from "../../../src/util/result.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { runUntil } from "./fakeTime.js";
import { ROOM, pass, purgeTask, times, useTrackerHarness } from "./trackerHarness.js";

const { world } = useTrackerHarness("warden-tracker-loop-");

const SPAMMER = "@spammer:example.org";
type Answer = Promise<Result<readonly HomeserverJob[], AdminError>>;

/** A redaction whose request got no answer: Warden does not know whether the homeserver has the job. */
function lostSubmission(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleTask({ id: "r-lost01", kind: "redact", roomId: SPAMMER, status: "submitting", createdAt: Date.now(), statusChangedAt: Date.now(), ...overrides });
}

/** A task that ended while nobody was told yet. */
function endedTask(id: string): TaskRecord {
  return purgeTask("job-ended", { id, status: "complete", finishedAt: Date.now() });
}

/** Real event-loop turns without moving fake time: lets disk writes and promise chains settle. */
async function turns(count = 10): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Moves fake time to just after the tracker's latest task-queue request (the existing tests' way). */
async function justAfterARead(queue: FakeTaskQueue): Promise<number> {
  while (Date.now() - (times(queue, "in-flight").at(-1) ?? 0) >= 100) await pass(100);
  return times(queue, "in-flight").at(-1) ?? 0;
}

/**
 * Like pass(), for a loop that might spin at one instant: gives up after `maxTimers` timers
 * instead of hanging. The task store settles within a few event-loop turns.
 */
async function passAtMost(milliseconds: number, maxTimers = 1_000): Promise<void> {
  const end = { reached: false };
  setTimeout(() => {
    end.reached = true;
  }, milliseconds);
  for (let fired = 0; !end.reached; fired++) {
    if (fired >= maxTimers) throw new Error(`more than ${maxTimers} timers within ${milliseconds} ms of fake time: the loop spins`);
    await turns(3);
    await vi.advanceTimersToNextTimerAsync();
  }
}

/** Task-queue requests made while `hold` is set are answered only at release(); each is recorded when sent. */
function gateReads(queue: FakeTaskQueue): { hold: boolean; readonly waiting: number; release: () => void } {
  const inFlight = queue.inFlight.bind(queue);
  const pending: (() => void)[] = [];
  const gate = {
    hold: false,
    get waiting(): number {
      return pending.length;
    },
    release(): void {
      for (const answer of pending.splice(0)) answer();
    },
  };
  queue.inFlight = (): Answer => {
    const answer = inFlight();
    if (!gate.hold) return answer;
    return new Promise((resolve) => {
      pending.push(() => {
        resolve(answer);
      });
    });
  };
  return gate;
}

const gaps = (list: readonly number[]): number[] => list.slice(1).map((time, index) => time - (list[index] ?? 0));

describe("TaskTracker: what it tells the room", () => {
  it("a job the homeserver no longer knows ends with a reason that says so, and that Warden did not send it again", async () => {
    const { store, notifier, tracker } = world();
    const task = purgeTask("job-forgotten", { status: "active" });
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    const reason = notifier.of("finished")[0]?.reason ?? "";
    expect(reason).toContain("the homeserver no longer knows this job");
    expect(reason).toContain("Warden did not send it again");
  });

  it("a lost submission never seen on the homeserver ends unknown, saying for how many minutes Warden looked, for which job and since when", async () => {
    const { store, notifier, tracker } = world();
    const task = lostSubmission();
    await store.insert(task);

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    const expected =
      "Warden's request got no answer, and for 2 min after it the homeserver showed no `redact_all_events` job for " +
      `${SPAMMER} started since ${new Date(task.statusChangedAt).toISOString()}. Unknown: whether the homeserver received the request at all.`;
    const reason = notifier.of("finished")[0]?.reason ?? "";
    expect(reason.slice(0, expected.length)).toBe(expected);
  });

  it("a lost submission that several homeserver jobs could be ends unknown, naming how many and each of them", async () => {
    const { store, queue, notifier, tracker } = world();
    const task = lostSubmission({ id: "p-lost01", kind: "purge", roomId: ROOM });
    await store.insert(task);
    const jobs = [queue.add("purge_history", ROOM), queue.add("purge_history", ROOM)];

    tracker.track(task.id);
    await runUntil(() => !tracker.isTracking(task.id));

    expect(notifier.of("finished").map((record) => record.status)).toEqual(["unknown"]);
    expect(notifier.of("finished")[0]?.reason).toContain(
      `the homeserver has 2 \`purge_history\` jobs for this target started since then (${jobs.map((job) => job.id).join(", ")})`,
    );
  });

  it("by default a job is called stuck once it has run six hours, not before", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active", statusChangedAt: Date.now() - 6 * 3600_000 + 5_000 }));

    tracker.track(store.all()[0]?.id ?? "");
    await pass(4_000);
    expect(notifier.of("stuck")).toEqual([]);
    await pass(3_000);
    expect(notifier.of("stuck")).toHaveLength(1);
  });
});

describe("TaskTracker: track() and stop()", () => {
  it("tracking a task it already follows leaves the loop's slowed pace as it was", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    tracker.track(task.id);
    await pass(30_000);
    const last = await justAfterARead(queue);

    tracker.track(task.id);
    await pass(2_000);

    expect(times(queue, "in-flight").filter((time) => time > last)).toEqual([last + 1_700]);
  });

  it("after stop(), track() follows nothing and sends nothing", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM);
    const task = purgeTask(job.id);
    await store.insert(task);

    tracker.stop();
    tracker.track(task.id);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(tracker.isTracking(task.id)).toBe(false);
    expect(queue.requests).toEqual([]);
  });

  it("a task tracked while its submission is unanswered is looked for on the homeserver at once", async () => {
    const { store, queue, tracker } = world();
    const task = lostSubmission();
    await store.insert(task);
    const trackedAt = Date.now();

    tracker.track(task.id);
    await pass(500);

    expect(times(queue, "of")).toEqual([trackedAt]);
  });

  it("a task tracked after it ended is announced at once, without asking the homeserver", async () => {
    const { store, queue, notifier, tracker } = world();
    await store.insert(endedTask("p-ended1"));
    const trackedAt = Date.now();

    tracker.track("p-ended1");
    await passAtMost(500);

    expect(notifier.calls.filter((call) => call.method === "finished").map((call) => call.at)).toEqual([trackedAt]);
    expect(queue.requests).toEqual([]);
  });

  it("stop() leaves no timer behind", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    const task = purgeTask(job.id, { status: "active" });
    await store.insert(task);
    tracker.track(task.id);
    await pass(3_000);

    tracker.stop();

    expect(vi.getTimerCount()).toBe(0);
  });

  it("a stopped tracker sets no timer and sends nothing, even when asked to resume", async () => {
    const { store, queue, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));

    tracker.stop();
    tracker.resumeAll();

    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.requests).toEqual([]);
  });

  it("an id the store does not know is dropped at the next tick, without asking the homeserver", async () => {
    const { queue, tracker } = world();

    tracker.track("p-nosuch");
    expect(tracker.isTracking("p-nosuch")).toBe(true);
    await passAtMost(1_500);

    expect(tracker.isTracking("p-nosuch")).toBe(false);
    expect(queue.requests).toEqual([]);
  });
});

/**
 * A running job followed for `followedMs`, then a new task stored but not yet tracked, while
 * the task-queue read that just left is held at the gate.
 */
async function aReadHeldWithANewTask(followedMs: number) {
  const { store, queue, tracker } = world();
  const gate = gateReads(queue);
  const running = queue.add("purge_history", ROOM, "active");
  await store.insert(purgeTask(running.id, { status: "active" }));
  tracker.track(store.all()[0]?.id ?? "");
  await pass(followedMs);
  const fresh = queue.add("purge_history", "!b:example.org");
  const task = purgeTask(fresh.id, { roomId: "!b:example.org" });
  await store.insert(task);
  gate.hold = true;
  await runUntil(() => gate.waiting > 0);
  return { store, queue, tracker, gate, task };
}


describe("TaskTracker: one tick at a time", () => {
  it("a task tracked while a tick waits for the task queue starts no second tick alongside it", async () => {
    const { queue, tracker, gate, task } = await aReadHeldWithANewTask(5_000);
    const reads = queue.count("in-flight");
    tracker.track(task.id);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(queue.count("in-flight")).toBe(reads);

    gate.hold = false;
    gate.release();
    await pass(2_000);
    expect(queue.count("in-flight")).toBeGreaterThan(reads);
    expect(tracker.isTracking(task.id)).toBe(true);
  });

  it("a task tracked while a tick is in flight quickens the pace: the next read comes firstTickMs after that tick's", async () => {
    const { queue, tracker, gate, task } = await aReadHeldWithANewTask(30_000);
    const heldAt = times(queue, "in-flight").at(-1) ?? 0;
    tracker.track(task.id);
    gate.hold = false;
    gate.release();
    await pass(2_000);

    expect(times(queue, "in-flight").filter((time) => time > heldAt)).toEqual([heldAt + 1_000]);
  });

  it("a tick that fails unexpectedly is not a change: the loop keeps its slowed pace", async () => {
    const { store, queue, logger, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    const inFlight = queue.inFlight.bind(queue);
    let broken = false;
    queue.inFlight = (): Answer => {
      const answer = inFlight();
      if (!broken) return answer;
      broken = false;
      return Promise.reject(new Error("a bug"));
    };
    tracker.track(store.all()[0]?.id ?? "");
    await pass(30_000);
    const before = await justAfterARead(queue);

    broken = true;
    await pass(4_000);

    expect(logger.withMessage("tracking tick failed unexpectedly")).toHaveLength(1);
    expect(times(queue, "in-flight").filter((time) => time > before)).toEqual([before + 1_700, before + 3_400]);
  });
});

describe("TaskTracker: when the next tick comes", () => {
  it("a lost submission looked for every 15 s is not looked for at the task queue's pace, nor slows the task-queue reads", async () => {
    const { store, queue, tracker } = world();
    const lost = lostSubmission();
    await store.insert(lost);
    const job = queue.add("purge_history", ROOM, "active");
    const running = purgeTask(job.id, { status: "active" });
    await store.insert(running);
    const trackedAt = Date.now();

    tracker.track(lost.id);
    tracker.track(running.id);
    await pass(20_000);

    expect(times(queue, "of").map((time) => time - trackedAt)).toEqual([0, 15_000]);
    const reads = times(queue, "in-flight");
    expect(reads.length).toBeGreaterThanOrEqual(11);
    expect(Math.max(...gaps(reads))).toBeLessThanOrEqual(1_700);
  });

  it("while a final notification is being sent, the loop sets no timer for that task", async () => {
    const { store, notifier, tracker } = world();
    await store.insert(endedTask("p-ended2"));
    const finished = notifier.finished.bind(notifier);
    let deliver: (() => void) | undefined;
    notifier.finished = (task) =>
      new Promise((resolve) => {
        deliver = () => {
          resolve(finished(task));
        };
      });

    tracker.track("p-ended2");
    await vi.advanceTimersToNextTimerAsync();
    await turns();
    expect(deliver).toBeDefined();
    expect(vi.getTimerCount()).toBe(0);

    deliver?.();
    await runUntil(() => !tracker.isTracking("p-ended2"));
    expect(notifier.of("finished").map((record) => record.id)).toEqual(["p-ended2"]);
  });

  it("a task with no homeserver job id recorded is asked on its own status, and ends as its handler says", async () => {
    const { store, queue, notifier, tracker } = world();
    const task = sampleTask({ id: "p-nojob1", status: "scheduled", createdAt: Date.now(), statusChangedAt: Date.now() });
    await store.insert(task);

    tracker.track(task.id);
    await passAtMost(3_000);

    expect(queue.requests.map((request) => request.kind)).toEqual(["own-status"]);
    expect(notifier.of("finished").map((record) => record.status)).toEqual(["unknown"]);
    expect(tracker.isTracking(task.id)).toBe(false);
  });

  it("a task stored as submitting that carries a job id still waits 15 s for its next look", async () => {
    const { store, queue, tracker } = world();
    const task = lostSubmission({ homeserverTaskId: "job-gone" });
    await store.insert(task);
    const trackedAt = Date.now();

    tracker.track(task.id);
    await passAtMost(16_000);

    expect(times(queue, "of").map((time) => time - trackedAt)).toEqual([0, 15_000]);
    expect(times(queue, "in-flight")).toEqual([]);
  });

  it("an undelivered final notification is retried at its own back-off, not at the task queue's pace", async () => {
    const { store, queue, notifier, tracker } = world({ backoffFactor: 10 });
    notifier.finishedAnswers.push(false, false);
    const job = queue.add("purge_history", ROOM, "active");
    const running = purgeTask(job.id, { status: "active" });
    await store.insert(running);
    await store.insert(endedTask("p-ended3"));
    const trackedAt = Date.now();

    tracker.track(running.id);
    tracker.track("p-ended3");
    await pass(15_000);

    const finished = notifier.calls.filter((call) => call.method === "finished").map((call) => call.at - trackedAt);
    expect(finished).toEqual([0, 1_000, 11_000]);
    expect(tracker.isTracking("p-ended3")).toBe(false);
    expect(times(queue, "in-flight").length).toBeGreaterThanOrEqual(8);
  });

  it("a lost submission found on the homeserver is a change: the task queue is read at once, then at the quick pace", async () => {
    const { store, queue, notifier, tracker } = world();
    const task = lostSubmission({ id: "p-lost02", kind: "purge", roomId: ROOM });
    await store.insert(task);
    const job = queue.add("purge_history", ROOM);
    const trackedAt = Date.now();

    tracker.track(task.id);
    await pass(2_000);

    expect(notifier.of("progressed").map((record) => [record.status, record.homeserverTaskId])).toEqual([["scheduled", job.id]]);
    expect(times(queue, "in-flight").map((time) => time - trackedAt)).toEqual([0, 1_500]);
  });

  it("stop() while looking for a lost submission: no other task's request is sent afterwards", async () => {
    const { store, queue, tracker } = world();
    const lost = lostSubmission();
    await store.insert(lost);
    const job = queue.add("purge_history", ROOM, "active");
    const running = purgeTask(job.id, { status: "active" });
    await store.insert(running);
    const of = queue.of.bind(queue);
    let answer: (() => void) | undefined;
    queue.of = (action, resourceId): Answer => {
      const found = of(action, resourceId);
      return new Promise((resolve) => {
        answer = () => {
          resolve(found);
        };
      });
    };

    tracker.track(lost.id);
    tracker.track(running.id);
    await runUntil(() => answer !== undefined);
    tracker.stop();
    answer?.();
    await turns();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(queue.requests.map((request) => request.kind)).toEqual(["of"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("following each job on its own, a job is polled only at its own turn, whatever another job's turns are", async () => {
    const { store, queue, tracker } = world();
    queue.queueFailures.push(FakeTaskQueue.error("not-found", 404, "Unrecognized request"));
    const first = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(first.id, { id: "p-first1", status: "active" }));
    tracker.track("p-first1");
    await pass(20_000);
    const second = queue.add("purge_history", "!b:example.org", "active");
    await store.insert(purgeTask(second.id, { id: "p-secnd1", roomId: "!b:example.org", status: "active" }));

    tracker.track("p-secnd1");
    await pass(15_000);

    expect(tracker.perJob).toBe(true);
    const polls = (jobId: string): number[] => queue.requests.filter((request) => request.jobId === jobId).map((request) => request.at);
    expect(gaps(polls(first.id)).slice(0, 3)).toEqual([1_000, 1_500, 2_250]);
    expect(new Set(gaps(polls(first.id)).slice(3))).toEqual(new Set([3_000]));
    expect(polls(second.id).length).toBeGreaterThanOrEqual(5);
  });

  it("tracking a task that needs no request does not make the loop read the task queue sooner than its pace", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    tracker.track(store.all()[0]?.id ?? "");
    await pass(30_000);
    await justAfterARead(queue);
    await store.insert(endedTask("p-ended4"));

    tracker.track("p-ended4");
    await pass(3_000);

    expect(notifier.of("finished").map((record) => record.id)).toEqual(["p-ended4"]);
    expect(Math.min(...gaps(times(queue, "in-flight")))).toBeGreaterThanOrEqual(1_000);
  });

  it("a tick woken by another task still keeps to the request budget", async () => {
    // One read a second at most by pace; the budget (30 a minute) is what holds them back.
    const { store, queue, notifier, tracker } = world({ listRequestsPerMinute: 30, ceilingMs: 1_000 });
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    await store.insert(endedTask("p-ended5"));
    const trackedAt = Date.now();

    tracker.track(store.all()[0]?.id ?? "");
    await passAtMost(8_200);
    tracker.track("p-ended5"); // between two reads the budget spaces 2 s apart
    await passAtMost(3_000);

    expect(notifier.calls.filter((call) => call.method === "finished").map((call) => call.at - trackedAt)).toEqual([8_200]);
    expect(times(queue, "in-flight").map((time) => time - trackedAt)).toEqual([1_000, 2_000, 3_000, 5_000, 7_000, 9_000, 11_000]);
  });

  it("a job ended by its own status is a change: the task queue is read again firstTickMs later", async () => {
    const { store, queue, notifier, tracker } = world();
    const job = queue.add("purge_history", ROOM, "active");
    await store.insert(purgeTask(job.id, { status: "active" }));
    tracker.track(store.all()[0]?.id ?? "");
    await pass(30_000);
    const last = await justAfterARead(queue);
    const task = sampleTask({ id: "p-nojob2", roomId: "!b:example.org", status: "scheduled", createdAt: Date.now(), statusChangedAt: Date.now() });
    await store.insert(task);

    tracker.track(task.id);
    await pass(4_000);

    expect(notifier.of("finished").map((record) => [record.id, record.status])).toEqual([["p-nojob2", "unknown"]]);
    const ownAt = times(queue, "own-status")[0] ?? 0;
    expect(times(queue, "in-flight").filter((time) => time > last)).toEqual([ownAt, ownAt + 1_000, ownAt + 2_500]);
  });
});
