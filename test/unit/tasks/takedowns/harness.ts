import type { TakedownOptions, TakedownRecord, TakedownUser } from "../../../../src/model/takedowns.js";
import { KnownVersion } from "../../../../src/synapse/features.js";
import type { LaunchOutcome, TaskRequest } from "../../../../src/tasks/launcher.js";
import { initialSteps, TakedownRunner, DEFAULT_TAKEDOWN_OPTIONS } from "../../../../src/tasks/takedowns/runner.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import type { Timers } from "../../../../src/tasks/alarm.js";
import { FixedClock } from "../../../fakes/fixedClock.js";
import { FakeMediaAdmin } from "../../../fakes/media/fakeMediaAdmin.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingWaves } from "../../../fakes/retention.js";
import { submittingTaskOf } from "../../../fakes/submittingLauncher.js";
import { MemoryTakedownStore, RecordingTakedownNotifier } from "../../../fakes/takedowns.js";

export const SPAMMER = "@spammer:example.org";
export const REMOTE = "@troll:remote.example";
export const ROOMS = ["!a:example.org", "!b:example.org", "!c:example.org"];

/**
 * Launches like the real launcher (the task is recorded before its request leaves; a refusal
 * ends it failed), into a task list the test can end jobs in. Existing tasks of the same kind
 * and user are joined when running, as the launcher does.
 */
export class TaskBook {
  readonly tasks = new Map<string, TaskRecord>();
  readonly requests: TaskRequest[] = [];
  /** Set: the next launch meets this running task, which does less (busy). */
  busyOnce: TaskRecord | undefined;

  async launch(request: TaskRequest): Promise<LaunchOutcome> {
    this.requests.push(request);
    if (this.busyOnce !== undefined) {
      const task = this.busyOnce;
      this.busyOnce = undefined;
      return { kind: "busy", task };
    }
    const task = submittingTaskOf(request, `r-${String(this.tasks.size + 1).padStart(6, "0")}`);
    this.tasks.set(task.id, task);
    const submitted = await request.submit();
    const after: TaskRecord = submitted.ok
      ? { ...task, status: "scheduled", homeserverTaskId: submitted.value }
      : { ...task, status: "failed", reason: submitted.error.userMessage };
    this.tasks.set(task.id, after);
    return { kind: "started", task: after };
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  ofTakedownSend(sendId: string): TaskRecord | undefined {
    return [...this.tasks.values()].find((task) => task.parameters["takedownSend"] === sendId);
  }

  all(): readonly TaskRecord[] {
    return [...this.tasks.values()];
  }

  /** Ends a job as the tracker would record it. */
  end(id: string, status: "complete" | "failed" | "unknown", change: Partial<TaskRecord> = {}): void {
    const task = this.tasks.get(id);
    if (task === undefined) throw new Error(`no task ${id}`);
    this.tasks.set(id, { ...task, status, ...change });
  }
}

/** Timers that ring only when the test says so. */
export class ManualTimers implements Timers {
  private readonly pending = new Map<number, { readonly callback: () => void; readonly delayMs: number }>();
  private next = 0;
  setTimeout(callback: () => void, delayMs: number): unknown {
    this.next += 1;
    this.pending.set(this.next, { callback, delayMs });
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** The delays of the timers pending, in the order they were set. */
  delays(): number[] {
    return [...this.pending.values()].map((timer) => timer.delayMs);
  }
  count(): number {
    return this.pending.size;
  }
  /** Rings every pending timer once. */
  ringAll(): void {
    const timers = [...this.pending.values()];
    this.pending.clear();
    for (const timer of timers) timer.callback();
  }
}

export interface World {
  readonly admin: FakeMediaAdmin;
  readonly book: TaskBook;
  readonly waves: RecordingWaves;
  readonly store: MemoryTakedownStore;
  readonly notifier: RecordingTakedownNotifier;
  readonly clock: FixedClock;
  readonly timers: ManualTimers;
  readonly version: KnownVersion;
  readonly logger: MemoryLogger;
  runner: TakedownRunner;
  /** A new runner on the same store and homeserver, as after a restart. */
  restart(): TakedownRunner;
}

export function world(): World {
  const admin = new FakeMediaAdmin();
  const book = new TaskBook();
  const waves = new RecordingWaves();
  const store = new MemoryTakedownStore();
  const notifier = new RecordingTakedownNotifier();
  const clock = new FixedClock();
  const timers = new ManualTimers();
  const version = new KnownVersion();
  version.set("1.163.2");
  const logger = new MemoryLogger();
  const make = () =>
    new TakedownRunner(store, { admin, launcher: book, tasks: book, waves, version, shutdownPurgeAfterMs: 86_400_000 }, notifier, clock, logger.log, DEFAULT_TAKEDOWN_OPTIONS, timers);
  const result: World = {
    admin,
    book,
    waves,
    store,
    notifier,
    clock,
    timers,
    version,
    logger,
    runner: make(),
    restart() {
      result.runner = make();
      return result.runner;
    },
  };
  return result;
}

export const ALL_OPTIONS: TakedownOptions = { deactivate: true, erase: true, rooms: true, quarantineMedia: true };

export function takedownUser(userId: string, change: Partial<TakedownUser> = {}): TakedownUser {
  return { userId, local: !userId.endsWith("remote.example"), rooms: ROOMS, ownRooms: [], steps: initialSteps({}), ...change };
}

export function takedown(users: readonly TakedownUser[], options: TakedownOptions = ALL_OPTIONS, id = "t-000001"): TakedownRecord {
  return {
    id,
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    options,
    users,
    leftOut: [],
    status: "running",
    createdAt: 0,
    finalNotificationSent: false,
  };
}

/** Each stored version's state of one user's steps, as "name:state" words, deduplicated in order. */
export function stateHistory(store: MemoryTakedownStore, userId: string): string[] {
  const seen: string[] = [];
  for (const record of store.saves) {
    const user = record.users.find((candidate) => candidate.userId === userId);
    if (user === undefined) continue;
    const text = user.steps.map((step) => `${step.name}:${step.state}`).join(" ");
    if (seen.at(-1) !== text) seen.push(text);
  }
  return seen;
}
