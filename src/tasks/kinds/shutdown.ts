import type { RoomId } from "../../matrix/ids.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok } from "../../util/result.js";
import type { TaskKindHandler } from "../tracker.js";
import type { TaskOutcome } from "../types.js";
import { findInterruptedJob } from "./recover.js";

export const SHUTDOWN_ACTION = "shutdown_and_purge_room";

const NO_REASON =
  "the homeserver reports that the delete failed but gives no reason (Synapse keeps the error in its own task table and log)";

/** delete_status leaves the error out, but the scheduler's task list carries it. */
async function errorFromTaskQueue(
  admin: Pick<SynapseAdminClient, "scheduledTasks">,
  roomId: RoomId,
  deleteId: string,
): Promise<string | undefined> {
  const tasks = await admin.scheduledTasks({ actionName: SHUTDOWN_ACTION, resourceId: roomId });
  if (!tasks.ok) return undefined;
  const error = tasks.value.scheduled_tasks.find((task) => task.id === deleteId)?.error;
  return error === null || error === undefined || error === "" ? undefined : `the homeserver says: ${error}`;
}

export function shutdownHandler(
  admin: Pick<SynapseAdminClient, "deleteStatus" | "blockStatus" | "scheduledTasks">,
): TaskKindHandler {
  return {
    async poll(task) {
      if (task.homeserverTaskId === undefined) return ok({ status: "unknown", reason: "no homeserver job id was recorded" });
      // By delete_id: the by-room query leaves out deletes that are still scheduled.
      const status = await admin.deleteStatus(task.homeserverTaskId);
      if (!status.ok) return status;
      const result = status.value.shutdown_room;
      const outcome: TaskOutcome = {
        kickedUsers: result?.kicked_users ?? [],
        failedToKickUsers: result?.failed_to_kick_users ?? [],
        localAliases: result?.local_aliases ?? [],
        newRoomId: result?.new_room_id ?? null,
      };
      switch (status.value.status) {
        case "scheduled":
          return ok({ status: "scheduled" });
        case "active":
        case "purging":
        case "shutting_down":
          return ok({ status: "active" });
        case "complete":
        case "failed":
        case "cancelled": {
          // Whether the room ended blocked is part of the answer a moderator needs.
          const block = await admin.blockStatus(task.roomId as RoomId);
          const withBlock: TaskOutcome = { ...outcome, blocked: block.ok ? block.value.block : null };
          if (status.value.status === "complete") return ok({ status: "complete", outcome: withBlock });
          const reason =
            status.value.status === "cancelled"
              ? "the delete was cancelled on the homeserver"
              : (status.value.error ?? (await errorFromTaskQueue(admin, task.roomId as RoomId, task.homeserverTaskId)) ?? NO_REASON);
          return ok({ status: "failed", reason, outcome: withBlock });
        }
      }
    },
    recover: (task) => findInterruptedJob(admin, SHUTDOWN_ACTION, task.roomId as RoomId, task.createdAt),
  };
}
