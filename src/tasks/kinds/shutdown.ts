import type { RoomId, UserId } from "../../matrix/ids.js";
import type { AdminError, DeleteRoomOptions, SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok, type Result } from "../../util/result.js";
import type { TaskKindHandler } from "../tracker.js";
import type { TaskOutcome, TaskRecord } from "../types.js";

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

/** The delete as the command stored it; undefined for a record without those parameters. */
function storedOptions(task: TaskRecord): DeleteRoomOptions | undefined {
  const { block, purge, forcePurge, notifyAs, newRoomName, message } = task.parameters;
  if (typeof block !== "boolean" || typeof purge !== "boolean" || typeof forcePurge !== "boolean") return undefined;
  return {
    block,
    purge,
    forcePurge,
    ...(typeof notifyAs === "string" ? { newRoomUserId: notifyAs as UserId } : {}),
    ...(typeof newRoomName === "string" ? { roomName: newRoomName } : {}),
    ...(typeof message === "string" ? { message } : {}),
  };
}

/** Synapse refuses a delete while another one of the room is active ("Purge already in progress"). */
function alreadyRunning(error: AdminError): boolean {
  return error.kind === "bad-request" && /already in progress/i.test(error.detail ?? "");
}

export function shutdownHandler(
  admin: Pick<SynapseAdminClient, "deleteStatus" | "blockStatus" | "scheduledTasks" | "startDelete" | "deleteStatusesForRoom">,
): TaskKindHandler {
  /** The delete of this room the homeserver is running now, which a refused resend should follow. */
  async function runningDelete(roomId: RoomId, refusal: AdminError): Promise<Result<string, AdminError>> {
    const statuses = await admin.deleteStatusesForRoom(roomId);
    if (!statuses.ok) return statuses;
    const running = statuses.value.results.filter((entry) => !["complete", "failed", "cancelled"].includes(entry.status));
    const [only, ...others] = running;
    if (only?.delete_id === undefined || others.length > 0) return { ok: false, error: refusal };
    return ok(only.delete_id);
  }

  return {
    action: SHUTDOWN_ACTION,
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
    // Deleting a room twice asks for the same end state; Synapse refuses the second while the
    // first runs, and then that first delete is the one to follow.
    resubmit(task) {
      const options = storedOptions(task);
      if (options === undefined) return undefined;
      const roomId = task.roomId as RoomId;
      return admin.startDelete(roomId, options).then((started) => {
        if (started.ok) return ok(started.value.delete_id);
        return alreadyRunning(started.error) ? runningDelete(roomId, started.error) : started;
      });
    },
  };
}
