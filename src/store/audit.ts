import { auditEntrySchema, type AuditEntry, type AuditQuery, type AuditSink } from "../audit/auditLog.js";
import type { WardenDatabase } from "./database.js";
import type { SQLInputValue } from "./sqlite.js";

const INSERT =
  "INSERT INTO audit (at, type, actor, command, event_id, outcome, task_id, target, detail) " +
  "VALUES (:at, :type, :actor, :command, :event_id, :outcome, :task_id, :target, :detail)";

/**
 * Every command Warden answered and every job that ended, in the `audit` table. Never pruned,
 * so !audit can answer for any period; the indexes on time and on actor keep that a lookup.
 */
export class AuditLog implements AuditSink {
  constructor(private readonly database: WardenDatabase) {}

  /** Throws a StoreError when the entry could not be stored. */
  record(entry: AuditEntry): void {
    this.database.run("the audit entry", () => {
      insertAuditRow(this.database, entry);
    });
  }

  /** Entries at or after `since`, of one actor if given, oldest first. */
  query(query: AuditQuery): AuditEntry[] {
    const rows =
      query.user === undefined
        ? this.database.statement("SELECT * FROM audit WHERE at >= ? ORDER BY at, id").all(query.since)
        : this.database.statement("SELECT * FROM audit WHERE actor = ? AND at >= ? ORDER BY at, id").all(query.user, query.since);
    return rows.flatMap((row) => {
      const parsed = auditEntrySchema.safeParse(Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null).map(([key, value]) => [camel(key), value])));
      return parsed.success ? [parsed.data] : [];
    });
  }
}

/** Inserts one entry; also used by the import of audit.jsonl. */
export function insertAuditRow(database: WardenDatabase, entry: AuditEntry): void {
  database.statement(INSERT).run(entryToRow(entry));
}

function entryToRow(entry: AuditEntry): Record<string, SQLInputValue> {
  return {
    at: entry.at,
    type: entry.type,
    actor: entry.actor,
    command: entry.command ?? null,
    event_id: entry.eventId ?? null,
    outcome: entry.outcome ?? null,
    task_id: entry.taskId ?? null,
    target: entry.target ?? null,
    detail: entry.detail ?? null,
  };
}

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}
