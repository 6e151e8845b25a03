import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import type { AdminError } from "../../synapse/errors.js";
import { ok, type Result } from "../../util/result.js";
import type { Observation } from "../tracker.js";
import type { TaskKindHandler } from "../tracker.js";

export const REDACT_ACTION = "redact_all_events";

/**
 * A redact task's `roomId` field holds the user whose events are redacted (the job's resource).
 * No `resubmit`: a second redaction of the same user is not the same request (it would cover
 * the rooms and messages as they are by then), so a lost one is reported, never sent again.
 */
export function redactHandler(admin: Pick<SynapseAdminClient, "redactStatus" | "scheduledTasks">): TaskKindHandler {
  return {
    action: REDACT_ACTION,
    async poll(task) {
      if (task.homeserverTaskId === undefined) return ok({ status: "unknown", reason: "no homeserver job id was recorded" });
      const status = await admin.redactStatus(task.homeserverTaskId);
      if (!status.ok && status.error.kind === "not-found") return fromTaskList(admin, task.roomId, task.homeserverTaskId, status.error);
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

/**
 * The redact status endpoint answers 404 for a job it no longer has (Synapse's docs say it keeps
 * a job a day, or until it restarts; 1.163 reads the task table, which keeps ended tasks 7 days):
 * the task list is read instead, filtered to this user's redactions, and the job found there by
 * its id. Not found there either: the original 404 stands, and the tracker reports it as unknown.
 */
async function fromTaskList(admin: Pick<SynapseAdminClient, "scheduledTasks">, userId: string, redactId: string, notFound: AdminError): Promise<Result<Observation, AdminError>> {
  const listed = await admin.scheduledTasks({ actionName: REDACT_ACTION, resourceId: userId });
  if (!listed.ok) return { ok: false, error: notFound };
  const job = listed.value.scheduled_tasks.find((entry) => entry.id === redactId);
  if (job === undefined) return { ok: false, error: notFound };
  const failed = failedRedactions(job.result);
  switch (job.status) {
    case "scheduled":
      return ok({ status: "scheduled" });
    case "active":
      return ok({ status: "active" });
    case "complete":
      return ok({ status: "complete", outcome: { failedRedactions: failed } });
    default:
      return ok({ status: "failed", reason: job.error ?? `the homeserver's task list says ${job.status}`, outcome: { failedRedactions: failed } });
  }
}

/** A redaction's result in the task list: `{ failed_redactions: { event_id: reason } }`, read defensively. */
function failedRedactions(result: unknown): string[] {
  if (typeof result !== "object" || result === null) return [];
  const failed = (result as { failed_redactions?: unknown }).failed_redactions;
  if (typeof failed !== "object" || failed === null) return [];
  return Object.entries(failed).map(([eventId, reason]) => `${eventId}: ${String(reason)}`);
}
