import type { RoomId } from "../../matrix/ids.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok } from "../../util/result.js";
import type { TaskKindHandler } from "../tracker.js";
import { findInterruptedJob } from "./recover.js";

/** The name Synapse's task scheduler gives purges (see GET /_synapse/admin/v1/scheduled_tasks). */
export const PURGE_ACTION = "purge_history";

export function purgeHandler(admin: Pick<SynapseAdminClient, "purgeStatus" | "scheduledTasks">): TaskKindHandler {
  return {
    async poll(task) {
      if (task.homeserverTaskId === undefined) return ok({ status: "unknown", reason: "no homeserver job id was recorded" });
      const status = await admin.purgeStatus(task.homeserverTaskId);
      if (!status.ok) return status;
      switch (status.value.status) {
        case "active":
          // Synapse reports a purge still queued behind others as "active" too.
          return ok({ status: "active" });
        case "complete":
          return ok({ status: "complete" });
        case "failed":
          return ok({ status: "failed", reason: status.value.error ?? "the homeserver gave no reason" });
      }
    },
    recover: (task) => findInterruptedJob(admin, PURGE_ACTION, task.roomId as RoomId, task.createdAt),
  };
}
