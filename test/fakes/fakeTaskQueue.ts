import type { AdminError } from "../../src/synapse/errors.js";
import type { HomeserverJob, HomeserverJobs } from "../../src/tasks/homeserverJobs.js";
import type { Observation, TaskKindHandler } from "../../src/tasks/tracker.js";
import type { TaskOutcome, TaskRecord } from "../../src/tasks/types.js";
import type { Clock } from "../../src/util/clock.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { describeStatus, type AdminErrorKind } from "../../src/synapse/errors.js";

export type FakeJobStatus = "scheduled" | "active" | "complete" | "failed" | "cancelled";

export interface FakeJob {
  readonly id: string;
  readonly action: string;
  readonly resourceId: string;
  status: FakeJobStatus;
  timestampMs: number;
  error?: string;
  outcome?: TaskOutcome;
}

/** One request as the fake homeserver saw it. */
export interface QueueRequest {
  readonly kind: "in-flight" | "of" | "own-status" | "resubmit";
  readonly at: number;
  readonly jobId?: string;
}

function failure(kind: AdminErrorKind, status?: number, detail?: string): AdminError {
  return { kind, ...(status === undefined ? {} : { status }), ...(detail === undefined ? {} : { detail }), userMessage: describeStatus(kind, status, detail) };
}

/**
 * Synapse's task scheduler as the tracker sees it: jobs with a status and Synapse's
 * `timestamp_ms` (moved at every status change), the task-queue requests, and each kind's own
 * status endpoint. Every request is recorded with the clock's time.
 */
export class FakeTaskQueue implements HomeserverJobs {
  readonly jobs = new Map<string, FakeJob>();
  readonly requests: QueueRequest[] = [];
  /** Answers the next task-queue requests with these failures, in order. */
  readonly queueFailures: AdminError[] = [];
  /** Answers the next own-status requests with these failures, in order. */
  readonly ownFailures: AdminError[] = [];
  /** Like Synapse before 1.163: of several statuses asked for, only the first ("active") is read. */
  firstStatusOnly = false;
  /** What a resubmission does: create a job (default), or answer with an error. */
  resubmitAnswer: ((task: TaskRecord) => Result<string, AdminError>) | undefined;
  private nextId = 1;

  listsEveryStatus(): boolean {
    return !this.firstStatusOnly;
  }

  constructor(private readonly clock: Clock) {}

  add(action: string, resourceId: string, status: FakeJobStatus = "scheduled", timestampMs = this.clock.now()): FakeJob {
    const job: FakeJob = { id: `job-${this.nextId++}`, action, resourceId, status, timestampMs };
    this.jobs.set(job.id, job);
    return job;
  }

  /** Moves a job, stamping it as Synapse does. */
  set(jobId: string, status: FakeJobStatus, extra: { error?: string; outcome?: TaskOutcome; at?: number } = {}): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new Error(`no job ${jobId}`);
    job.status = status;
    job.timestampMs = extra.at ?? this.clock.now();
    if (extra.error !== undefined) job.error = extra.error;
    if (extra.outcome !== undefined) job.outcome = extra.outcome;
  }

  count(kind: QueueRequest["kind"]): number {
    return this.requests.filter((request) => request.kind === kind).length;
  }

  static error(kind: AdminErrorKind, status?: number, detail?: string): AdminError {
    return failure(kind, status, detail);
  }

  inFlight(): Promise<Result<readonly HomeserverJob[], AdminError>> {
    this.requests.push({ kind: "in-flight", at: this.clock.now() });
    const failed = this.queueFailures.shift();
    if (failed !== undefined) return Promise.resolve(err(failed));
    const wanted = this.firstStatusOnly ? ["active"] : ["active", "scheduled"];
    return Promise.resolve(ok([...this.jobs.values()].filter((job) => wanted.includes(job.status)).map(listed)));
  }

  of(action: string, resourceId: string): Promise<Result<readonly HomeserverJob[], AdminError>> {
    this.requests.push({ kind: "of", at: this.clock.now() });
    const failed = this.queueFailures.shift();
    if (failed !== undefined) return Promise.resolve(err(failed));
    return Promise.resolve(ok([...this.jobs.values()].filter((job) => job.action === action && job.resourceId === resourceId).map(listed)));
  }

  /** The handler of one kind of job, reading this queue's jobs through their own status endpoint. */
  handler(action: string, options: { resubmit?: boolean; queuedReadsActive?: boolean } = {}): TaskKindHandler {
    const poll = (task: TaskRecord): Promise<Result<Observation, AdminError>> => {
      this.requests.push({ kind: "own-status", at: this.clock.now(), ...(task.homeserverTaskId === undefined ? {} : { jobId: task.homeserverTaskId }) });
      const failed = this.ownFailures.shift();
      if (failed !== undefined) return Promise.resolve(err(failed));
      const job = task.homeserverTaskId === undefined ? undefined : this.jobs.get(task.homeserverTaskId);
      if (job === undefined) return Promise.resolve(err(failure("not-found", 404, "Unknown task")));
      return Promise.resolve(ok(observe(job, options.queuedReadsActive === true)));
    };
    const resubmit = (task: TaskRecord): Promise<Result<string, AdminError>> => {
      this.requests.push({ kind: "resubmit", at: this.clock.now() });
      const answer = this.resubmitAnswer?.(task);
      return Promise.resolve(answer ?? ok(this.add(action, task.roomId).id));
    };
    return options.resubmit === true ? { action, poll, resubmit } : { action, poll };
  }
}

function listed(job: FakeJob): HomeserverJob {
  return { id: job.id, action: job.action, resourceId: job.resourceId, status: job.status, timestampMs: job.timestampMs };
}

function observe(job: FakeJob, queuedReadsActive: boolean): Observation {
  switch (job.status) {
    case "scheduled":
      // Synapse's purge status says "active" for a purge still waiting for a slot.
      return { status: queuedReadsActive ? "active" : "scheduled" };
    case "active":
      return { status: "active" };
    case "complete":
      return { status: "complete", ...(job.outcome === undefined ? {} : { outcome: job.outcome }) };
    case "failed":
    case "cancelled":
      return { status: "failed", reason: job.error ?? "the homeserver gave no reason" };
  }
}
