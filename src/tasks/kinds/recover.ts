import type { RoomId, UserId } from "../../matrix/ids.js";
import type { AdminError } from "../../synapse/errors.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok, type Result } from "../../util/result.js";

/** Clocks of Warden and Synapse may differ a little even on one machine's containers. */
const CLOCK_SLACK_MS = 60_000;

/**
 * Looks in the homeserver's task queue for a job of this action on this room created since
 * Warden recorded the request. Used after a crash between sending a request and storing the
 * homeserver's id: finding the job is always preferred over sending the request again.
 */
export async function findInterruptedJob(
  admin: Pick<SynapseAdminClient, "scheduledTasks">,
  action: string,
  resourceId: RoomId | UserId,
  requestedAt: number,
): Promise<Result<string | undefined, AdminError>> {
  const tasks = await admin.scheduledTasks({ actionName: action, resourceId });
  if (!tasks.ok) return tasks;
  const candidates = tasks.value.scheduled_tasks
    .filter((task) => task.action === action && task.resource_id === resourceId && task.timestamp_ms >= requestedAt - CLOCK_SLACK_MS)
    .sort((a, b) => a.timestamp_ms - b.timestamp_ms);
  // Prefer the first job created after the request; within the slack only the newest is plausible.
  const after = candidates.filter((task) => task.timestamp_ms >= requestedAt);
  return ok((after[0] ?? candidates.at(-1))?.id);
}
