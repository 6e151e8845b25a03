import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteRetentionStore } from "../../../src/store/retention.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

describe("SqliteRetentionStore", () => {
  it("keeps each policy's row across a restart, optional fields left out when unset", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const first = new SqliteRetentionStore(database);
    expect(first.all()).toEqual([]);
    await first.save({ policy: "old-history", paused: false, nextRunAt: 1_000 });
    await first.save({ policy: "bridges", paused: true });
    database.close();

    const second = new SqliteRetentionStore(WardenDatabase.open(directory));
    expect(second.all()).toEqual([
      { policy: "bridges", paused: true },
      { policy: "old-history", paused: false, nextRunAt: 1_000 },
    ]);
  });

  it("replaces the whole row, so a field set back to unset is cleared", async () => {
    const store = new SqliteRetentionStore(WardenDatabase.open(freshDirectory()));
    await store.save({ policy: "p", paused: true, nextRunAt: 5, lastWaveId: "w-1", lastStartedAt: 4 });
    await store.save({ policy: "p", paused: false, lastWaveId: "w-2", lastStartedAt: 9 });

    expect(store.all()).toEqual([{ policy: "p", paused: false, lastWaveId: "w-2", lastStartedAt: 9 }]);
  });

  it("rejects a write it could not store, naming the policy, and keeps the previous row", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const store = new SqliteRetentionStore(database);
    await store.save({ policy: "p", paused: false, nextRunAt: 1 });
    makeReadOnly(database);

    await expect(store.save({ policy: "p", paused: true })).rejects.toThrow("could not record the state of retention policy p: the database is read-only");
    expect(store.all()).toEqual([{ policy: "p", paused: false, nextRunAt: 1 }]);
  });
});
