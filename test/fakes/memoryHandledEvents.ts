/** The handled-events store in memory: the first claim of an event id wins, later ones are refused. */
export class MemoryHandledEvents {
  readonly claims: string[] = [];
  private readonly known = new Set<string>();

  claim(eventId: string): Promise<boolean> {
    this.claims.push(eventId);
    if (this.known.has(eventId)) return Promise.resolve(false);
    this.known.add(eventId);
    return Promise.resolve(true);
  }
}
