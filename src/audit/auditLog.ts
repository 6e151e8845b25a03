import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";

/** One line of dataDirectory/audit.jsonl: what was asked, by whom, and how it ended. */
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
  record(entry: AuditEntry): void;
}

/**
 * An append-only log of every command Warden answered and every job that ended. Unlike the
 * task store it is never pruned, so !audit can answer for any period. One JSON object per
 * line, appended with a single write: a crash can cut only the last line, which reading skips.
 */
export class AuditLog implements AuditSink {
  private readonly path: string;

  constructor(dataDirectory: string) {
    this.path = join(dataDirectory, "audit.jsonl");
    mkdirSync(dirname(this.path), { recursive: true });
  }

  record(entry: AuditEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** Every readable entry, oldest first; damaged lines are skipped, not fatal. */
  entries(): AuditEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const parsed = auditEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) entries.push(parsed.data);
      } catch {
        // A line cut by a crash: skip it.
      }
    }
    return entries;
  }
}
