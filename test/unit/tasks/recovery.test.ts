import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chooseOwnJob } from "../../../src/tasks/recovery.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker } from "../../../src/tasks/tracker.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import type { Clock } from "../../../src/util/clock.js";
import { err, ok } from "../../../src/util/result.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { runUntil, useFakeClock } from "./fakeTime.js";

const now = (): number => Date.now();
const clock: Clock = { now };
const USER = "@spammer:example.org";
const ROOM = "!target:example.org";

let directory: string;
const running: TaskTracker[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-recovery-"));
  useFakeClock(FIXED_NOW);
});

afterEach(() => {
  for (const tracker of running.splice(0)) tracker.stop();
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

function world() {
  const store = openTaskStore(directory, now);
  const queue = new FakeTaskQueue(clock);
  const notifier = new RecordingTaskNotifier(clock);
  const logger = new MemoryLogger();
  const handlers = {
    purge: queue.handler("purge_history", { resubmit: true, queuedReadsActive: true }),
    shutdown: queue.handler("shutdown_and_purge_room", { resubmit: true }),
    redact: queue.handler("redact_all_events"),
  };
  const tracker = new TaskTracker(store, handlers, queue, notifier, clock, logger.log, DEFAULT_TRACKER_OPTIONS);
  running.push(tracker);
  return { store, queue, notifier, logger, tracker };
}

/** A task whose submission left at `submittedAt` and whose answer never came. */
function lost(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleTask({
    id: "p-lost01",
    roomId: ROOM,
    status: "submitting",
    createdAt: Date.now(),
    statusChangedAt: Date.now(),
    parameters: { deleteLocalEvents: false, cutoffTs: FIXED_NOW - 3600_000, cutoff: "2025-01-15 11:00:00 UTC" },
    ...overrides,
  });
}

function finalOf(notifier: RecordingTaskNotifier): [string, string | undefined][] {
  return notifier.of("finished").map((task) => [task.status, task.reason]);
}

describe("chooseOwnJob", () => {
  const job = (id: string, timestampMs: number, extra: Partial<{ action: string; resourceId: string; status: string }> = {}) => ({
    id,
    action: "redact_all_events",
    resourceId: USER,
    status: "complete",
    timestampMs,
    ...extra,
  });
  const wanted = { action: "redact_all_events", resourceId: USER, submittedAt: FIXED_NOW };

  it("never a job stamped before the submission left: it ended (or last changed) before Warden asked", () => {
    expect(chooseOwnJob([job("A", FIXED_NOW - 30_000)], wanted, new Set())).toEqual({ kind: "none" });
  });

  it("never a job another Warden task follows", () => {
    expect(chooseOwnJob([job("A", FIXED_NOW + 5_000), job("B", FIXED_NOW + 6_000)], wanted, new Set(["A"]))).toEqual({ kind: "found", jobId: "B" });
  });

  it("never a job of another action or resource", () => {
    const others = [job("X", FIXED_NOW + 1, { action: "purge_history" }), job("Y", FIXED_NOW + 1, { resourceId: "@other:example.org" })];
    expect(chooseOwnJob(others, wanted, new Set())).toEqual({ kind: "none" });
  });

  it("two candidates: ambiguous, both named", () => {
    expect(chooseOwnJob([job("A", FIXED_NOW + 1_000), job("B", FIXED_NOW + 2_000)], wanted, new Set())).toEqual({ kind: "ambiguous", jobIds: ["A", "B"] });
  });
});

describe("recovering a submission whose answer was lost", () => {
  it("issue 9: !redact --room A completed, !redact --room B timed out 30 s later: A's job is never adopted for B", async () => {
    const { store, queue, notifier, tracker } = world();
    const jobA = queue.add("redact_all_events", USER, "active", FIXED_NOW - 60_000);
    await store.insert(sampleTask({ id: "r-aaaaaa", kind: "redact", roomId: USER, status: "active", homeserverTaskId: jobA.id, finalNotificationSent: false }));
    tracker.track("r-aaaaaa");
    await vi.advanceTimersByTimeAsync(1_000);
    queue.set(jobA.id, "complete");
    await runUntil(() => !tracker.isTracking("r-aaaaaa"));
    await vi.advanceTimersByTimeAsync(30_000 - (Date.now() - jobA.timestampMs));

    await store.insert(lost({ id: "r-bbbbbb", kind: "redact", roomId: USER, parameters: { rooms: ["!B:example.org"] } }));
    tracker.track("r-bbbbbb");
    await runUntil(() => !tracker.isTracking("r-bbbbbb"));

    expect(store.get("r-bbbbbb")?.homeserverTaskId).toBeUndefined();
    expect(store.get("r-bbbbbb")?.status).toBe("unknown");
    expect(notifier.of("finished").map((task) => [task.id, task.status])).toEqual([
      ["r-aaaaaa", "complete"],
      ["r-bbbbbb", "unknown"],
    ]);
  });

  it("a job that ended before the submission began is not adopted, even when no Warden task owns it", async () => {
    const { store, queue, tracker } = world();
    queue.add("purge_history", ROOM, "complete", FIXED_NOW - 5_000);
    await store.insert(lost());

    tracker.track("p-lost01");
    await vi.advanceTimersByTimeAsync(10_000);

    expect(store.get("p-lost01")).toMatchObject({ status: "submitting" });
    expect(store.get("p-lost01")?.homeserverTaskId).toBeUndefined();
  });

  it("more than one candidate: says so, names them, adopts none", async () => {
    const { store, queue, notifier, tracker } = world();
    const first = queue.add("purge_history", ROOM, "active", FIXED_NOW + 100);
    const second = queue.add("purge_history", ROOM, "scheduled", FIXED_NOW + 200);
    await store.insert(lost());

    tracker.track("p-lost01");
    await runUntil(() => !tracker.isTracking("p-lost01"));

    const [[status, reason] = ["", ""]] = finalOf(notifier);
    expect(status).toBe("unknown");
    expect(reason).toContain(first.id);
    expect(reason).toContain(second.id);
    expect(queue.count("resubmit")).toBe(0);
  });

  it("is not declared lost after one look: the job Synapse created late (after 50 s) is found and followed to the end", async () => {
    const { store, queue, notifier, tracker } = world();
    await store.insert(lost());

    tracker.track("p-lost01");
    await vi.advanceTimersByTimeAsync(50_000);
    const job = queue.add("purge_history", ROOM, "active");
    await runUntil(() => store.get("p-lost01")?.homeserverTaskId !== undefined);
    queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking("p-lost01"));

    expect(queue.count("of")).toBeGreaterThanOrEqual(2);
    expect(queue.count("resubmit")).toBe(0);
    expect(store.get("p-lost01")?.homeserverTaskId).toBe(job.id);
    expect(finalOf(notifier)).toEqual([["complete", undefined]]);
  });

  it("a purge the homeserver never got is sent again (harmless) after about two minutes of looking, then followed", async () => {
    const { store, queue, notifier, tracker } = world();
    await store.insert(lost());

    tracker.track("p-lost01");
    await runUntil(() => queue.count("resubmit") === 1);
    const resentAt = Date.now();
    const looks = queue.requests.filter((request) => request.kind === "of").map((request) => request.at - FIXED_NOW);
    const [job] = [...queue.jobs.values()];
    if (job !== undefined) queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking("p-lost01"));

    expect(resentAt - FIXED_NOW).toBeGreaterThanOrEqual(120_000);
    expect(resentAt - FIXED_NOW).toBeLessThan(130_000);
    expect(looks.length).toBeGreaterThanOrEqual(5);
    expect(looks.at(-1)).toBe(120_000);
    expect(store.get("p-lost01")?.homeserverTaskId).toBe(job?.id);
    expect(finalOf(notifier)).toEqual([["complete", undefined]]);
  });

  it("a resend refused for good ends the task as failed with the homeserver's words", async () => {
    const { store, queue, notifier, tracker } = world();
    queue.resubmitAnswer = () => err(FakeTaskQueue.error("bad-request", 400, "purge_up_to_ts is in the future"));
    await store.insert(lost());

    tracker.track("p-lost01");
    await runUntil(() => !tracker.isTracking("p-lost01"));

    expect(finalOf(notifier)).toEqual([["failed", "the homeserver refused the request: purge_up_to_ts is in the future"]]);
  });

  it("a resend that times out too is looked for again, never sent blindly twice in a row", async () => {
    const { store, queue, tracker } = world();
    queue.resubmitAnswer = () => err(FakeTaskQueue.error("timeout"));
    await store.insert(lost());

    tracker.track("p-lost01");
    await runUntil(() => queue.count("resubmit") === 1);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(queue.count("resubmit")).toBe(1);
    expect(store.get("p-lost01")?.status).toBe("submitting");
    queue.resubmitAnswer = () => ok("job-resent");
  });

  it("a redaction the homeserver shows no trace of is never sent again: the moderator reads what is unknown and what to check", async () => {
    const { store, queue, notifier, tracker } = world();
    await store.insert(lost({ id: "r-lost01", kind: "redact", roomId: USER, parameters: { rooms: [] } }));

    tracker.track("r-lost01");
    await runUntil(() => !tracker.isTracking("r-lost01"));

    const [[status, reason] = ["", ""]] = finalOf(notifier);
    expect(status).toBe("unknown");
    expect(Date.now() - FIXED_NOW).toBeGreaterThanOrEqual(120_000);
    expect(reason).toContain("whether the homeserver received the request");
    expect(reason).toContain("redact_all_events");
    expect(reason).toContain(USER);
    expect(reason).toContain("!tasks");
    expect(queue.count("resubmit")).toBe(0);
  });

  it("keeps looking while the homeserver cannot be asked", async () => {
    const { store, queue, notifier, tracker } = world();
    queue.queueFailures.push(FakeTaskQueue.error("unreachable"), FakeTaskQueue.error("server-error", 502));
    await store.insert(lost());

    tracker.track("p-lost01");
    await vi.advanceTimersByTimeAsync(20_000);
    const job = queue.add("purge_history", ROOM, "complete");
    await runUntil(() => !tracker.isTracking("p-lost01"));

    expect(store.get("p-lost01")?.homeserverTaskId).toBe(job.id);
    expect(finalOf(notifier)).toEqual([["complete", undefined]]);
  });
});
