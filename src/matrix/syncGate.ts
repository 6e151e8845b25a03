import type { StoredFilter } from "../store/syncState.js";

/** matrix-bot-sdk's storage interface, as Warden's sync storage implements it. */
export interface SyncStore {
  setSyncToken(token: string | null): Promise<void>;
  getSyncToken(): string | null;
  setFilter(filter: StoredFilter): Promise<void>;
  getFilter(): StoredFilter;
  storeValue(key: string, value: string): Promise<void>;
  readValue(key: string): string | undefined;
}

/**
 * Stands between matrix-bot-sdk and the stored sync position.
 *
 * The SDK (0.8, MatrixClient.startSync) stores the next sync token *before* it emits the events
 * of that sync, unless `persistTokenAfterSync` is set; even then it emits with EventEmitter.emit
 * and does not wait for the listeners. So a kill after the token is stored and before a command
 * is written down loses the command: the next start syncs from after it. With the token stored
 * after the events are emitted (BotClient sets that) and this gate waiting for `holdUntil`'s
 * check (every command delivered so far is recorded as received), the stored position never
 * passes a command Warden has not written down. Catching up from the room's timeline on start
 * would do the same job with more requests, pagination and a guess at how far back to look;
 * ordering the writes needs none of that.
 *
 * After close() (shutdown), no position is stored any more: events of a /sync still in flight
 * are not taken, and the next start receives them again.
 */
export class SyncPositionGate implements SyncStore {
  private recorded: () => Promise<void> = () => Promise.resolve();
  private closed = false;

  constructor(private readonly inner: SyncStore) {}

  holdUntil(recorded: () => Promise<void>): void {
    this.recorded = recorded;
  }

  close(): void {
    this.closed = true;
  }

  // A method, not a field read: after the await, a field read would be narrowed to false.
  private isClosed(): boolean {
    return this.closed;
  }

  async setSyncToken(token: string | null): Promise<void> {
    if (this.closed) return;
    // A rejection reaches the SDK's sync loop, which logs it and goes on; the stored position stays put.
    await this.recorded();
    if (this.isClosed()) return;
    await this.inner.setSyncToken(token);
  }

  getSyncToken(): string | null {
    return this.inner.getSyncToken();
  }

  setFilter(filter: StoredFilter): Promise<void> {
    return this.inner.setFilter(filter);
  }

  getFilter(): StoredFilter {
    return this.inner.getFilter();
  }

  storeValue(key: string, value: string): Promise<void> {
    return this.inner.storeValue(key, value);
  }

  readValue(key: string): string | undefined {
    return this.inner.readValue(key);
  }
}
