import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { freshDirectory } from "./storeTestKit.js";

function pragma(database: WardenDatabase, name: string, column = name): unknown {
  return database.statement(`PRAGMA ${name}`).get()?.[column];
}

describe("WardenDatabase.open: how the database is set up", () => {
  it("uses the write-ahead log with NORMAL sync, enforces foreign keys and waits 5 s for another writer", () => {
    const database = WardenDatabase.open(freshDirectory());

    expect({
      journalMode: pragma(database, "journal_mode"),
      synchronous: pragma(database, "synchronous"),
      foreignKeys: pragma(database, "foreign_keys"),
      busyTimeout: pragma(database, "busy_timeout", "timeout"),
    }).toEqual({ journalMode: "wal", synchronous: 1, foreignKeys: 1, busyTimeout: 5_000 });
    database.close();
  });

  it.skipIf(process.platform === "win32")("creates warden.sqlite readable by its owner only", () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);

    expect(database.path).toBe(join(directory, "warden.sqlite"));
    expect(statSync(database.path).mode & 0o777).toBe(0o600);
    database.close();
  });

  it("reports the schema version it found: 0 for a new database, the latest on the next open", () => {
    const directory = freshDirectory();
    const first = WardenDatabase.open(directory);
    const latest = first.schemaVersion();
    first.close();
    const second = WardenDatabase.open(directory);

    expect([first.openedAtVersion, second.openedAtVersion, second.schemaVersion()]).toEqual([0, latest, latest]);
    expect(latest).toBeGreaterThan(0);
    second.close();
  });

  it("refuses a warden.sqlite that is not a database with a StoreError naming the reason and the path", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, "warden.sqlite"), "this is a text file, not a database\n".repeat(200));

    const open = (): WardenDatabase => WardenDatabase.open(directory);

    expect(open).toThrow(StoreError);
    expect(open).toThrow(`could not open the database: the file is not a Warden database (${join(directory, "warden.sqlite")})`);
  });

  it("may be closed twice", () => {
    const database = WardenDatabase.open(freshDirectory());
    database.close();

    expect(() => { database.close(); }).not.toThrow();
  });
});
