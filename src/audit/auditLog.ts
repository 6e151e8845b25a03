import { z } from "zod";

/**
 * The audit log's vocabulary: what was asked, by whom, and how it ended. The log itself is the
 * `audit` table (src/store/audit.ts); this module holds only the shapes, so commands and
 * notifiers depend on them and not on the database.
 */
export const auditEntrySchema = z.object({
  at: z.number(),
  type: z.enum(["command", "refused-sender", "task-finished"]),
  actor: z.string(),
  command: z.string().optional(),
  eventId: z.string().optional(),
  outcome: z.string().optional(),
  taskId: z.string().optional(),
  target: z.string().optional(),
  detail: z.string().optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export interface AuditSink {
  /** Stores the entry before returning; throws when it could not be stored. */
  record(entry: AuditEntry): void;
}

export interface AuditQuery {
  /** Entries at or after this time (epoch milliseconds). */
  readonly since: number;
  /** Only this actor's entries. */
  readonly user?: string;
}

export interface AuditReader {
  /** Matching entries, oldest first. */
  query(query: AuditQuery): AuditEntry[];
}
