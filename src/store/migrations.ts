import { StoreError } from "./errors.js";
import type { DatabaseSync } from "./sqlite.js";

/**
 * One step of the schema. `version` is the schema version after it ran; migrations run in
 * order, each in its own transaction together with the new `PRAGMA user_version`, so a crash
 * leaves the database at the previous version or the next, never between.
 *
 * To change the schema, append an entry with the next version number; never edit one that has
 * shipped (databases in the field already ran it). The unit tests upgrade a database from every
 * earlier version and compare the result with a fresh one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: DatabaseSync) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tasks, handled command events, sync state, audit log",
    up(db) {
      db.exec(`
        CREATE TABLE tasks (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          room_id TEXT NOT NULL,
          room_label TEXT NOT NULL,
          requester TEXT NOT NULL,
          management_room_id TEXT NOT NULL,
          command_event_id TEXT NOT NULL,
          progress_event_id TEXT,
          homeserver_task_id TEXT,
          parameters TEXT NOT NULL,
          status TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          status_changed_at INTEGER NOT NULL,
          finished_at INTEGER,
          reason TEXT,
          outcome TEXT,
          final_notification_sent INTEGER NOT NULL,
          warned_stuck_at INTEGER
        ) STRICT;
        -- Pruning looks for old finished tasks.
        CREATE INDEX tasks_finished_at ON tasks (finished_at);

        -- seq keeps arrival order, so the oldest ids are the ones forgotten.
        CREATE TABLE handled_events (
          seq INTEGER PRIMARY KEY,
          event_id TEXT NOT NULL UNIQUE,
          handled_at INTEGER NOT NULL
        ) STRICT;

        -- matrix-bot-sdk's storage: the sync token, its filter, and its small named values.
        CREATE TABLE sync_state (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;

        -- Never pruned: !audit answers for any period.
        CREATE TABLE audit (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          type TEXT NOT NULL,
          actor TEXT NOT NULL,
          command TEXT,
          event_id TEXT,
          outcome TEXT,
          task_id TEXT,
          target TEXT,
          detail TEXT
        ) STRICT;
        CREATE INDEX audit_at ON audit (at);
        CREATE INDEX audit_actor_at ON audit (actor, at);

        -- Facts about the database itself, such as when old JSON files were imported.
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

/** Brings the database to the last migration's version; returns the versions before and after. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  checkOrder(migrations);
  const from = readUserVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (from > latest) {
    throw new StoreError(
      "the database",
      `it was written by a newer Warden (schema version ${from}; this one knows up to ${latest}). Run that version, or restore a backup`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      migration.up(db);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return { from, to: Math.max(from, latest) };
}

/** Versions must be 1, 2, 3, ...: a gap or a duplicate is a mistake in this file. */
export function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration ${index} has version ${migration.version}; versions must count up from 1 without gaps`);
    }
  });
}

export function readUserVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get();
  const version = row?.["user_version"];
  return typeof version === "number" ? version : 0;
}
