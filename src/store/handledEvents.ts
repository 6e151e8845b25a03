import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";

/** How many command event IDs are remembered; far more than a sync can redeliver. */
export const REMEMBERED_EVENTS = 5_000;

/**
 * Remembers which command events were taken, so a redelivered or replayed event is never
 * executed twice. An ID is committed before its command runs; if that fails, claim rejects
 * and the command must not run.
 */
export class HandledEvents {
  constructor(
    private readonly database: WardenDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves false when the event was seen before; true once it is recorded as taken now. */
  claim(eventId: string): Promise<boolean> {
    return settled(() =>
      this.database.transaction(`command event ${eventId} as handled`, () => {
        const inserted = this.database
          .statement("INSERT INTO handled_events (event_id, handled_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING")
          .run(eventId, this.now());
        if (inserted.changes === 0) return false;
        // Forget the oldest beyond the bound; seq is the primary key, so this is a range delete.
        this.database.statement("DELETE FROM handled_events WHERE seq <= ?").run(Number(inserted.lastInsertRowid) - REMEMBERED_EVENTS);
        return true;
      }),
    );
  }
}
