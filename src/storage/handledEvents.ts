import { join } from "node:path";
import { z } from "zod";
import type { CommandJournal, ReceivedEvent } from "../model/commandJournal.js";
import { AtomicJsonWriter, loadJsonFile, type LoadOutcome } from "./jsonFile.js";

const receivedEvent = z.object({
  eventId: z.string(),
  roomId: z.string(),
  sender: z.string(),
  type: z.string(),
  content: z.unknown(),
  originServerTs: z.number(),
});

const handledEventsFile = z.object({
  eventIds: z.array(z.string()),
  /** Commands received and not yet answered (absent in files written before it existed). */
  unanswered: z.array(receivedEvent).optional(),
});

/** How many command event IDs we remember; far more than a sync can redeliver. */
const REMEMBERED = 5_000;

/**
 * Remembers which command events were taken, durably, so a redelivered or replayed event is
 * never executed twice, and which of them still wait for their answer, so that a restart
 * answers them. An ID is recorded (and flushed) before its command runs.
 */
export class HandledEvents implements CommandJournal {
  private readonly ids: string[];
  private readonly known: Set<string>;
  private readonly pending: Map<string, ReceivedEvent>;
  private readonly writer: AtomicJsonWriter;
  readonly loadOutcome: LoadOutcome<z.infer<typeof handledEventsFile>>;

  constructor(dataDirectory: string) {
    const path = join(dataDirectory, "handled-events.json");
    this.loadOutcome = loadJsonFile(path, handledEventsFile);
    const loaded = this.loadOutcome.kind === "loaded" ? this.loadOutcome.value : { eventIds: [] };
    this.ids = [...loaded.eventIds];
    this.known = new Set(this.ids);
    this.pending = new Map((loaded.unanswered ?? []).map((event) => [event.eventId, event]));
    this.writer = new AtomicJsonWriter(path);
  }

  /** Returns false when the event was seen before; otherwise records it durably and returns true. */
  claim(eventId: string): Promise<boolean> {
    if (!this.remember(eventId)) return Promise.resolve(false);
    return this.flush().then(() => true);
  }

  receive(event: ReceivedEvent): Promise<boolean> {
    if (!this.remember(event.eventId)) return Promise.resolve(false);
    const { eventId, roomId, sender, type, content, originServerTs } = event;
    this.pending.set(eventId, { eventId, roomId, sender, type, content, originServerTs });
    return this.flush().then(() => true);
  }

  answered(eventId: string): Promise<void> {
    if (!this.pending.delete(eventId)) return Promise.resolve();
    return this.flush();
  }

  unanswered(): Promise<readonly ReceivedEvent[]> {
    return Promise.resolve([...this.pending.values()].sort((a, b) => a.originServerTs - b.originServerTs));
  }

  /** Resolves once every write queued so far is on disk (or has failed). */
  flushed(): Promise<void> {
    return this.writer.settled();
  }

  private remember(eventId: string): boolean {
    if (this.known.has(eventId)) return false;
    this.known.add(eventId);
    this.ids.push(eventId);
    while (this.ids.length > REMEMBERED) {
      const dropped = this.ids.shift();
      if (dropped !== undefined && !this.pending.has(dropped)) this.known.delete(dropped);
    }
    return true;
  }

  private flush(): Promise<void> {
    return this.writer.write({ eventIds: this.ids, unanswered: [...this.pending.values()] });
  }
}
