import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AdminError } from "../../../src/synapse/errors.js";
import { TaskLauncher, type TaskRequest } from "../../../src/tasks/launcher.js";
import type { TaskStore } from "../../../src/store/tasks.js";
import { openTaskStore } from "../../fakes/taskStore.js";
import { TaskTracker } from "../../../src/tasks/tracker.js";
import type { TaskKind, TaskRecord } from "../../../src/tasks/types.js";
import type { Clock } from "../../../src/util/clock.js";
import { err, ok, type Result } from "../../../src/util/result.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { FakeTaskQueue } from "../../fakes/fakeTaskQueue.js";
import { runUntil, useFakeClock } from "./fakeTime.js";

const ROOM = "!spam:example.org";
const CUTOFF = Date.parse("2025-01-15T11:00:00Z");

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-launcher-"));
});

afterEach(() => {
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

/** Stands in for the tracker: records which tasks it was handed. */
class RecordingTracker implements Pick<TaskTracker, "track"> {
  readonly tracked: string[] = [];

  track(taskId: string): void {
    this.tracked.push(taskId);
  }
}

/** A submit function that records each call and answers from a queue. */
class ScriptedSubmit {
  calls = 0;
  /** Runs inside the submit, before it answers: what a crash at that moment would leave behind. */
  onCall: (() => void) | undefined;

  constructor(private readonly answers: Result<string, AdminError>[]) {}

  readonly submit = (): Promise<Result<string, AdminError>> => {
    this.calls += 1;
    this.onCall?.();
    const answer = this.answers.shift();
    if (answer === undefined) throw new Error("submit called more often than scripted");
    return Promise.resolve(answer);
  };
}

function request(submit: ScriptedSubmit, overrides: Partial<Omit<TaskRequest, "submit">> = {}): TaskRequest {
  return {
    kind: "purge",
    roomId: ROOM,
    roomLabel: "#spam:example.org",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    parameters: { deleteLocalEvents: false, cutoffTs: CUTOFF, cutoff: "2025-01-15 11:00:00 UTC" },
    submit: submit.submit,
    ...overrides,
  };
}

interface Setup {
  readonly store: TaskStore;
  readonly tracker: RecordingTracker;
  readonly notifier: RecordingTaskNotifier;
  readonly launcher: TaskLauncher;
}

function setup(): Setup {
  const now = (): number => FIXED_NOW;
  const clock: Clock = { now };
  const store = openTaskStore(directory, now);
  const tracker = new RecordingTracker();
  const notifier = new RecordingTaskNotifier(clock);
  const launcher = new TaskLauncher(store, tracker, notifier, clock, new MemoryLogger().log);
  return { store, tracker, notifier, launcher };
}

function onDisk(): TaskRecord[] {
  return openTaskStore(directory, () => FIXED_NOW).all();
}

describe("TaskLauncher", () => {
  it("writes the task down (and posts the progress message) before the request leaves", async () => {
    const { tracker, notifier, launcher } = setup();
    const submit = new ScriptedSubmit([ok("purge-1")]);
    let leftOnDisk: TaskRecord[] = [];
    submit.onCall = () => {
      // What a restart would find if Warden died while the request was in flight.
      leftOnDisk = onDisk();
    };

    const outcome = await launcher.launch(request(submit));

    expect(leftOnDisk.map((task) => [task.kind, task.roomId, task.status, task.progressEventId])).toEqual([
      ["purge", ROOM, "submitting", "$progress"],
    ]);
    expect(notifier.of("accepted").map((task) => task.status)).toEqual(["submitting"]);
    expect(outcome.kind).toBe("started");
    expect(outcome.task).toMatchObject({ status: "scheduled", homeserverTaskId: "purge-1", progressEventId: "$progress" });
    expect(onDisk().map((task) => [task.id, task.status, task.homeserverTaskId])).toEqual([[outcome.task.id, "scheduled", "purge-1"]]);
    expect(tracker.tracked).toEqual([outcome.task.id]);
    expect(submit.calls).toBe(1);
  });

  it("still submits when the progress message could not be posted", async () => {
    const { notifier, launcher } = setup();
    notifier.progressEventId = undefined;
    const submit = new ScriptedSubmit([ok("purge-1")]);

    const outcome = await launcher.launch(request(submit));

    expect(submit.calls).toBe(1);
    expect(outcome.task.status).toBe("scheduled");
    expect(outcome.task.progressEventId).toBeUndefined();
  });

  it.each([
    ["bad-request", 400, "purge_up_to_ts must be in the past"],
    ["forbidden", 403, "You are not a server admin"],
    ["unauthorized", 401, undefined],
    ["not-found", 404, "There is no event to be purged"],
    ["rate-limited", 429, undefined],
  ] as const)("a %s refusal ends the task as failed with the reason, and still hands it to the tracker", async (kind, status, detail) => {
    const { tracker, launcher } = setup();
    const refusal = adminError(kind, status, detail);
    const submit = new ScriptedSubmit([err(refusal)]);

    const outcome = await launcher.launch(request(submit));

    expect(outcome.task).toMatchObject({ status: "failed", reason: refusal.userMessage, finishedAt: FIXED_NOW, finalNotificationSent: false });
    expect(onDisk()).toMatchObject([{ status: "failed", reason: refusal.userMessage, finalNotificationSent: false }]);
    expect(tracker.tracked).toEqual([outcome.task.id]);
  });

  it.each(["timeout", "server-error", "unreachable", "bad-response"] as const)(
    "after an uncertain %s the task stays submitting for the tracker to look up",
    async (kind) => {
      const { tracker, launcher } = setup();
      const submit = new ScriptedSubmit([err(adminError(kind, kind === "server-error" ? 502 : undefined))]);

      const outcome = await launcher.launch(request(submit));

      expect(outcome.task.status).toBe("submitting");
      expect(outcome.task.reason).toBeUndefined();
      expect(outcome.task.homeserverTaskId).toBeUndefined();
      expect(onDisk().map((task) => task.status)).toEqual(["submitting"]);
      expect(tracker.tracked).toEqual([outcome.task.id]);
      expect(submit.calls).toBe(1);
    },
  );

  it("two identical launches started together: one submit, the second joins the first", async () => {
    const { store, launcher } = setup();
    const submit = new ScriptedSubmit([ok("purge-1"), ok("purge-2")]);

    const [first, second] = await Promise.all([launcher.launch(request(submit)), launcher.launch(request(submit))]);

    expect(submit.calls).toBe(1);
    expect(first.kind).toBe("started");
    expect(second.kind).toBe("joined");
    expect(second.task.id).toBe(first.task.id);
    expect(store.all()).toHaveLength(1);
  });

  it("a launch while the first one's request is still in flight joins it", async () => {
    const { launcher } = setup();
    let answer: ((result: Result<string, AdminError>) => void) | undefined;
    let submits = 0;
    const slowSubmit = (): Promise<Result<string, AdminError>> => {
      submits += 1;
      return new Promise((resolve) => {
        answer = resolve;
      });
    };
    const firstLaunch = launcher.launch({ ...request(new ScriptedSubmit([])), submit: slowSubmit });
    await vi.waitFor(() => {
      expect(answer).toBeDefined();
    });

    const second = await launcher.launch({ ...request(new ScriptedSubmit([])), submit: slowSubmit });
    answer?.(ok("purge-1"));
    const first = await firstLaunch;

    expect(submits).toBe(1);
    expect(second.kind).toBe("joined");
    expect(second.task.id).toBe(first.task.id);
  });

  it.each([
    ["another room", { roomId: "!other:example.org" }],
    ["another kind", { kind: "shutdown" as TaskKind }],
  ])("launches for %s do not join", async (_label, difference) => {
    const { launcher } = setup();
    const submit = new ScriptedSubmit([ok("job-1"), ok("job-2")]);

    const [first, second] = await Promise.all([launcher.launch(request(submit)), launcher.launch(request(submit, difference))]);

    expect(submit.calls).toBe(2);
    expect([first.kind, second.kind]).toEqual(["started", "started"]);
    expect(second.task.id).not.toBe(first.task.id);
  });

  describe("joins a running job of the same kind only when it does at least as much", () => {
    const purge = (cutoffTs: number, deleteLocalEvents: boolean) => ({ kind: "purge" as TaskKind, parameters: { cutoffTs, deleteLocalEvents, cutoff: String(cutoffTs) } });
    const shutdown = (block: boolean, purge: boolean, forcePurge = false) => ({ kind: "shutdown" as TaskKind, parameters: { block, purge, forcePurge } });
    const redact = (rooms: string[], limit?: number) => ({
      kind: "redact" as TaskKind,
      roomId: "@spammer:example.org",
      parameters: { rooms, ...(limit === undefined ? {} : { limit }) },
    });

    it.each([
      ["a purge to a later point joins one to an earlier point", purge(CUTOFF + 1000, false), purge(CUTOFF, false)],
      ["a purge with --local joins one without", purge(CUTOFF, true), purge(CUTOFF, false)],
      ["a delete that blocks and purges joins one that does neither", shutdown(true, true), shutdown(false, false)],
      ["a forced purging delete joins one that only purges", shutdown(false, true, true), shutdown(false, true)],
      ["a redaction of every room joins another of every room with a lower limit", redact([], 2000), redact([], 500)],
      ["a redaction of two rooms joins one of one of them", redact(["!a:x", "!b:x"]), redact(["!a:x"])],
    ])("%s", async (_label, running, wanted) => {
      const { launcher } = setup();
      const submit = new ScriptedSubmit([ok("job-1"), ok("job-2")]);

      const first = await launcher.launch(request(submit, running));
      const second = await launcher.launch(request(submit, wanted));

      expect(second).toEqual({ kind: "joined", task: first.task });
      expect(submit.calls).toBe(1);
    });

    it.each([
      // A wave --matching casino 1h must not report a room done on a single !purge !r 30d: 29 days of spam would remain.
      ["a purge to an earlier point", purge(CUTOFF - 29 * 86_400_000, false), purge(CUTOFF, false)],
      ["a purge that keeps local users' messages, for one with --local", purge(CUTOFF, false), purge(CUTOFF, true)],
      ["a delete without --block, for one with it", shutdown(false, true), shutdown(true, true)],
      ["a delete that keeps the data (--no-purge, or a first step), for a purge", shutdown(true, false), shutdown(true, true)],
      ["a delete without --force-purge, for one with it", shutdown(false, true), shutdown(false, true, true)],
      ["a redaction with a lower limit", redact([], 100), redact([], 1000)],
      ["a redaction of one room, for one of every room", redact(["!a:x"]), redact([])],
      ["a redaction of every room the user is in, for one naming a room (perhaps one they left)", redact([]), redact(["!left:x"])],
      ["a purge recorded without its point (an older Warden's record)", { kind: "purge" as TaskKind, parameters: { deleteLocalEvents: true } }, purge(CUTOFF, false)],
    ])("a running job that does less is not joined: %s; nothing is sent and the launch names it as busy", async (_label, running, wanted) => {
      const { launcher, store } = setup();
      const submit = new ScriptedSubmit([ok("job-1"), ok("job-2")]);

      const first = await launcher.launch(request(submit, running));
      const second = await launcher.launch(request(submit, wanted));

      expect(second).toEqual({ kind: "busy", task: first.task });
      expect(submit.calls).toBe(1);
      expect(store.all()).toHaveLength(1);
    });

    it("existing() answers what a launch would meet, without launching", async () => {
      const { launcher, store } = setup();
      const submit = new ScriptedSubmit([ok("job-1")]);
      expect(launcher.existing("purge", ROOM, purge(CUTOFF, false).parameters)).toBeUndefined();

      const first = await launcher.launch(request(submit, purge(CUTOFF, false)));

      expect(launcher.existing("purge", ROOM, purge(CUTOFF - 1, false).parameters)).toEqual({ kind: "joined", task: first.task });
      expect(launcher.existing("purge", ROOM, purge(CUTOFF + 1, false).parameters)).toEqual({ kind: "busy", task: first.task });
      expect(launcher.existing("shutdown", ROOM, shutdown(false, false).parameters)).toBeUndefined();
      expect(store.all()).toHaveLength(1);
    });
  });

  it("names each kind's tasks with its own prefix: p- purge, s- shutdown, r- redact", async () => {
    const { launcher } = setup();
    const submit = new ScriptedSubmit([ok("job-1"), ok("job-2"), ok("job-3")]);

    const purge = await launcher.launch(request(submit));
    const shutdown = await launcher.launch(request(submit, { kind: "shutdown" }));
    const redact = await launcher.launch(request(submit, { kind: "redact", roomId: "@spammer:example.org", roomLabel: "@spammer:example.org" }));

    expect([purge.task.id, shutdown.task.id, redact.task.id].map((id) => id.replace(/[0-9a-f]{6}$/, "******"))).toEqual([
      "p-******",
      "s-******",
      "r-******",
    ]);
  });

  it("a launch after the previous task on the room ended starts a new task", async () => {
    const { launcher } = setup();
    const submit = new ScriptedSubmit([err(adminError("bad-request", 400, "no")), ok("purge-2")]);

    const first = await launcher.launch(request(submit));
    const second = await launcher.launch(request(submit));

    expect(submit.calls).toBe(2);
    expect(second.kind).toBe("started");
    expect(second.task.id).not.toBe(first.task.id);
  });
});

describe("TaskLauncher with a real tracker", () => {
  function trackedWorld(): { launcher: TaskLauncher; tracker: TaskTracker; notifier: RecordingTaskNotifier; queue: FakeTaskQueue; store: TaskStore } {
    const now = (): number => Date.now();
    const clock: Clock = { now };
    const store = openTaskStore(directory, now);
    const notifier = new RecordingTaskNotifier(clock);
    const log = new MemoryLogger().log;
    const queue = new FakeTaskQueue(clock);
    const handler = queue.handler("purge_history", { resubmit: true });
    const tracker = new TaskTracker(store, { purge: handler, shutdown: handler, redact: handler }, queue, notifier, clock, log);
    return { launcher: new TaskLauncher(store, tracker, notifier, clock, log), tracker, notifier, queue, store };
  }

  it("a refused task is announced once, without ever asking the homeserver about it", async () => {
    useFakeClock(FIXED_NOW);
    const { launcher, tracker, notifier, queue } = trackedWorld();
    const submit = new ScriptedSubmit([err(adminError("bad-request", 400, "purge_up_to_ts must be in the past"))]);

    const outcome = await launcher.launch(request(submit));
    await runUntil(() => !tracker.isTracking(outcome.task.id));
    tracker.stop();

    expect(queue.requests).toEqual([]);
    expect(notifier.of("finished").map((task) => [task.status, task.reason])).toEqual([["failed", outcome.task.reason]]);
    expect(outcome.task.reason).toContain("purge_up_to_ts must be in the past");
  });

  it("a request that timed out is looked for on the homeserver and followed, never sent again when found", async () => {
    useFakeClock(FIXED_NOW);
    const { launcher, tracker, notifier, queue, store } = trackedWorld();
    const submit = new ScriptedSubmit([err(adminError("timeout"))]);
    // Synapse did create the job: the answer was lost on the way back.
    submit.onCall = () => {
      queue.add("purge_history", ROOM, "active");
    };

    const outcome = await launcher.launch(request(submit));
    await runUntil(() => store.get(outcome.task.id)?.homeserverTaskId !== undefined);
    for (const job of queue.jobs.values()) queue.set(job.id, "complete");
    await runUntil(() => !tracker.isTracking(outcome.task.id));
    tracker.stop();

    expect(submit.calls).toBe(1);
    expect(queue.count("resubmit")).toBe(0);
    expect(store.get(outcome.task.id)?.homeserverTaskId).toBe("job-1");
    expect(notifier.of("finished").map((task) => task.status)).toEqual(["complete"]);
  });

  it("records when the request left (statusChangedAt), after the progress message and before the request", async () => {
    useFakeClock(FIXED_NOW);
    const { launcher, store, notifier } = trackedWorld();
    const accepted = notifier.accepted.bind(notifier);
    notifier.accepted = (task) => {
      vi.setSystemTime(Date.now() + 2_000); // posting the progress message took two seconds
      return accepted(task);
    };
    const submit = new ScriptedSubmit([err(adminError("timeout"))]);
    let seenAtSubmit: TaskRecord | undefined;
    submit.onCall = () => {
      seenAtSubmit = store.all()[0];
    };

    await launcher.launch(request(submit));

    expect(seenAtSubmit).toMatchObject({ status: "submitting", createdAt: FIXED_NOW, statusChangedAt: FIXED_NOW + 2_000 });
  });
});
