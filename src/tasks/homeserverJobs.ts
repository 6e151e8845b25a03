import type { ScheduledTaskStatus, SynapseAdminClient } from "../synapse/adminClient.js";
import type { AdminError } from "../synapse/errors.js";
import { parseSynapseVersion, supports, type HomeserverVersion } from "../synapse/features.js";
import type { Clock } from "../util/clock.js";
import { ok, type Result } from "../util/result.js";

/** One entry of the homeserver's own task queue, as the tracker reads it. */
export interface HomeserverJob {
  readonly id: string;
  readonly action: string;
  readonly resourceId: string | undefined;
  readonly status: ScheduledTaskStatus | (string & {});
  /** Synapse moves this at every status change: creation, start, end. */
  readonly timestampMs: number;
}

/** The homeserver's task queue, seen whole: what the one tracking loop asks at each tick. */
export interface HomeserverJobs {
  /** Every job the homeserver has scheduled (up to an hour ahead, see LIST_AHEAD_MS) or running, in one request. */
  inFlight(): Promise<Result<readonly HomeserverJob[], AdminError>>;
  /** The jobs of one action on one resource, whatever their status, in one request. */
  of(action: string, resourceId: string): Promise<Result<readonly HomeserverJob[], AdminError>>;
  /**
   * Whether inFlight() lists every job in flight, so a job missing from it has ended. Synapse
   * before 1.163 reads only the first of the statuses asked for and leaves out the jobs waiting
   * for a slot; a version not known counts as such a homeserver.
   */
  listsEveryStatus(): boolean;
}

const IN_FLIGHT: readonly ScheduledTaskStatus[] = ["active", "scheduled"];

/**
 * Synapse stamps a job at creation and again at each status change, so a job created by
 * Warden's request never carries a time before the request left. The slack only covers a
 * difference between Warden's clock and the homeserver's.
 */
export const CLOCK_SLACK_MS = 2_000;

/**
 * How far past Warden's own clock the in-flight list reaches. Synapse lists tasks scheduled for
 * the future too (a `purge_room` a week ahead for every room all local users forgot, with
 * `forgotten_room_retention_period`): thousands of them would be read at every tick for nothing.
 * Not Warden's "now": a job Warden has just created carries the homeserver's time, which may be
 * ahead of Warden's, and must stay in the list. Jobs within this hour that are not due yet are
 * told apart by isDue.
 */
export const LIST_AHEAD_MS = 3_600_000;

/**
 * Whether a job takes one of the homeserver's slots now: a running one, or one waiting whose time
 * has come (Synapse starts those as slots free up). A job scheduled for later waits for its time,
 * not for a slot. The slack covers a homeserver clock a little ahead of Warden's.
 */
export function isDue(job: HomeserverJob, now: number): boolean {
  return job.status !== "scheduled" || job.timestampMs <= now + CLOCK_SLACK_MS;
}

export function homeserverJobs(admin: Pick<SynapseAdminClient, "scheduledTasks">, clock: Clock, version?: HomeserverVersion): HomeserverJobs {
  const read = async (filter: Parameters<SynapseAdminClient["scheduledTasks"]>[0]) => {
    const listed = await admin.scheduledTasks(filter);
    if (!listed.ok) return listed;
    return ok(
      listed.value.scheduled_tasks.map(
        (task): HomeserverJob => ({
          id: task.id,
          action: task.action,
          resourceId: task.resource_id ?? undefined,
          status: task.status,
          timestampMs: task.timestamp_ms,
        }),
      ),
    );
  };
  return {
    inFlight: () => read({ statuses: IN_FLIGHT, maxTimestamp: clock.now() + LIST_AHEAD_MS }),
    of: (action, resourceId) => read({ actionName: action, resourceId }),
    listsEveryStatus: () => {
      const current = version?.current();
      return current !== undefined && parseSynapseVersion(current) !== undefined && supports(current, "taskListStatuses");
    },
  };
}
