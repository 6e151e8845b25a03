import type { Logger } from "pino";
import type { AdminError } from "../synapse/errors.js";
import type { Clock } from "../util/clock.js";
import { Alarm, REAL_TIMERS, type Timers } from "./alarm.js";
import type { Result } from "../util/result.js";
import type { HomeserverJob, HomeserverJobs } from "./homeserverJobs.js";
import { chooseOwnJob } from "./recovery.js";
import type { TaskStore } from "../store/tasks.js";
import { isFinal, type TaskOutcome, type TaskRecord, type TaskStatus } from "./types.js";

export interface Observation {
  readonly status: Exclude<TaskStatus, "submitting">;
  readonly reason?: string;
  readonly outcome?: TaskOutcome;
}

/** What the tracker needs to know about one kind of job; it knows nothing else about commands. */
export interface TaskKindHandler {
  /** The name Synapse's task scheduler gives this kind of job (the `action` in scheduled_tasks). */
  readonly action: string;
  /** The job's own status, and its result once it ended. A not-found error ends the task as unknown. */
  poll(task: TaskRecord): Promise<Result<Observation, AdminError>>;
  /**
   * Sends the job's request again from the task's stored parameters, where a second request is
   * harmless; resolves to the homeserver's id for the job. Absent, or undefined for a task it
   * cannot rebuild, where sending again is not harmless.
   */
  resubmit?(task: TaskRecord): Promise<Result<string, AdminError>> | undefined;
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
  /** The loop ticks this soon after a status changed, then slows by `backoffFactor` to `ceilingMs`. */
  readonly firstTickMs: number;
  readonly backoffFactor: number;
  readonly ceilingMs: number;
  /** Task-queue requests allowed in any minute, however often statuses change. */
  readonly listRequestsPerMinute: number;
  /** Where the task queue cannot be read: each job is polled on its own, up to this ceiling. */
  readonly fallbackCeilingMs: number;
  /** After a submission whose answer was lost: how often, and how long, to look for the job. */
  readonly lookAgainMs: number;
  readonly lookWindowMs: number;
  /** Retries of an undelivered final notification slow down to this. */
  readonly notifyRetryCeilingMs: number;
  /** How long a job may run (counted from when the homeserver started it) before the room is warned, once. */
  readonly stuckAfterMs: number;
  /** Own-status requests sent at once (results of jobs that ended in the same tick). */
  readonly parallelFetches: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  firstTickMs: 1_000,
  backoffFactor: 1.5,
  ceilingMs: 1_700,
  listRequestsPerMinute: 38,
  fallbackCeilingMs: 3_000,
  lookAgainMs: 15_000,
  lookWindowMs: 120_000,
  notifyRetryCeilingMs: 30_000,
  stuckAfterMs: 6 * 3600_000,
  parallelFetches: 4,
};

export const LOST_TASK_REASON =
  "the homeserver no longer knows this job: it keeps a job's status for about 7 days, and loses unfinished ones if its database is reset. Warden did not send it again.";

export function neverConfirmedReason(task: TaskRecord, action: string, submittedAt: number, windowMs: number): string {
  return (
    `Warden's request got no answer, and for ${Math.round(windowMs / 60_000)} min after it the homeserver showed no ` +
    `\`${action}\` job for ${task.roomId} started since ${new Date(submittedAt).toISOString()}. Unknown: whether the ` +
    "homeserver received the request at all. It was not sent again, because a second one is not harmless. " +
    `Check the homeserver's task list (!tasks, or GET /_synapse/admin/v1/scheduled_tasks?action_name=${action}) and the target before repeating the command.`
  );
}

export function ambiguousReason(action: string, jobIds: readonly string[]): string {
  return (
    `Warden's request got no answer, and the homeserver has ${jobIds.length} \`${action}\` jobs for this target started since then ` +
    `(${jobIds.join(", ")}): Warden cannot tell which one is its own, so it follows none. Check them with !tasks.`
  );
}

/** Failures after which the homeserver may still have started the job: look before acting again. */
const UNCERTAIN: ReadonlySet<AdminError["kind"]> = new Set(["timeout", "unreachable", "server-error", "bad-response", "rate-limited"]);

/** Answers that say the task queue cannot be read here at all (too old a Synapse, or a proxy in the way). */
const QUEUE_UNAVAILABLE: ReadonlySet<AdminError["kind"]> = new Set(["not-found", "bad-request", "forbidden", "bad-response"]);

const RANK: Record<TaskStatus, number> = { submitting: 0, scheduled: 1, active: 2, complete: 3, failed: 3, unknown: 3 };

/** A job only moves forward: an earlier status seen later (Synapse resuming a job after its restart) is not news. */
function isForward(from: TaskStatus, to: TaskStatus): boolean {
  return RANK[to] > RANK[from];
}

/** The part of the task store the tracker reads and writes. */
export type TrackerStore = Pick<TaskStore, "get" | "ofHomeserverJob" | "unfinished" | "update">;

interface Entry {
  /** When this task next needs something of its own: a look, a fallback poll, a notification retry. */
  due: number;
  /** Quiet rounds of its own (fallback polls, notification retries), for its back-off. */
  quiet: number;
  /** Someone saw its job missing from the homeserver's queue: its own status is read at the next tick (see lookNow). */
  lookNow?: boolean;
  /** When its own status was last read because of lookNow. */
  lookedAt?: number;
}

/**
 * Follows every unfinished task until it ends and its requester has been told, across restarts,
 * with one loop for all of them. Each tick asks the homeserver once which of its jobs are
 * scheduled or running (GET scheduled_tasks), and reads a job's own status only when it left
 * that list (its result: a shutdown's kicked users, a redaction's failures). Ticks come about a
 * second apart after a status changed, slowing to `ceilingMs`, never more than
 * `listRequestsPerMinute` in a minute, and stop while nothing is in flight. Where the task queue
 * cannot be read, each job is polled on its own instead (said once in the log).
 */
export class TaskTracker {
  private readonly entries = new Map<string, Entry>();
  /** Final notifications being sent: never two at once for one task. */
  private readonly notifying = new Set<string>();
  /**
   * Final notifications delivered whose delivery could not be recorded yet: only the record is
   * tried again, so the requester is not told twice (until a restart, which cannot know).
   */
  private readonly deliveredUnrecorded = new Set<string>();
  private readonly alarm: Alarm;
  private ticking = false;
  // Stryker disable next-line BooleanLiteral: equivalent — runTick() sets it false before wokenDuringTick() ever reads it
  private wakeAfterTick = false;
  private stopped = false;
  private mode: "queue" | "per-job" = "queue";
  private quietTicks = 0;
  private lastListAt = Number.NEGATIVE_INFINITY;
  /** Generic cell rate: the earliest time the next task-queue request is within budget, plus one of tolerance. */
  private budgetTat = Number.NEGATIVE_INFINITY;
  private listFailing = false;

  constructor(
    private readonly store: TrackerStore,
    private readonly handlers: Record<TaskRecord["kind"], TaskKindHandler>,
    private readonly jobs: HomeserverJobs,
    private readonly notifier: TaskNotifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: TrackerOptions = DEFAULT_TRACKER_OPTIONS,
    timers: Timers = REAL_TIMERS,
  ) {
    this.alarm = new Alarm(timers, clock, () => void this.runTick());
  }

  /** Picks up every task left unfinished by a previous run. */
  resumeAll(): void {
    for (const task of this.store.unfinished()) {
      this.log.info({ taskId: task.id, status: task.status }, "resuming task");
      this.add(task.id);
    }
    this.wake(this.clock.now());
  }

  /** Follows one task; calling it again for a task already followed changes nothing. */
  track(taskId: string): void {
    if (this.stopped || this.entries.has(taskId)) return;
    this.add(taskId);
    // A job just submitted is about to change (Synapse starts it at once when it has a slot).
    this.quietTicks = 0;
    const task = this.store.get(taskId);
    const ownWork = task !== undefined && (isFinal(task.status) || task.status === "submitting");
    this.wake(this.clock.now() + (ownWork ? 0 : this.options.firstTickMs));
  }

  /**
   * The wave engine reads the homeserver's queue more often than this loop while rooms wait for
   * a slot, and tells it when a job Warden follows was missing from a read that began after the
   * job was accepted: either it ended (its slot is free once the end is recorded) or the
   * homeserver lists only some of the statuses asked for. Its own status is read at once, not at
   * the next tick; a job found still running turns the loop to per-job polling, as when the loop
   * finds one left out itself. A task looked at in the last `firstTickMs` is not looked at again.
   */
  lookNow(taskIds: readonly string[]): void {
    const now = this.clock.now();
    let any = false;
    for (const taskId of taskIds) {
      const entry = this.entries.get(taskId);
      if (entry === undefined || now - (entry.lookedAt ?? Number.NEGATIVE_INFINITY) < this.options.firstTickMs) continue;
      entry.lookNow = true;
      any = true;
    }
    // Stryker disable next-line ConditionalExpression: equivalent — a tick with nothing to look at now reads nothing before its time
    if (any) this.wake(now);
  }

  isTracking(taskId: string): boolean {
    return this.entries.has(taskId);
  }

  /** Whether jobs are polled one by one because the homeserver's task queue cannot be read. */
  get perJob(): boolean {
    return this.mode === "per-job";
  }

  stop(): void {
    this.stopped = true;
    this.alarm.clear();
    this.entries.clear();
  }

  /** A method, not the field: a stop() can come during any await, which narrowing does not see. */
  private halted(): boolean {
    return this.stopped;
  }

  private wokenDuringTick(): boolean {
    return this.wakeAfterTick;
  }

  private add(taskId: string): void {
    this.entries.set(taskId, { due: this.clock.now(), quiet: 0 });
  }

  private wake(at: number): void {
    if (this.halted()) return;
    if (this.ticking) {
      // The tick in progress plans the next one when it ends; make sure it looks again soon enough.
      this.wakeAfterTick = true;
      return;
    }
    this.alarm.setFor(at);
  }

  private async runTick(): Promise<void> {
    if (this.halted()) return;
    this.ticking = true;
    this.wakeAfterTick = false;
    let changed = false;
    try {
      changed = await this.tick();
    } catch (error) {
      // A bug in a tick must not end tracking: every task stays in `entries` and is looked at again.
      this.log.error({ err: error }, "tracking tick failed unexpectedly");
    } finally {
      this.ticking = false;
    }
    if (this.halted()) return;
    this.quietTicks = changed || this.wokenDuringTick() ? 0 : this.quietTicks + 1;
    const next = this.nextTickAt();
    if (next !== undefined) this.wake(next);
  }

  /** The loop's pace: about a second after a change, slower while nothing changes. */
  private interval(): number {
    const { firstTickMs, backoffFactor, ceilingMs } = this.options;
    return Math.ceil(Math.min(ceilingMs, firstTickMs * backoffFactor ** this.quietTicks));
  }

  private nextTickAt(): number | undefined {
    let next: number | undefined;
    const consider = (time: number): void => {
      next = next === undefined ? time : Math.min(next, time);
    };
    for (const [taskId, entry] of this.entries) {
      const task = this.store.get(taskId);
      if (task === undefined) continue;
      if (this.followedByQueue(task)) consider(entry.lookNow === true ? this.clock.now() : Math.max(this.lastListAt + this.interval(), this.budgetAllows()));
      else if (!this.notifying.has(taskId)) consider(entry.due);
    }
    return next;
  }

  /** Scheduled or running with a known job id, while the task queue can be read. */
  private followedByQueue(task: TaskRecord): boolean {
    return this.mode === "queue" && !isFinal(task.status) && task.status !== "submitting" && task.homeserverTaskId !== undefined;
  }

  /** Whole milliseconds between requests at the budget's rate: timers fire on whole milliseconds. */
  private budgetSpacing(): number {
    return Math.ceil(60_000 / this.options.listRequestsPerMinute);
  }

  private budgetAllows(): number {
    return this.budgetTat - this.budgetSpacing();
  }

  private spendBudget(now: number): void {
    this.budgetTat = Math.max(this.budgetTat, now) + this.budgetSpacing();
  }

  /** One round over every task; true when some status changed. */
  private async tick(): Promise<boolean> {
    const now = this.clock.now();
    let changed = false;
    const queued: TaskRecord[] = [];
    const ownPolls: TaskRecord[] = [];
    const missing: TaskRecord[] = [];
    for (const [taskId, entry] of [...this.entries]) {
      const task = this.store.get(taskId);
      if (task === undefined) {
        this.entries.delete(taskId);
        continue;
      }
      if (isFinal(task.status)) {
        if (task.finalNotificationSent) this.entries.delete(taskId);
        else if (entry.due <= now) this.announce(task);
      } else if (task.status === "submitting") {
        if (entry.due <= now) changed = (await this.lookForLostJob(task, entry)) || changed;
        if (this.halted()) return changed;
      } else if (this.followedByQueue(task)) {
        if (entry.lookNow === true) {
          entry.lookNow = false;
          entry.lookedAt = now;
          missing.push(task);
        } else queued.push(task);
      } else if (entry.due <= now) {
        ownPolls.push(task);
      }
    }
    changed = (await this.pollEach(missing, "left-queue")) || changed;
    if (this.halted()) return changed;
    if (queued.length > 0 && now >= this.lastListAt + this.interval() && now >= this.budgetAllows()) {
      changed = (await this.readQueue(queued)) || changed;
    }
    if (this.halted()) return changed;
    changed = (await this.pollEach(ownPolls, "per-job")) || changed;
    return changed;
  }

  /** One task-queue request for every job it follows; own statuses only for the jobs that left it. */
  private async readQueue(queued: readonly TaskRecord[]): Promise<boolean> {
    // Only jobs whose id was known before the request left can be judged by its answer.
    const asked = new Map(queued.map((task) => [task.id, task.homeserverTaskId]));
    const now = this.clock.now();
    this.lastListAt = now;
    this.spendBudget(now);
    const listed = await this.jobs.inFlight();
    // Stryker disable next-line BooleanLiteral: equivalent — after a stop() the tick's result is never read
    if (this.halted()) return false;
    if (!listed.ok) {
      if (QUEUE_UNAVAILABLE.has(listed.error.kind)) {
        this.fallBack(`the homeserver's task queue (scheduled_tasks) cannot be read: ${listed.error.userMessage}`);
        // Stryker disable next-line BooleanLiteral: equivalent — from now on each job's own due time sets the pace, quietTicks is no longer read
        return true;
      }
      if (!this.listFailing) this.log.warn({ error: listed.error.kind, detail: listed.error.detail }, "status poll failed; will retry");
      this.listFailing = true;
      return false;
    }
    if (this.listFailing) this.log.info("the homeserver answers status polls again");
    this.listFailing = false;
    const byId = new Map<string, HomeserverJob>(listed.value.map((job) => [job.id, job]));
    let changed = false;
    const left: TaskRecord[] = [];
    for (const [taskId, jobId] of asked) {
      const task = this.store.get(taskId);
      if (task === undefined || isFinal(task.status) || task.homeserverTaskId !== jobId || jobId === undefined) continue;
      const job = byId.get(jobId);
      if (job === undefined) {
        left.push(task);
        continue;
      }
      const status =
        job.status === "active"
          ? "active"
          : // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: equivalent — a task followed by the queue is already scheduled, so a listed "scheduled" is never news
            job.status === "scheduled"
            ? "scheduled"
            : undefined;
      if (status !== undefined && isForward(task.status, status)) {
        // Running time counts from when the homeserver started the job, not from when Warden saw it.
        const at = status === "active" ? Math.min(job.timestampMs, this.clock.now()) : this.clock.now();
        await this.changeStatus(task, { status }, at);
        changed = true;
      } else if (status === "active") {
        // Not forward to active: the task is active already.
        await this.warnIfStuck(task);
      }
      if (this.halted()) return changed;
    }
    changed = (await this.pollEach(left, "left-queue")) || changed;
    return changed;
  }

  /** Own-status requests, a few at a time. */
  private async pollEach(tasks: readonly TaskRecord[], why: "per-job" | "left-queue"): Promise<boolean> {
    let changed = false;
    const pending = [...tasks];
    const worker = async (): Promise<void> => {
      for (let task = pending.shift(); task !== undefined && !this.halted(); task = pending.shift()) {
        changed = (await this.pollOne(task, why)) || changed;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.parallelFetches, pending.length) }, worker));
    return changed;
  }

  private async pollOne(task: TaskRecord, why: "per-job" | "left-queue"): Promise<boolean> {
    const observed = await this.handlers[task.kind].poll(task);
    // Stryker disable next-line BooleanLiteral: equivalent — after a stop() the tick's result is never read
    if (this.halted()) return false;
    const entry = this.entries.get(task.id);
    const current = this.store.get(task.id);
    if (entry === undefined || current === undefined || isFinal(current.status)) return false;
    if (!observed.ok) {
      if (observed.error.kind === "not-found") {
        await this.changeStatus(current, { status: "unknown", reason: LOST_TASK_REASON });
        return true;
      }
      this.log.warn({ taskId: task.id, error: observed.error.kind, detail: observed.error.detail }, "status poll failed; will retry");
      this.backOff(entry, this.options.fallbackCeilingMs);
      return false;
    }
    const status = observed.value.status;
    if (why === "left-queue" && !isFinal(status)) {
      // Stryker disable next-line StringLiteral: equivalent — a job the queue left out always has an id; "?" only satisfies the type checker
      const jobId = task.homeserverTaskId ?? "?";
      if (this.jobs.listsEveryStatus()) {
        // A homeserver that lists every job in flight left this one out because it had ended, and
        // then started it again: Synapse's scheduler relaunches a task that ends while it walks its
        // list of active ones (seen on 1.163.2 during waves). The list follows it again; falling
        // back to one request per job for every job from now on would be for nothing.
        this.log.debug({ taskId: task.id, jobId, status }, "the homeserver ran a job again after it had ended; following it as before");
      } else {
        // The queue left out a job that has not ended: this homeserver does not list every job
        // asked for (before 1.163 Synapse reads only the first of several statuses).
        this.fallBack(`the homeserver's task queue left out job ${jobId}, which is still ${status}`);
      }
    }
    if (isFinal(status) || isForward(current.status, status)) {
      entry.quiet = 0;
      entry.due = this.clock.now() + this.options.firstTickMs;
      await this.changeStatus(current, observed.value);
      return true;
    }
    // Not forward to active: the task is active already.
    if (status === "active") await this.warnIfStuck(current);
    this.backOff(entry, this.options.fallbackCeilingMs);
    // Stryker disable next-line BooleanLiteral: equivalent — reached in per-job mode only (a job the queue left out that has not ended switched to it above), where quietTicks is no longer read
    return false;
  }

  private backOff(entry: Entry, ceilingMs: number): void {
    entry.due = this.clock.now() + Math.min(ceilingMs, this.options.firstTickMs * this.options.backoffFactor ** entry.quiet);
    entry.quiet += 1;
  }

  private fallBack(why: string): void {
    if (this.mode === "per-job") return;
    this.mode = "per-job";
    this.log.warn({ reason: why }, "following each job on its own from now on: one status request per job");
    const now = this.clock.now();
    for (const entry of this.entries.values()) entry.due = Math.min(entry.due, now);
  }

  private async changeStatus(task: TaskRecord, observation: Observation, at = this.clock.now()): Promise<void> {
    const final = isFinal(observation.status);
    const now = this.clock.now();
    const updated = await this.store.update(task.id, {
      status: observation.status,
      statusChangedAt: final ? now : at,
      ...(observation.reason === undefined ? {} : { reason: observation.reason }),
      ...(observation.outcome === undefined ? {} : { outcome: observation.outcome }),
      ...(final ? { finishedAt: now } : {}),
    });
    this.log.info({ taskId: task.id, kind: task.kind, status: updated.status }, "task status changed");
    if (final) {
      this.announce(updated);
      return;
    }
    try {
      await this.notifier.progressed(updated);
    } catch (error) {
      this.log.warn({ taskId: task.id, err: error }, "could not report progress");
    }
  }

  /** Sends the final notification in the background, so a slow room never holds up the loop. */
  private announce(task: TaskRecord): void {
    if (this.stopped || this.notifying.has(task.id) || task.finalNotificationSent) return;
    this.notifying.add(task.id);
    const settle = async (): Promise<void> => {
      let delivered = this.deliveredUnrecorded.has(task.id);
      if (!delivered) {
        try {
          delivered = await this.notifier.finished(task);
        } catch (error) {
          this.log.error({ taskId: task.id, err: error }, "final notification failed");
        }
      }
      if (delivered) {
        this.deliveredUnrecorded.add(task.id);
        await this.store.update(task.id, { finalNotificationSent: true });
        this.deliveredUnrecorded.delete(task.id);
        this.entries.delete(task.id);
      } else {
        this.log.warn({ taskId: task.id }, "final notification not delivered; will retry");
        const entry = this.entries.get(task.id);
        if (entry !== undefined) this.backOff(entry, this.options.notifyRetryCeilingMs);
      }
    };
    void settle()
      .catch((error: unknown) => {
        this.log.error({ taskId: task.id, err: error }, "could not record the final notification");
        const entry = this.entries.get(task.id);
        if (entry !== undefined) this.backOff(entry, this.options.notifyRetryCeilingMs);
      })
      .finally(() => {
        this.notifying.delete(task.id);
        const entry = this.entries.get(task.id);
        if (entry !== undefined) this.wake(entry.due);
      });
  }

  /**
   * A submission whose answer was lost (a timeout, or Warden stopped mid-request): look for the
   * job the request may have created, for `lookWindowMs`, since Synapse keeps working on a
   * request whose client went away. Then send again where that is harmless, or say what is unknown.
   */
  private async lookForLostJob(task: TaskRecord, entry: Entry): Promise<boolean> {
    const handler = this.handlers[task.kind];
    const submittedAt = task.statusChangedAt;
    const found = await this.jobs.of(handler.action, task.roomId);
    // Stryker disable next-line BooleanLiteral: equivalent — after a stop() the tick's result is never read
    if (this.halted()) return false;
    if (!found.ok) {
      this.log.warn({ taskId: task.id, error: found.error.kind }, "could not look for an interrupted submission; will retry");
      this.backOff(entry, this.options.lookAgainMs);
      return false;
    }
    // The homeserver's jobs found that another task of Warden's follows: by an index, not a scan of every task.
    const ownedElsewhere = new Set(found.value.filter((job) => this.store.ofHomeserverJob(job.id).some((id) => id !== task.id)).map((job) => job.id));
    const choice = chooseOwnJob(found.value, { action: handler.action, resourceId: task.roomId, submittedAt }, ownedElsewhere);
    if (choice.kind === "found") {
      this.log.info({ taskId: task.id, homeserverTaskId: choice.jobId }, "found the interrupted submission on the homeserver");
      await this.adopt(task, choice.jobId);
      return true;
    }
    if (choice.kind === "ambiguous") {
      this.log.warn({ taskId: task.id, candidates: choice.jobIds }, "more than one homeserver job could be this task's; adopting none");
      await this.changeStatus(task, { status: "unknown", reason: ambiguousReason(handler.action, choice.jobIds) });
      return true;
    }
    const now = this.clock.now();
    if (now - submittedAt < this.options.lookWindowMs) {
      entry.due = Math.min(now + this.options.lookAgainMs, submittedAt + this.options.lookWindowMs);
      return false;
    }
    if (handler.resubmit === undefined) {
      await this.changeStatus(task, { status: "unknown", reason: neverConfirmedReason(task, handler.action, submittedAt, this.options.lookWindowMs) });
      return true;
    }
    // Written before the request leaves: a crash now is recovered by the same looking, from now.
    const resent = await this.store.update(task.id, { statusChangedAt: this.clock.now() });
    const resend = handler.resubmit(resent);
    if (resend === undefined) {
      await this.changeStatus(resent, { status: "unknown", reason: neverConfirmedReason(task, handler.action, submittedAt, this.options.lookWindowMs) });
      return true;
    }
    this.log.info({ taskId: task.id }, "the homeserver shows no job for a lost submission; sending it again (harmless for this kind)");
    const sent = await resend;
    // Stryker disable next-line BooleanLiteral: equivalent — after a stop() the tick's result is never read
    if (this.halted()) return false;
    const current = this.store.get(task.id) ?? task;
    if (sent.ok) {
      await this.adopt(current, sent.value);
      return true;
    }
    if (UNCERTAIN.has(sent.error.kind)) {
      this.log.warn({ taskId: task.id, error: sent.error.kind }, "unclear whether the homeserver accepted the request sent again");
      entry.due = this.clock.now();
      return false;
    }
    await this.changeStatus(current, { status: "failed", reason: sent.error.userMessage });
    return true;
  }

  private async adopt(task: TaskRecord, jobId: string): Promise<void> {
    const updated = await this.store.update(task.id, { homeserverTaskId: jobId, status: "scheduled", statusChangedAt: this.clock.now() });
    const entry = this.entries.get(task.id);
    if (entry !== undefined) entry.due = this.clock.now();
    try {
      await this.notifier.progressed(updated);
    } catch (error) {
      this.log.warn({ taskId: task.id, err: error }, "could not report progress");
    }
  }

  private async warnIfStuck(task: TaskRecord): Promise<void> {
    if (task.warnedStuckAt !== undefined) return;
    if (this.clock.now() - task.statusChangedAt < this.options.stuckAfterMs) return;
    const updated = await this.store.update(task.id, { warnedStuckAt: this.clock.now() });
    this.log.warn({ taskId: task.id, status: task.status }, "task looks stuck");
    try {
      await this.notifier.stuck(updated);
    } catch (error) {
      this.log.warn({ taskId: task.id, err: error }, "could not send the stuck warning");
    }
  }
}
