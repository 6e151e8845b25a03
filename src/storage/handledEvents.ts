import { join } from "node:path";
import { z } from "zod";
import { AtomicJsonWriter, loadJsonFile, type LoadOutcome } from "./jsonFile.js";

const handledEventsFile = z.object({ eventIds: z.array(z.string()) });

/** How many command event IDs we remember; far more than a sync can redeliver. */
const REMEMBERED = 5_000;

/**
 * Remembers which command events were taken, durably, so a redelivered or replayed event is
 * never executed twice. An ID is recorded (and flushed) before its command runs.
 */
export class HandledEvents {
  private readonly ids: string[];
  private readonly known: Set<string>;
  private readonly writer: AtomicJsonWriter;
  readonly loadOutcome: LoadOutcome<z.infer<typeof handledEventsFile>>;

  constructor(dataDirectory: string) {
    const path = join(dataDirectory, "handled-events.json");
    this.loadOutcome = loadJsonFile(path, handledEventsFile);
    this.ids = this.loadOutcome.kind === "loaded" ? [...this.loadOutcome.value.eventIds] : [];
    this.known = new Set(this.ids);
    this.writer = new AtomicJsonWriter(path);
  }

  /** Returns false when the event was seen before; otherwise records it durably and returns true. */
  async claim(eventId: string): Promise<boolean> {
    if (this.known.has(eventId)) return false;
    this.known.add(eventId);
    this.ids.push(eventId);
    while (this.ids.length > REMEMBERED) {
      const dropped = this.ids.shift();
      if (dropped !== undefined) this.known.delete(dropped);
    }
    await this.writer.write({ eventIds: this.ids });
    return true;
  }
}
