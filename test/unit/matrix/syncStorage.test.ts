import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SyncStorage } from "../../../src/matrix/syncStorage.js";

describe("SyncStorage", () => {
  it("keeps the sync token and a string filter id across a restart", async () => {
    const directory = mkdtempSync(join(tmpdir(), "warden-sync-"));
    const first = new SyncStorage(directory);
    expect(first.hadSyncToken()).toBe(false);
    // Synapse's filter ids are strings, whatever the SDK's type says.
    await first.setFilter(JSON.parse('{"id": "7", "filter": {"room": {}}}') as { id: number; filter: unknown });
    await first.setSyncToken("s72594_4483_1934");
    await first.storeValue("key", "value");

    const second = new SyncStorage(directory);
    expect(second.loadOutcome.kind).toBe("loaded");
    expect(second.hadSyncToken()).toBe(true);
    expect(second.getSyncToken()).toBe("s72594_4483_1934");
    expect(second.getFilter()).toEqual({ id: "7", filter: { room: {} } });
    expect(second.readValue("key")).toBe("value");
    expect(second.readValue("__proto__")).toBeUndefined();
  });
});
