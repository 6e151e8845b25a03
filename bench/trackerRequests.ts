/**
 * Part of `npm run bench`: how many requests the tracker sends the homeserver per minute with
 * 1, 10 and 100 jobs in flight, on a virtual clock (no waiting, no network). The jobs behave
 * like Synapse's task scheduler: at most five run at once, the rest wait as "scheduled", and
 * each runs for one to three minutes. The status requests should not grow with the jobs.
 */
import { pino } from "pino";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker, type TaskNotifier, type TrackerStore } from "../src/tasks/tracker.js";
import type { Timers } from "../src/tasks/alarm.js";
import { isFinal, type TaskRecord } from "../src/tasks/types.js";
import type { Clock } from "../src/util/clock.js";
import { FakeTaskQueue, type FakeJob } from "../test/fakes/fakeTaskQueue.js";

const START = Date.UTC(2026, 0, 1);
const SYNAPSE_SLOTS = 5;

/** Time that moves only when every pending promise has settled and the next timer is due. */
class VirtualTime implements Clock, Timers {
  private current = START;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextHandle = 1;

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.current + Math.max(0, delayMs), callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Runs timers in order until `until`, calling `each` between steps (the homeserver's own progress). */
  async runUntil(until: number, each: () => void): Promise<void> {
    for (;;) {
      await settle();
      each();
      const [handle, next] = [...this.timers.entries()].sort(([, a], [, b]) => a.at - b.at)[0] ?? [];
      if (handle === undefined || next === undefined || next.at > until) break;
      this.timers.delete(handle);
      this.current = next.at;
      next.callback();
    }
    this.current = until;
  }
}

async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

class MemoryStore implements TrackerStore {
  readonly tasks = new Map<string, TaskRecord>();

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  ofHomeserverJob(jobId: string): string[] {
    return [...this.tasks.values()].filter((task) => task.homeserverTaskId === jobId).map((task) => task.id);
  }

  unfinished(): TaskRecord[] {
    return [...this.tasks.values()].filter((task) => !isFinal(task.status) || !task.finalNotificationSent);
  }

  update(id: string, change: Partial<TaskRecord>): Promise<TaskRecord> {
    const current = this.tasks.get(id);
    if (current === undefined) return Promise.reject(new Error(`no task ${id}`));
    const next = { ...current, ...change };
    this.tasks.set(id, next);
    return Promise.resolve(next);
  }
}

const silentNotifier: TaskNotifier = {
  progressed: () => Promise.resolve(),
  finished: () => Promise.resolve(true),
  stuck: () => Promise.resolve(),
};

interface Run {
  readonly jobs: number;
  readonly minutes: number;
  readonly queueRequests: number;
  readonly resultFetches: number;
  readonly otherOwnRequests: number;
  readonly finished: number;
}

/** A deterministic spread of job lengths: 60 s to 180 s. */
function lengthOf(index: number): number {
  return 60_000 + ((index * 7_919) % 120_001);
}

async function run(jobCount: number, minutes: number): Promise<Run> {
  const time = new VirtualTime();
  const queue = new FakeTaskQueue(time);
  const store = new MemoryStore();
  const handler = queue.handler("redact_all_events");
  const tracker = new TaskTracker(
    store,
    { purge: handler, shutdown: handler, redact: handler },
    queue,
    silentNotifier,
    time,
    pino({ level: "silent" }),
    DEFAULT_TRACKER_OPTIONS,
    time,
  );
  const ends = new Map<string, number>();
  // Jobs keep coming: whenever one ends, another is submitted, so `jobCount` stay in flight.
  let submitted = 0;
  const submit = (): void => {
    const index = submitted++;
    const job = queue.add("redact_all_events", `@user${index}:example.org`, "scheduled");
    const task: TaskRecord = {
      id: `r-${String(index)}`,
      kind: "redact",
      roomId: `@user${index}:example.org`,
      roomLabel: `@user${index}:example.org`,
      requester: "@mod:example.org",
      managementRoomId: "!mgmt:example.org",
      commandEventId: `$command${index}`,
      homeserverTaskId: job.id,
      parameters: {},
      status: "scheduled",
      createdAt: time.now(),
      statusChangedAt: time.now(),
      finalNotificationSent: false,
    };
    store.tasks.set(task.id, task);
    ends.set(job.id, lengthOf(index));
    tracker.track(task.id);
  };
  /** Synapse's scheduler: end what is due, start waiting jobs while a slot is free. */
  const homeserver = (): void => {
    const jobs: FakeJob[] = [...queue.jobs.values()];
    for (const job of jobs) {
      if (job.status === "active" && time.now() - job.timestampMs >= (ends.get(job.id) ?? 0)) {
        queue.set(job.id, "complete");
        submit();
      }
    }
    let running = jobs.filter((job) => job.status === "active").length;
    for (const job of jobs) {
      if (running >= SYNAPSE_SLOTS) break;
      if (job.status === "scheduled") {
        queue.set(job.id, "active");
        running++;
      }
    }
  };
  for (let index = 0; index < jobCount; index++) submit();
  // Let the first minute pass before counting: the loop starts at full pace.
  await time.runUntil(START + 60_000, homeserver);
  queue.requests.length = 0;
  const finishedBefore = [...store.tasks.values()].filter((task) => task.finalNotificationSent).length;
  await time.runUntil(START + (minutes + 1) * 60_000, homeserver);
  tracker.stop();
  const ownStatus = queue.requests.filter((request) => request.kind === "own-status");
  const endedJobs = new Set([...queue.jobs.values()].filter((job) => job.status === "complete").map((job) => job.id));
  const resultFetches = ownStatus.filter((request) => request.jobId !== undefined && endedJobs.has(request.jobId)).length;
  return {
    jobs: jobCount,
    minutes,
    queueRequests: queue.count("in-flight"),
    resultFetches,
    otherOwnRequests: ownStatus.length - resultFetches,
    finished: [...store.tasks.values()].filter((task) => task.finalNotificationSent).length - finishedBefore,
  };
}

export async function benchTrackerRequests(): Promise<void> {
  console.log("tracker: homeserver requests per minute (virtual clock, 10 minutes, jobs of 1-3 min, 5 Synapse slots)");
  for (const jobs of [1, 10, 100]) {
    const result = await run(jobs, 10);
    const perMinute = (count: number): string => (count / result.minutes).toFixed(1);
    console.log(
      `  ${String(jobs).padStart(3)} jobs in flight: ${perMinute(result.queueRequests + result.otherOwnRequests)} status requests/min ` +
        `(task queue ${perMinute(result.queueRequests)}, other own-status ${perMinute(result.otherOwnRequests)}), ` +
        `plus ${perMinute(result.resultFetches)} result fetches/min for ${perMinute(result.finished)} jobs ended/min`,
    );
  }
}

await benchTrackerRequests();
