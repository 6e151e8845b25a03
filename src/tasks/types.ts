import { z } from "zod";

export const TASK_KINDS = ["purge", "shutdown", "redact"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/**
 * submitting: recorded, request to the homeserver not yet answered (a crash here is recovered
 *             by looking for the job on the homeserver, never by sending again);
 * scheduled/active: the homeserver's own words; complete/failed: its verdict;
 * unknown: the homeserver no longer knows the job (or never confirmed it); final.
 */
export const TASK_STATUSES = ["submitting", "scheduled", "active", "complete", "failed", "unknown"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(["complete", "failed", "unknown"]);

export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.has(status);
}

const parameterValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

export const taskRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(TASK_KINDS),
  /** The job's resource on the homeserver: a room ID (purge, shutdown) or the user ID (redact). */
  roomId: z.string(),
  /** How the moderator named the target (alias or ID), for messages. */
  roomLabel: z.string(),
  requester: z.string(),
  managementRoomId: z.string(),
  commandEventId: z.string(),
  progressEventId: z.string().optional(),
  homeserverTaskId: z.string().optional(),
  parameters: z.record(z.string(), parameterValue),
  status: z.enum(TASK_STATUSES),
  createdAt: z.number(),
  statusChangedAt: z.number(),
  finishedAt: z.number().optional(),
  /** Why the task ended as it did, in the homeserver's or Warden's words. */
  reason: z.string().optional(),
  /** The homeserver's result for a finished job (kicked users, new room, ...). */
  outcome: z.record(z.string(), parameterValue.nullable()).optional(),
  finalNotificationSent: z.boolean(),
  warnedStuckAt: z.number().optional(),
});

export type TaskRecord = z.infer<typeof taskRecordSchema>;
export type TaskParameters = TaskRecord["parameters"];
export type TaskOutcome = NonNullable<TaskRecord["outcome"]>;

export const taskFileSchema = z.object({ version: z.literal(1), tasks: z.array(taskRecordSchema) });
