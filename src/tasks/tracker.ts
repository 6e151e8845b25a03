import type { Logger } from "pino";
import type { AdminError } from "../synapse/errors.js";
import type { Clock } from "../util/clock.js";
import type { Result } from "../util/result.js";
import type { TaskStore } from "./store.js";
import { isFinal, type TaskKind, type TaskOutcome, type TaskRecord, type TaskStatus } from "./types.js";

export interface Observation {
  readonly status: Exclude<TaskStatus, "submitting">;
  readonly reason?: string;
  readonly outcome?: TaskOutcome;
}

/** What the tracker needs to know about one kind of job; it knows nothing else about commands. */
export interface TaskKindHandler {
  /** Asks the homeserver where the job stands. A not-found error ends the task as unknown. */
  poll(task: TaskRecord): Promise<Result<Observation, AdminError>>;
  /** After an interrupted submission: the homeserver's id for the job if it has one, never a new request. */
  recover(task: TaskRecord): Promise<Result<string | undefined, AdminError>>;
}

export interface TaskNotifier {
  /** The status changed (to anything but a final one): update the progress message. */
  progressed(task: TaskRecord): Promise<void>;
  /**
   * The job ended: update the progress message and notify the requester. True when the tracker
   * is done with it: delivered, or given up for good (the notifier bounds its tries, and logs
   * and records one it could not deliver). False: not delivered yet, call again later.
   */
  finished(task: TaskRecord): Promise<boolean>;
  /** Still running long after it should have ended. */
  stuck(task: TaskRecord): Promise<void>;
}

export interface TrackerOptions {
  readonly firstPollMs: number;
  readonly backoffFactor: number;
  readonly ceilingMs: number;
  /** How long a job may stay scheduled or active before the room is warned (once). */
  readonly stuckAfterMs: Record<TaskKind, number>;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  firstPollMs: 1_000,
  backoffFactor: 1.5,
  ceilingMs: 30_000,
  stuckAfterMs: { purge: 6 * 3600_000, shutdown: 6 * 3600_000, redact: 6 * 3600_000 },
};

export const LOST_TASK_REASON =
  "the homeserver no longer knows this job: it keeps a job's status for about 7 days, and loses unfinished ones if its database is reset. Warden did not send it again.";

export const NEVER_CONFIRMED_REASON =
  "Warden stopped before the homeserver confirmed this request, and the homeserver has no such job. Nothing was sent again; check the room and repeat the command if it is still needed.";

/**
 * Follows every unfinished task until it ends and its requester has been told, across restarts.
 * Polls adapt: about once a second at first, slower while nothing changes, up to a ceiling.
 */
export class TaskTracker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly quietPolls = new Map<string, number>();
  /** Tasks whose last poll failed: their back-off restarts once the homeserver answers again. */
  private readonly failingPolls = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: TaskStore,
    private readonly handlers: Record<TaskKind, TaskKindHandler>,
    private readonly notifier: TaskNotifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: TrackerOptions = DEFAULT_TRACKER_OPTIONS,
  ) {}

  /** Picks up every task left unfinished by a previous run. */
  resumeAll(): void {
    for (const task of this.store.unfinished()) {
      this.log.info({ taskId: task.id, status: task.status }, "resuming task");
      this.track(task.id);
    }
  }

  track(taskId: string): void {
    if (this.stopped || this.timers.has(taskId)) return;
    this.schedule(taskId, 0);
  }

  isTracking(taskId: string): boolean {
    return this.timers.has(taskId);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(taskId: string, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      void this.step(taskId).catch((error: unknown) => {
        // A bug in a step must not end tracking: log it and try again at the ceiling.
        this.log.error({ taskId, err: error }, "task step failed unexpectedly");
        this.schedule(taskId, this.options.ceilingMs);
      });
    }, delayMs);
    this.timers.set(taskId, timer);
  }

  private nextDelay(taskId: string): number {
    const quiet = this.quietPolls.get(taskId) ?? 0;
    this.quietPolls.set(taskId, quiet + 1);
    return Math.min(this.options.ceilingMs, this.options.firstPollMs * this.options.backoffFactor ** quiet);
  }

  private done(taskId: string): void {
    this.timers.delete(taskId);
    this.quietPolls.delete(taskId);
    this.failingPolls.delete(taskId);
  }

  private async step(taskId: string): Promise<void> {
    const task = this.store.get(taskId);
    if (task === undefined) {
      this.done(taskId);
      return;
    }
    if (task.status === "submitting") {
      await this.recover(task);
      return;
    }
    if (isFinal(task.status)) {
      await this.notifyFinished(task);
      return;
    }
    const observed = await this.handlers[task.kind].poll(task);
    if (!observed.ok) {
      if (observed.error.kind === "not-found") {
        await this.changeStatus(task, { status: "unknown", reason: LOST_TASK_REASON });
        return;
      }
      this.log.warn({ taskId, error: observed.error.kind, detail: observed.error.detail }, "status poll failed; will retry");
      this.failingPolls.add(taskId);
      this.schedule(taskId, this.nextDelay(taskId));
      return;
    }
    // Back-off earned while the homeserver was away says nothing about the job's pace.
    if (this.failingPolls.delete(taskId)) this.quietPolls.set(taskId, 0);
    if (observed.value.status !== task.status) {
      await this.changeStatus(task, observed.value);
      return;
    }
    await this.warnIfStuck(task);
    this.schedule(taskId, this.nextDelay(taskId));
  }

  private async changeStatus(task: TaskRecord, observation: Observation): Promise<void> {
    const now = this.clock.now();
    const updated = await this.store.update(task.id, {
      status: observation.status,
      statusChangedAt: now,
      ...(observation.reason === undefined ? {} : { reason: observation.reason }),
      ...(observation.outcome === undefined ? {} : { outcome: observation.outcome }),
      ...(isFinal(observation.status) ? { finishedAt: now } : {}),
    });
    this.log.info({ taskId: task.id, kind: task.kind, status: updated.status }, "task status changed");
    this.quietPolls.set(task.id, 0);
    if (isFinal(updated.status)) {
      await this.notifyFinished(updated);
      return;
    }
    await this.notifier.progressed(updated);
    this.schedule(task.id, this.nextDelay(task.id));
  }

  private async notifyFinished(task: TaskRecord): Promise<void> {
    if (task.finalNotificationSent) {
      this.done(task.id);
      return;
    }
    const delivered = await this.notifier.finished(task);
    if (delivered) {
      await this.store.update(task.id, { finalNotificationSent: true });
      this.done(task.id);
      return;
    }
    this.log.warn({ taskId: task.id }, "final notification not delivered; will retry");
    this.schedule(task.id, this.nextDelay(task.id));
  }

  private async recover(task: TaskRecord): Promise<void> {
    const found = await this.handlers[task.kind].recover(task);
    if (!found.ok) {
      this.log.warn({ taskId: task.id, error: found.error.kind }, "could not look for an interrupted submission; will retry");
      this.schedule(task.id, this.nextDelay(task.id));
      return;
    }
    if (found.value === undefined) {
      await this.changeStatus(task, { status: "unknown", reason: NEVER_CONFIRMED_REASON });
      return;
    }
    this.log.info({ taskId: task.id, homeserverTaskId: found.value }, "found the interrupted submission on the homeserver");
    await this.store.update(task.id, { homeserverTaskId: found.value, status: "scheduled", statusChangedAt: this.clock.now() });
    // Back-off earned while the homeserver was unreachable says nothing about the job's pace.
    this.quietPolls.set(task.id, 0);
    this.schedule(task.id, 0);
  }

  private async warnIfStuck(task: TaskRecord): Promise<void> {
    if (task.warnedStuckAt !== undefined) return;
    if (this.clock.now() - task.statusChangedAt < this.options.stuckAfterMs[task.kind]) return;
    const updated = await this.store.update(task.id, { warnedStuckAt: this.clock.now() });
    this.log.warn({ taskId: task.id, status: task.status }, "task looks stuck");
    await this.notifier.stuck(updated);
  }
}
