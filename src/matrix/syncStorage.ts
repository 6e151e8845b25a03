import { join } from "node:path";
import { z } from "zod";
import { AtomicJsonWriter, loadJsonFile, type LoadOutcome } from "../storage/jsonFile.js";

const syncStateFile = z.object({
  syncToken: z.string().nullable(),
  // The SDK types the filter id as a number, but Synapse hands out strings.
  filter: z.object({ id: z.union([z.string(), z.number()]), filter: z.unknown() }).nullable(),
  values: z.record(z.string(), z.string()),
});
type SyncState = z.infer<typeof syncStateFile>;

/** The filter record matrix-bot-sdk stores (its IFilterInfo, minus the `any`). */
export interface StoredFilter {
  /** A string at run time (Synapse's filter ids are strings); the SDK's type says number. */
  id: number;
  filter: unknown;
}

/**
 * matrix-bot-sdk's storage (sync token, filter, small values) kept in dataDirectory/sync.json
 * with atomic writes: its own file store writes in place and can leave a torn file behind.
 * Keeping the sync token is what stops a restart from replaying the room's history.
 */
export class SyncStorage {
  private state: SyncState;
  private readonly writer: AtomicJsonWriter;
  readonly loadOutcome: LoadOutcome<SyncState>;

  constructor(dataDirectory: string) {
    const path = join(dataDirectory, "sync.json");
    this.loadOutcome = loadJsonFile(path, syncStateFile);
    this.state = this.loadOutcome.kind === "loaded" ? this.loadOutcome.value : { syncToken: null, filter: null, values: {} };
    this.writer = new AtomicJsonWriter(path);
  }

  hadSyncToken(): boolean {
    return this.state.syncToken !== null;
  }

  setSyncToken(token: string | null): Promise<void> {
    this.state = { ...this.state, syncToken: token };
    return this.writer.write(this.state);
  }

  getSyncToken(): string | null {
    return this.state.syncToken;
  }

  setFilter(filter: StoredFilter): Promise<void> {
    this.state = { ...this.state, filter };
    return this.writer.write(this.state);
  }

  getFilter(): StoredFilter {
    // The SDK treats a missing filter as "create one"; its type says it never is missing.
    return this.state.filter as unknown as StoredFilter;
  }

  storeValue(key: string, value: string): Promise<void> {
    this.state = { ...this.state, values: { ...this.state.values, [key]: value } };
    return this.writer.write(this.state);
  }

  readValue(key: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.state.values, key) ? this.state.values[key] : undefined;
  }
}
