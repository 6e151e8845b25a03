import type { EventId, RoomId } from "../../matrix/ids.js";
import type { PurgePoint, SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok } from "../../util/result.js";
import type { TaskKindHandler } from "../tracker.js";
import type { TaskRecord } from "../types.js";

/** The name Synapse's task scheduler gives purges (see GET /_synapse/admin/v1/scheduled_tasks). */
export const PURGE_ACTION = "purge_history";

/** The purge point as the command stored it: the event when one was named, else the time. */
function storedPoint(task: TaskRecord): PurgePoint | undefined {
  const { eventId, cutoffTs } = task.parameters;
  if (typeof eventId === "string" && eventId !== "") return { eventId: eventId as EventId };
  if (typeof cutoffTs === "number") return { timestamp: cutoffTs };
  return undefined;
}

export function purgeHandler(admin: Pick<SynapseAdminClient, "purgeStatus" | "startPurge">): TaskKindHandler {
  return {
    action: PURGE_ACTION,
    async poll(task) {
      if (task.homeserverTaskId === undefined) return ok({ status: "unknown", reason: "no homeserver job id was recorded" });
      const status = await admin.purgeStatus(task.homeserverTaskId);
      if (!status.ok) return status;
      switch (status.value.status) {
        case "active":
          // Synapse reports a purge still queued behind others as "active" too; the task
          // queue (scheduled_tasks) is what tells the two apart.
          return ok({ status: "active" });
        case "complete":
          return ok({ status: "complete" });
        case "failed":
          return ok({ status: "failed", reason: status.value.error ?? "the homeserver gave no reason" });
      }
    },
    // A second purge to the same point removes nothing the first did not: harmless to send again.
    resubmit(task) {
      const point = storedPoint(task);
      if (point === undefined || typeof task.parameters["deleteLocalEvents"] !== "boolean") return undefined;
      return admin.startPurge(task.roomId as RoomId, point, task.parameters["deleteLocalEvents"]).then((started) => {
        if (started.ok) return ok(started.value.purge_id);
        // Synapse's 404 here means "nothing before the point", not "no such room".
        if (started.error.kind === "not-found" && /no event to be purged/i.test(started.error.detail ?? "")) {
          const cutoff = typeof task.parameters["cutoff"] === "string" ? task.parameters["cutoff"] : "the point";
          return err({ ...started.error, userMessage: `nothing to purge: no event of this room was received before ${cutoff}` });
        }
        return started;
      });
    },
  };
}
