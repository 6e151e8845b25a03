import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WardenDatabase } from "../../../src/store/database.js";

export const freshDirectory = (): string => mkdtempSync(join(tmpdir(), "warden-store-"));

/** From now on every write through this connection fails as on a read-only volume (SQLITE_READONLY). */
export function makeReadOnly(database: WardenDatabase): void {
  database.statement("PRAGMA query_only = ON").run();
}

/** From now on the database cannot grow by a page, as on a full disk (SQLITE_FULL). */
export function makeFull(database: WardenDatabase): void {
  const pages = database.statement("PRAGMA page_count").get()?.["page_count"];
  database.statement(`PRAGMA max_page_count = ${Number(pages)}`).get();
}

/** A task row of a kind no Warden knows ("teleport"), as a newer Warden or a hand edit could leave. */
export function insertUnreadableTask(database: WardenDatabase, id: string): void {
  database
    .statement(
      "INSERT INTO tasks (id, kind, room_id, room_label, requester, management_room_id, command_event_id, parameters, status, created_at, status_changed_at, final_notification_sent) " +
        "VALUES (?, 'teleport', '!r:x', '!r:x', '@m:x', '!m:x', '$c', '{}', 'scheduled', 1, 1, 0)",
    )
    .run(id);
}
