import type { ScheduledTaskStatus, SynapseAdminClient } from "../synapse/adminClient.js";
import type { AdminError } from "../synapse/errors.js";
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
  /** Every job the homeserver has scheduled or running, in one request. */
  inFlight(): Promise<Result<readonly HomeserverJob[], AdminError>>;
  /** The jobs of one action on one resource, whatever their status, in one request. */
  of(action: string, resourceId: string): Promise<Result<readonly HomeserverJob[], AdminError>>;
}

const IN_FLIGHT: readonly ScheduledTaskStatus[] = ["active", "scheduled"];

export function homeserverJobs(admin: Pick<SynapseAdminClient, "scheduledTasks">): HomeserverJobs {
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
    inFlight: () => read({ statuses: IN_FLIGHT }),
    of: (action, resourceId) => read({ actionName: action, resourceId }),
  };
}
