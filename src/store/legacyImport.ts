import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { auditEntrySchema, type AuditEntry } from "../audit/auditLog.js";
import { taskFileSchema } from "../tasks/types.js";
import { insertAuditRow } from "./audit.js";
import type { WardenDatabase } from "./database.js";
import { insertTaskRow } from "./tasks.js";

/** The state files of Warden before the database, in the order they are imported. */
export const LEGACY_FILES = {
  tasks: "tasks.json",
  handledEvents: "handled-events.json",
  sync: "sync.json",
  audit: "audit.jsonl",
} as const;

const handledEventsFile = z.object({ eventIds: z.array(z.string()) });
const syncStateFile = z.object({
  syncToken: z.string().nullable(),
  filter: z.object({ id: z.union([z.string(), z.number()]), filter: z.unknown() }).nullable(),
  values: z.record(z.string(), z.string()),
});

const IMPORTED_KEY = "legacy_import";

export interface ImportReport {
  /** Whether anything was imported by this call. */
  readonly imported: boolean;
  readonly tasks: number;
  readonly handledEvents: number;
  readonly auditEntries: number;
  /** audit.jsonl lines that could not be read (a line cut by a crash), skipped. */
  readonly skippedAuditLines: number;
  /** Files found unreadable: kept aside as `*.damaged-<time>` and not imported, for the room to hear about. */
  readonly damaged: readonly string[];
}

/**
 * The first start on a data directory from before the database reads tasks.json,
 * handled-events.json, sync.json and audit.jsonl into the database in one transaction, then
 * renames them `*.imported`. A marker committed with the import means a crash between the commit
 * and the renames never imports twice: the next start only renames.
 */
export function importLegacyFiles(database: WardenDatabase, dataDirectory: string, now: () => number): ImportReport {
  const path = (name: string): string => join(dataDirectory, name);
  const present: string[] = Object.values(LEGACY_FILES).filter((name) => existsSync(path(name)));
  const nothing: ImportReport = { imported: false, tasks: 0, handledEvents: 0, auditEntries: 0, skippedAuditLines: 0, damaged: [] };
  if (present.length === 0) return nothing;
  if (alreadyImported(database)) {
    renameAside(dataDirectory, present);
    return nothing;
  }

  const damaged: string[] = [];
  const stamp = new Date(now()).toISOString().replace(/[:.]/g, "-");
  const readJson = <T>(name: string, schema: z.ZodType<T>): T | undefined => {
    if (!present.includes(name)) return undefined;
    try {
      const checked = schema.safeParse(JSON.parse(readFileSync(path(name), "utf8")));
      if (checked.success) return checked.data;
    } catch {
      // Fall through: not JSON at all.
    }
    const keptAt = `${name}.damaged-${stamp}`;
    renameSync(path(name), path(keptAt));
    damaged.push(`${name} could not be read; it was kept as ${keptAt} and not imported`);
    return undefined;
  };
  const tasks = readJson(LEGACY_FILES.tasks, taskFileSchema)?.tasks ?? [];
  const handled = readJson(LEGACY_FILES.handledEvents, handledEventsFile)?.eventIds ?? [];
  const sync = readJson(LEGACY_FILES.sync, syncStateFile);
  const audit = present.includes(LEGACY_FILES.audit) ? readAuditLines(readFileSync(path(LEGACY_FILES.audit), "utf8")) : { entries: [], skipped: 0 };

  database.transaction("the import of the old state files", () => {
    for (const task of tasks) insertTaskRow(database, task);
    const handledAt = now();
    // In file order, so the oldest are the first forgotten, as before.
    for (const eventId of handled) {
      database.statement("INSERT INTO handled_events (event_id, handled_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING").run(eventId, handledAt);
    }
    if (sync !== undefined) {
      const put = database.statement("INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      if (sync.syncToken !== null) put.run("sync_token", sync.syncToken);
      if (sync.filter !== null) put.run("filter", JSON.stringify(sync.filter));
      for (const [key, value] of Object.entries(sync.values)) put.run(`value:${key}`, value);
    }
    for (const entry of audit.entries) insertAuditRow(database, entry);
    database.statement("INSERT INTO meta (key, value) VALUES (?, ?)").run(IMPORTED_KEY, new Date(now()).toISOString());
  });
  renameAside(
    dataDirectory,
    present.filter((name) => existsSync(path(name))),
  );
  return { imported: true, tasks: tasks.length, handledEvents: handled.length, auditEntries: audit.entries.length, skippedAuditLines: audit.skipped, damaged };
}

function alreadyImported(database: WardenDatabase): boolean {
  return database.statement("SELECT 1 FROM meta WHERE key = ?").get(IMPORTED_KEY) !== undefined;
}

function renameAside(dataDirectory: string, names: readonly string[]): void {
  for (const name of names) renameSync(join(dataDirectory, name), join(dataDirectory, `${name}.imported`));
}

/** One JSON object per line; a line a crash cut short (or any unreadable line) is skipped and counted. */
function readAuditLines(text: string): { entries: AuditEntry[]; skipped: number } {
  const entries: AuditEntry[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = auditEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}
