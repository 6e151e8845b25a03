import type { Logger } from "pino";
import { AuditLog } from "./audit.js";
import { WardenDatabase } from "./database.js";
import { HandledEvents } from "./handledEvents.js";
import { importLegacyFiles } from "./legacyImport.js";
import { SyncStorage } from "./syncState.js";
import { TaskStore } from "./tasks.js";
import { WaveStore } from "./waves.js";

/** Everything Warden keeps, over one open database. */
export interface WardenState {
  readonly database: WardenDatabase;
  readonly tasks: TaskStore;
  readonly waves: WaveStore;
  readonly handled: HandledEvents;
  readonly sync: SyncStorage;
  readonly audit: AuditLog;
  /** Problems the management room should hear about at start-up (unreadable old files or rows). */
  readonly warnings: readonly string[];
}

/**
 * Opens `dataDirectory/warden.sqlite` (migrating it), imports the state files of an older
 * Warden once, and builds the repositories. Throws a StoreError when the database cannot be
 * opened or the import cannot be committed; in that case nothing was imported or renamed.
 */
export function openWardenState(dataDirectory: string, now: () => number, log: Logger): WardenState {
  const database = WardenDatabase.open(dataDirectory);
  try {
    log.info({ path: database.path, schemaVersion: database.schemaVersion(), openedAtVersion: database.openedAtVersion }, "database open");
    const imported = importLegacyFiles(database, dataDirectory, now);
    if (imported.imported) {
      log.info(
        { tasks: imported.tasks, handledEvents: imported.handledEvents, auditEntries: imported.auditEntries, skippedAuditLines: imported.skippedAuditLines },
        "imported the old state files; they were renamed *.imported",
      );
    }
    const tasks = new TaskStore(database, now);
    const warnings = [
      ...imported.damaged,
      ...(tasks.unreadable.length === 0 ? [] : [`${tasks.unreadable.length} task(s) in the database could not be read and are ignored: ${tasks.unreadable.join(", ")}`]),
    ];
    const waves = new WaveStore(database, now);
    if (waves.unreadable.length > 0) warnings.push(`${waves.unreadable.length} wave(s) or wave room(s) in the database could not be read and are ignored: ${waves.unreadable.join(", ")}`);
    return { database, tasks, waves, handled: new HandledEvents(database, now), sync: new SyncStorage(database), audit: new AuditLog(database), warnings };
  } catch (error) {
    database.close();
    throw error;
  }
}
