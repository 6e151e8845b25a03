import type { CommandJournal, ReceivedEvent } from "../model/commandJournal.js";
import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";

/** How many command event IDs are remembered; far more than a sync can redeliver. */
export const REMEMBERED_EVENTS = 5_000;

/**
 * Remembers which command events were taken, so a redelivered or replayed event is never
 * executed twice, and which of them still wait for their answer, so that the next start answers
 * them (CommandDispatcher.recover). A command is committed as received before it runs; if that
 * fails, receive rejects and the command must not run.
 */
export class HandledEvents implements CommandJournal {
  constructor(
    private readonly database: WardenDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** A one-step event (a ✅ reaction): resolves false when seen before; true once recorded as taken and done. */
  claim(eventId: string): Promise<boolean> {
    return settled(() => this.insert(`command event ${eventId} as handled`, eventId, "answered", null));
  }

  /** Resolves false when the event was seen before; true once it is recorded as received and not yet answered. */
  receive(event: ReceivedEvent): Promise<boolean> {
    const { eventId, roomId, sender, type, content, originServerTs } = event;
    const json = JSON.stringify({ eventId, roomId, sender, type, content, originServerTs });
    return settled(() => this.insert(`command event ${eventId} as received`, eventId, "received", json));
  }

  answered(eventId: string): Promise<void> {
    return settled(() => {
      this.database.run(`command event ${eventId} as answered`, () =>
        this.database
          .statement("UPDATE handled_events SET state = 'answered', answered_at = ?, event = NULL WHERE event_id = ? AND state = 'received'")
          .run(this.now(), eventId),
      );
    });
  }

  /** Commands received and never answered, oldest first. A row that cannot be read is left out (and stays). */
  unanswered(): Promise<readonly ReceivedEvent[]> {
    return settled(() =>
      this.database
        .statement("SELECT event FROM handled_events WHERE state = 'received' ORDER BY seq")
        .all()
        .flatMap((row) => {
          const event = readEvent(row["event"]);
          return event === undefined ? [] : [event];
        }),
    );
  }

  private insert(what: string, eventId: string, state: "received" | "answered", event: string | null): boolean {
    return this.database.transaction(what, () => {
      const inserted = this.database
        .statement("INSERT INTO handled_events (event_id, handled_at, state, event) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING")
        .run(eventId, this.now(), state, event);
      if (inserted.changes === 0) return false;
      // Forget the oldest answered ones beyond the bound (seq is the primary key: a range delete);
      // a command still waiting for its answer is never forgotten.
      this.database
        .statement("DELETE FROM handled_events WHERE seq <= ? AND state = 'answered'")
        .run(Number(inserted.lastInsertRowid) - REMEMBERED_EVENTS);
      return true;
    });
  }
}

function readEvent(json: unknown): ReceivedEvent | undefined {
  if (typeof json !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
    // Stryker disable next-line BlockStatement: equivalent — value stays undefined, which the check below rejects
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const { eventId, roomId, sender, type, content, originServerTs } = value as Record<string, unknown>;
  if (typeof eventId !== "string" || typeof roomId !== "string" || typeof sender !== "string" || typeof type !== "string" || typeof originServerTs !== "number") {
    return undefined;
  }
  return { eventId, roomId, sender, type, content, originServerTs };
}
