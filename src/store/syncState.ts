import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";

/** The filter record matrix-bot-sdk stores (its IFilterInfo, minus the `any`). */
export interface StoredFilter {
  /** A string at run time (Synapse's filter ids are strings); the SDK's type says number. */
  id: number;
  filter: unknown;
}

const SYNC_TOKEN = "sync_token";
const FILTER = "filter";
/** The SDK's own named values live beside Warden's keys, under a prefix so they cannot collide. */
const VALUE_PREFIX = "value:";

/**
 * matrix-bot-sdk's storage (sync token, filter, small values) in the `sync_state` table. Keeping
 * the sync token is what stops a restart from replaying the room's history. The SDK awaits the
 * setters, so a failed write surfaces in its sync loop (which logs it and retries) instead of
 * being lost silently.
 */
export class SyncStorage {
  constructor(private readonly database: WardenDatabase) {}

  hadSyncToken(): boolean {
    return this.getSyncToken() !== null;
  }

  setSyncToken(token: string | null): Promise<void> {
    return this.write("the sync token", SYNC_TOKEN, token);
  }

  getSyncToken(): string | null {
    return this.read(SYNC_TOKEN) ?? null;
  }

  setFilter(filter: StoredFilter): Promise<void> {
    return this.write("the sync filter", FILTER, JSON.stringify(filter));
  }

  getFilter(): StoredFilter {
    const text = this.read(FILTER);
    // The SDK treats a missing filter as "create one"; its type says it never is missing.
    return (text === undefined ? null : JSON.parse(text)) as StoredFilter;
  }

  storeValue(key: string, value: string): Promise<void> {
    return this.write(`the sync value ${key}`, VALUE_PREFIX + key, value);
  }

  readValue(key: string): string | undefined {
    return this.read(VALUE_PREFIX + key);
  }

  private read(key: string): string | undefined {
    const row = this.database.statement("SELECT value FROM sync_state WHERE key = ?").get(key);
    const value = row?.["value"];
    return typeof value === "string" ? value : undefined;
  }

  private write(what: string, key: string, value: string | null): Promise<void> {
    return settled(() => {
      this.database.run(what, () => {
        if (value === null) this.database.statement("DELETE FROM sync_state WHERE key = ?").run(key);
        else this.database.statement("INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
      });
    });
  }
}
