/**
 * Synapse's task scheduler (synapse/util/task_scheduler.py) as the admin API shows it: a task is
 * stored "scheduled" stamped with its due time; at most five run at once, taken in order of
 * their stamps among those due; starting one restamps it "active", ending it restamps it
 * "complete" or "failed". After a task ends the next due ones start 100 ms later (Synapse's
 * call_later), and every minute anyway. A task scheduled while fewer than five run starts at once.
 */

export type TaskStatus = "scheduled" | "active" | "complete" | "failed" | "cancelled";

export interface SimTask {
  readonly id: string;
  readonly action: string;
  readonly resourceId: string | undefined;
  status: TaskStatus;
  /** Synapse's `timestamp` column: due time while scheduled, then the time of the last status change. */
  timestamp: number;
  result: Readonly<Record<string, unknown>> | null;
  error: string | null;
}

/** What running a task does: how long it takes and how it ends. */
export interface JobPlan {
  readonly durationMs: number;
  /** An error text: the task fails with it. */
  readonly failure?: string;
  /** Called when the job succeeds, just before it is marked complete; returns its result. */
  readonly complete?: () => Readonly<Record<string, unknown>> | null;
}

export interface TaskFilter {
  readonly actions?: readonly string[];
  readonly resourceId?: string;
  readonly statuses?: readonly TaskStatus[];
  /** Tasks stamped at or before this time only (`timestamp <= ?`). */
  readonly maxTimestamp?: number;
}

export interface SchedulerOptions {
  /** Synapse's MAX_CONCURRENT_RUNNING_TASKS. */
  readonly maxRunning?: number;
  /** The delay after a task ends before the next ones start (Synapse: 100 ms). */
  readonly relaunchDelayMs?: number;
  /** Synapse's SCHEDULE_INTERVAL_MS: due tasks are looked for at least this often. */
  readonly intervalMs?: number;
  readonly now?: () => number;
  /** Makes task ids; Synapse's are 16 random letters. */
  readonly newId?: () => string;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Synapse's random_string(16), from Math.random: ids need to be unique, not secret. */
export function randomLetters(length = 16): string {
  let text = "";
  for (let index = 0; index < length; index++) text += LETTERS[Math.floor(Math.random() * LETTERS.length)] ?? "a";
  return text;
}

export class TaskScheduler {
  private readonly tasks = new Map<string, SimTask>();
  private readonly byResource = new Map<string, SimTask[]>();
  /** Scheduled tasks in order of their stamps; the head is the next due. */
  private queue: SimTask[] = [];
  private queueHead = 0;
  private readonly plans = new Map<string, JobPlan>();
  private readonly running = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();
  private readonly interval: ReturnType<typeof setInterval>;
  private readonly maxRunning: number;
  private readonly relaunchDelayMs: number;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(options: SchedulerOptions = {}) {
    this.maxRunning = options.maxRunning ?? 5;
    this.relaunchDelayMs = options.relaunchDelayMs ?? 100;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => randomLetters());
    this.interval = setInterval(() => {
      this.launch();
    }, options.intervalMs ?? 60_000);
    this.interval.unref();
  }

  /** Stores a task due at `at` (now when absent or past) and starts it if a slot is free. */
  schedule(action: string, resourceId: string | undefined, plan: JobPlan, at?: number): SimTask {
    const now = this.now();
    const startNow = at === undefined || at < now;
    const task: SimTask = { id: this.newId(), action, resourceId, status: "scheduled", timestamp: startNow ? now : at, result: null, error: null };
    this.tasks.set(task.id, task);
    this.plans.set(task.id, plan);
    if (resourceId !== undefined) {
      const own = this.byResource.get(resourceId);
      if (own === undefined) this.byResource.set(resourceId, [task]);
      else own.push(task);
    }
    this.enqueue(task);
    if (startNow) this.launch();
    return task;
  }

  get(id: string): SimTask | undefined {
    return this.tasks.get(id);
  }

  /** Tasks running now. */
  runningCount(): number {
    return this.running.size;
  }

  /** As get_scheduled_tasks: every filter given must hold; ordered by stamp. */
  list(filter: TaskFilter = {}): SimTask[] {
    const { actions, resourceId, statuses, maxTimestamp } = filter;
    let source: Iterable<SimTask>;
    if (resourceId !== undefined) source = this.byResource.get(resourceId) ?? [];
    else if (statuses !== undefined && statuses.every((status) => status === "active" || status === "scheduled")) source = this.unfinished();
    else source = this.tasks.values();
    const found: SimTask[] = [];
    for (const task of source) {
      if (actions !== undefined && !actions.includes(task.action)) continue;
      if (statuses !== undefined && !statuses.includes(task.status)) continue;
      if (maxTimestamp !== undefined && task.timestamp > maxTimestamp) continue;
      found.push(task);
    }
    return found.sort((a, b) => a.timestamp - b.timestamp);
  }

  /** Stops every timer; tasks stay as they are. */
  stop(): void {
    clearInterval(this.interval);
    for (const timer of this.running.values()) clearTimeout(timer);
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  private *unfinished(): Iterable<SimTask> {
    for (const id of this.running.keys()) {
      const task = this.tasks.get(id);
      if (task !== undefined) yield task;
    }
    for (let index = this.queueHead; index < this.queue.length; index++) {
      const task = this.queue[index];
      if (task !== undefined) yield task;
    }
  }

  private enqueue(task: SimTask): void {
    const last = this.queue[this.queue.length - 1];
    if (last === undefined || last.timestamp <= task.timestamp) {
      this.queue.push(task);
      return;
    }
    let index = this.queue.length;
    while (index > this.queueHead && (this.queue[index - 1]?.timestamp ?? 0) > task.timestamp) index--;
    this.queue.splice(index, 0, task);
  }

  /** Starts due tasks, oldest stamp first, while fewer than maxRunning run. */
  private launch(): void {
    const now = this.now();
    while (this.running.size < this.maxRunning && this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      if (next === undefined || next.timestamp > now) break;
      this.queueHead++;
      this.start(next, now);
    }
    // The consumed head is dropped now and then, so a long run keeps no dead prefix.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private start(task: SimTask, now: number): void {
    const plan = this.plans.get(task.id) ?? { durationMs: 0 };
    task.status = "active";
    task.timestamp = now;
    const timer = setTimeout(() => {
      this.finish(task, plan);
    }, plan.durationMs);
    this.running.set(task.id, timer);
  }

  private finish(task: SimTask, plan: JobPlan): void {
    this.running.delete(task.id);
    this.plans.delete(task.id);
    if (plan.failure === undefined) {
      task.result = plan.complete?.() ?? null;
      task.status = "complete";
    } else {
      task.status = "failed";
      task.error = plan.failure;
    }
    task.timestamp = this.now();
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.launch();
    }, this.relaunchDelayMs);
    this.pending.add(timer);
  }
}
