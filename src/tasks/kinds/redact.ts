import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok } from "../../util/result.js";
import type { TaskKindHandler } from "../tracker.js";

export const REDACT_ACTION = "redact_all_events";

/**
 * A redact task's `roomId` field holds the user whose events are redacted (the job's resource).
 * No `resubmit`: a second redaction of the same user is not the same request (it would cover
 * the rooms and messages as they are by then), so a lost one is reported, never sent again.
 */
export function redactHandler(admin: Pick<SynapseAdminClient, "redactStatus">): TaskKindHandler {
  return {
    action: REDACT_ACTION,
    async poll(task) {
      if (task.homeserverTaskId === undefined) return ok({ status: "unknown", reason: "no homeserver job id was recorded" });
      const status = await admin.redactStatus(task.homeserverTaskId);
      if (!status.ok) return status;
      const failed = Object.entries(status.value.failed_redactions ?? {}).map(([eventId, reason]) => `${eventId}: ${reason}`);
      switch (status.value.status) {
        case "scheduled":
          return ok({ status: "scheduled" });
        case "active":
          return ok({ status: "active" });
        case "complete":
        case "completed":
          return ok({ status: "complete", outcome: { failedRedactions: failed } });
        case "failed":
          return ok({ status: "failed", reason: status.value.error ?? "the homeserver gave no reason", outcome: { failedRedactions: failed } });
      }
    },
  };
}
