import type { CommandJournal, ReceivedEvent } from "../../src/model/commandJournal.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The command journal in memory: the first record of an event id wins, later ones are refused.
 * To play a crash, build a new dispatcher over `snapshot()`: the state as a process killed at
 * that moment leaves it (writes still under way are not in it).
 *
 * `slow` makes each write take a turn of the event loop, so that a kill can fall mid-write;
 * `failWrites` makes every write reject (a full disk); `holdAnswers` keeps "answered" writes
 * from ever finishing, as in a process killed between sending an answer and recording it.
 */
export class MemoryHandledEvents implements CommandJournal {
  readonly claims: string[] = [];
  readonly answers: string[] = [];
  failWrites: Error | undefined;
  slow = false;
  holdAnswers = false;
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, ReceivedEvent>();
  private readonly taken = new Set<string>();

  async claim(eventId: string): Promise<boolean> {
    this.claims.push(eventId);
    return this.take(eventId, () => this.known.add(eventId));
  }

  async receive(event: ReceivedEvent): Promise<boolean> {
    this.claims.push(event.eventId);
    return this.take(event.eventId, () => {
      this.known.add(event.eventId);
      this.pending.set(event.eventId, event);
    });
  }

  async answered(eventId: string): Promise<void> {
    if (this.holdAnswers) await new Promise(() => undefined);
    if (this.slow) await tick();
    if (this.failWrites !== undefined) throw this.failWrites;
    this.answers.push(eventId);
    this.pending.delete(eventId);
  }

  unanswered(): Promise<readonly ReceivedEvent[]> {
    return Promise.resolve([...this.pending.values()].sort((a, b) => a.originServerTs - b.originServerTs));
  }

  /** What a process killed right now leaves behind. */
  snapshot(): MemoryHandledEvents {
    const copy = new MemoryHandledEvents();
    copy.slow = this.slow;
    for (const id of this.known) {
      copy.known.add(id);
      copy.taken.add(id);
    }
    for (const [id, event] of this.pending) copy.pending.set(id, event);
    return copy;
  }

  /** First come wins at once (as a database's unique key would); the record itself lands a turn later when slow. */
  private async take(eventId: string, write: () => void): Promise<boolean> {
    if (this.failWrites !== undefined) throw this.failWrites;
    if (this.taken.has(eventId)) return false;
    this.taken.add(eventId);
    if (this.slow) await tick();
    write();
    return true;
  }
}
