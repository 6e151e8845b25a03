import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { SyncStorage } from "../../../src/store/syncState.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

describe("SyncStorage", () => {
  it("keeps the sync token, a string filter id and the SDK's values across a restart", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const first = new SyncStorage(database);
    expect(first.hadSyncToken()).toBe(false);
    expect(first.getFilter()).toBeNull();
    // Synapse's filter ids are strings, whatever the SDK's type says.
    await first.setFilter(JSON.parse('{"id": "7", "filter": {"room": {}}}') as { id: number; filter: unknown });
    await first.setSyncToken("s72594_4483_1934");
    await first.storeValue("key", "value");
    await first.storeValue("sync_token", "an SDK value with Warden's key name");
    database.close();

    const second = new SyncStorage(WardenDatabase.open(directory));
    expect(second.hadSyncToken()).toBe(true);
    expect(second.getSyncToken()).toBe("s72594_4483_1934");
    expect(second.getFilter()).toEqual({ id: "7", filter: { room: {} } });
    expect(second.readValue("key")).toBe("value");
    expect(second.readValue("__proto__")).toBeUndefined();

    await second.setSyncToken(null);
    expect(second.hadSyncToken()).toBe(false);
    expect(second.readValue("sync_token")).toBe("an SDK value with Warden's key name");
  });

  it("rejects a sync token it could not store and keeps the previous one", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const storage = new SyncStorage(database);
    await storage.setSyncToken("s1");
    makeReadOnly(database);

    await expect(storage.setSyncToken("s2")).rejects.toThrow("could not record the sync token: the database is read-only");
    expect(storage.getSyncToken()).toBe("s1");
  });
});
