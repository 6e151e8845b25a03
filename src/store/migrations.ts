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
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
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
  {
    version: 2,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "handled command events: received, then answered",
    up(db) {
      // A command is written down as received before anything is done about it, with the event
      // itself so that a restart can handle it again, and marked answered once its answer is in
      // the room. Rows from version 1 were claimed under the old rule (claim, then run): they
      // count as answered, as they did then.
      db.exec(`
        ALTER TABLE handled_events ADD COLUMN state TEXT NOT NULL DEFAULT 'answered' CHECK (state IN ('received', 'answered'));
        -- The event as received (JSON); cleared once answered.
        ALTER TABLE handled_events ADD COLUMN event TEXT;
        ALTER TABLE handled_events ADD COLUMN answered_at INTEGER;
        -- A start looks for the few commands received and never answered.
        CREATE INDEX handled_events_unanswered ON handled_events (seq) WHERE state = 'received';
      `);
    },
  },
  {
    version: 3,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "event reports Warden has taken, their digests, and the poller's cursor",
    up(db) {
      db.exec(`
        -- One row per report taken from the homeserver: the rows are also the set of reports
        -- already shown, so each is posted once whatever the pages of the admin API do.
        CREATE TABLE reports (
          id INTEGER PRIMARY KEY,
          received_ts INTEGER NOT NULL,
          room_id TEXT NOT NULL,
          room_name TEXT,
          canonical_alias TEXT,
          event_id TEXT NOT NULL,
          reporter TEXT NOT NULL,
          sender TEXT,
          reason TEXT,
          score INTEGER,
          state TEXT NOT NULL,
          card_event_id TEXT,
          digest_key TEXT,
          changed_at INTEGER NOT NULL,
          changed_by TEXT,
          resolution TEXT,
          deleted_on_homeserver INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX reports_room ON reports (room_id, received_ts);
        CREATE INDEX reports_sender ON reports (sender, received_ts);
        CREATE INDEX reports_card ON reports (card_event_id);

        CREATE TABLE report_digests (
          key TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          subject TEXT NOT NULL,
          report_ids TEXT NOT NULL,
          last_ts INTEGER NOT NULL,
          card_event_id TEXT
        ) STRICT;

        -- A single row: how far the poller has read.
        CREATE TABLE report_cursor (
          only INTEGER PRIMARY KEY CHECK (only = 1),
          high_water INTEGER NOT NULL,
          floor INTEGER NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 4,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "waves (many rooms in one command) with their room queue, and retention policies' state",
    up(db) {
      db.exec(`
        CREATE TABLE waves (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          requester TEXT NOT NULL,
          management_room_id TEXT NOT NULL,
          command_event_id TEXT NOT NULL,
          selection TEXT NOT NULL,
          parameters TEXT NOT NULL,
          policy TEXT,
          left_out TEXT NOT NULL,
          status TEXT NOT NULL,
          board_event_id TEXT,
          created_at INTEGER NOT NULL,
          finished_at INTEGER,
          cancelled_by TEXT,
          final_notification_sent INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX waves_created_at ON waves (created_at);

        -- The queue: one row per room and phase. seq keeps the order rooms were selected in.
        CREATE TABLE wave_rooms (
          wave_id TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
          phase TEXT NOT NULL,
          room_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          label TEXT NOT NULL,
          name TEXT,
          joined_members INTEGER,
          joined_local_members INTEGER,
          state TEXT NOT NULL,
          task_id TEXT,
          attempts INTEGER NOT NULL,
          not_before INTEGER,
          reason TEXT,
          finished_at INTEGER,
          duration_ms INTEGER,
          PRIMARY KEY (wave_id, phase, room_id)
        ) STRICT;
        CREATE INDEX wave_rooms_task ON wave_rooms (task_id);

        -- One row per retention policy that has run or been paused; policies themselves live in the config.
        CREATE TABLE retention_state (
          policy TEXT PRIMARY KEY,
          paused INTEGER NOT NULL DEFAULT 0,
          next_run_at INTEGER,
          last_wave_id TEXT,
          last_started_at INTEGER
        ) STRICT;
      `);
    },
  },
  {
    version: 5,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "waves: each send of a room has its own id, a wave may report through its tasks' messages, the end of a main phase is announced once",
    up(db) {
      db.exec(`
        -- The send a room is in: written when it is claimed and carried by the task it starts,
        -- so a restart follows exactly that task (an earlier failed try of the same attempt number
        -- keeps its own record).
        ALTER TABLE wave_rooms ADD COLUMN send_id TEXT;
        -- 0: the wave has no board; its tasks' own progress and final messages speak for it (a
        -- single-room !shutdown with a purge phase).
        ALTER TABLE waves ADD COLUMN board INTEGER NOT NULL DEFAULT 1;
        -- 1 once the requester was told that the main phase ended (a wave with a purge phase).
        ALTER TABLE waves ADD COLUMN main_phase_notified INTEGER NOT NULL DEFAULT 0;
      `);
    },
  },
  {
    version: 6,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "event reports known by more than their id, a cursor by received time with the unread gap, unreadable entries",
    up(db) {
      // Synapse hands out a deleted newest report id again after a restart, so a report is known
      // by its homeserver id, event, reporter and received time; `id` becomes Warden's own number
      // (the homeserver id while that is free). Rows so far keep their number.
      // The cursor moves from ids to received times (the list's own order) and remembers the part
      // of the list a poll's page budget left unread. An old cursor becomes the newest received
      // time taken; one with no report taken (every report was older than a day at the first
      // start) is dropped, so the next start is a first start again: it posts the day's reports,
      // none of which Warden had posted, and counts the older ones.
      db.exec(`
        ALTER TABLE reports ADD COLUMN homeserver_id INTEGER NOT NULL DEFAULT 0;
        UPDATE reports SET homeserver_id = id;
        CREATE UNIQUE INDEX reports_identity ON reports (homeserver_id, event_id, reporter, received_ts);

        -- gap: the stretch of the list a poll's page budget left unread (JSON), or NULL.
        CREATE TABLE report_cursor_next (
          only INTEGER PRIMARY KEY CHECK (only = 1),
          newest_ts INTEGER NOT NULL,
          gap TEXT
        ) STRICT;
        INSERT INTO report_cursor_next (only, newest_ts)
          SELECT 1, MAX(received_ts) FROM reports WHERE EXISTS (SELECT 1 FROM report_cursor) HAVING COUNT(*) > 0;
        DROP TABLE report_cursor;
        ALTER TABLE report_cursor_next RENAME TO report_cursor;

        -- Listed entries Warden could not read, each named once in the room (rowid: the order seen).
        CREATE TABLE report_unreadable (
          key TEXT PRIMARY KEY,
          homeserver_id INTEGER,
          problem TEXT NOT NULL,
          named_event_id TEXT
        ) STRICT;
      `);
    },
  },
  {
    version: 7,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "waves: the outcomes of the steps before a room's job (a shutdown's media quarantine)",
    up(db) {
      db.exec(`
        -- JSON, by step: {"media": {"ok": true, "count": 4, "at": ...}} or {"ok": false, "reason": ...};
        -- written before the room's job is sent, so a restart knows how far the room got.
        ALTER TABLE wave_rooms ADD COLUMN steps TEXT;
      `);
    },
  },
  {
    version: 8,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "takedowns: each user's plan of steps, written whole at every step",
    up(db) {
      db.exec(`
        -- A takedown holds at most a few hundred steps, so its plan is one JSON document, written
        -- whole (one statement, so never half-written) before and after each step.
        CREATE TABLE takedowns (
          id TEXT PRIMARY KEY,
          command_event_id TEXT NOT NULL,
          status TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          record TEXT NOT NULL
        ) STRICT;
        CREATE INDEX takedowns_by_command ON takedowns (command_event_id);
      `);
    },
  },
  {
    version: 9,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "reports about users beside event reports: a kind per report, numbers and cursors per kind, one-time notices",
    up(db) {
      // Synapse ≥ 1.152 keeps reports about users, with ids of their own: a report is now an
      // event report or a user report, and Warden's numbers count per kind (event report 12 and
      // user report u12 are two reports), so the key becomes (kind, id). A user report names the
      // reported user (target) and has no room or event. Rows so far are event reports, with
      // their numbers. Self-contained: it reads only what migrations 3 and 6 made.
      db.exec(`
        CREATE TABLE reports_next (
          kind TEXT NOT NULL CHECK (kind IN ('event', 'user')),
          id INTEGER NOT NULL,
          homeserver_id INTEGER NOT NULL,
          received_ts INTEGER NOT NULL,
          room_id TEXT,
          room_name TEXT,
          canonical_alias TEXT,
          event_id TEXT,
          target TEXT,
          reporter TEXT NOT NULL,
          sender TEXT,
          reason TEXT,
          score INTEGER,
          state TEXT NOT NULL,
          card_event_id TEXT,
          digest_key TEXT,
          changed_at INTEGER NOT NULL,
          changed_by TEXT,
          resolution TEXT,
          deleted_on_homeserver INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (kind, id),
          CHECK (kind = 'user' OR (room_id IS NOT NULL AND event_id IS NOT NULL)),
          CHECK (kind = 'event' OR target IS NOT NULL)
        ) STRICT;
        INSERT INTO reports_next (kind, id, homeserver_id, received_ts, room_id, room_name, canonical_alias, event_id, reporter, sender, reason, score, state, card_event_id, digest_key, changed_at, changed_by, resolution, deleted_on_homeserver)
          SELECT 'event', id, homeserver_id, received_ts, room_id, room_name, canonical_alias, event_id, reporter, sender, reason, score, state, card_event_id, digest_key, changed_at, changed_by, resolution, deleted_on_homeserver FROM reports;
        DROP TABLE reports;
        ALTER TABLE reports_next RENAME TO reports;
        CREATE INDEX reports_room ON reports (room_id, received_ts);
        CREATE INDEX reports_sender ON reports (sender, received_ts);
        CREATE INDEX reports_target ON reports (target, received_ts);
        CREATE INDEX reports_card ON reports (card_event_id);
        CREATE INDEX reports_received ON reports (received_ts);
        CREATE UNIQUE INDEX reports_identity ON reports (homeserver_id, event_id, reporter, received_ts) WHERE kind = 'event';
        CREATE UNIQUE INDEX reports_user_identity ON reports (homeserver_id, target, reporter, received_ts) WHERE kind = 'user';

        -- One cursor per list: the event reports' moves over as it was.
        CREATE TABLE report_cursor_next (
          kind TEXT PRIMARY KEY CHECK (kind IN ('event', 'user')),
          newest_ts INTEGER NOT NULL,
          gap TEXT
        ) STRICT;
        INSERT INTO report_cursor_next (kind, newest_ts, gap) SELECT 'event', newest_ts, gap FROM report_cursor;
        DROP TABLE report_cursor;
        ALTER TABLE report_cursor_next RENAME TO report_cursor;

        ALTER TABLE report_unreadable ADD COLUMN kind TEXT NOT NULL DEFAULT 'event';

        -- Notices the room gets once, whatever the restarts (such as "reports about users need
        -- Synapse 1.152 or later"): a row while the notice stands.
        CREATE TABLE report_notices (
          key TEXT PRIMARY KEY,
          posted_at INTEGER NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 10,
    // Stryker disable next-line StringLiteral: equivalent — nothing reads a migration's description
    description: "indexes for the tasks Warden no longer keeps in memory once done with",
    up(db) {
      // Memory keeps only the tasks not done with; what was found by scanning every task in
      // memory is now read by an index: whether a command started a task, which task follows a
      // homeserver's job, and the tasks that ran on their own (not as a wave's room or a
      // takedown's user) for !status. The last is partial, over the few such tasks: its WHERE is
      // the text TaskStore queries with (ON_THEIR_OWN), so SQLite uses it.
      db.exec(`
        CREATE INDEX tasks_by_command ON tasks (command_event_id);
        CREATE INDEX tasks_by_homeserver_task ON tasks (homeserver_task_id) WHERE homeserver_task_id IS NOT NULL;
        CREATE INDEX tasks_on_their_own ON tasks (created_at)
          WHERE CASE WHEN json_valid(parameters) THEN json_type(parameters, '$.waveId') IS NOT 'text' AND json_type(parameters, '$.takedownId') IS NOT 'text' ELSE 1 END;
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
      { verb: "open" },
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
