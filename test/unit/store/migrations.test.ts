import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { checkOrder, migrate, MIGRATIONS, readUserVersion, type Migration } from "../../../src/store/migrations.js";

const freshDirectory = (): string => mkdtempSync(join(tmpdir(), "warden-migrations-"));

/** The schema as SQLite records it: every table and index with its SQL, in a stable order. */
function schemaOf(database: WardenDatabase): string[] {
  return database
    .statement("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all()
    .map((row) => `${String(row["type"])} ${String(row["name"])}: ${String(row["sql"]).replace(/\s+/g, " ")}`);
}

describe("migrations", () => {
  it("count up from 1 without gaps, so appending one means taking the next number", () => {
    expect(() => {
      checkOrder(MIGRATIONS);
    }).not.toThrow();
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_migration, index) => index + 1));
    expect(() => {
      checkOrder([...MIGRATIONS, { version: MIGRATIONS.length + 2, description: "gap", up: () => undefined }]);
    }).toThrow(/without gaps/);
  });

  it("bring a new database to the latest version", () => {
    const database = WardenDatabase.open(freshDirectory());

    expect(database.openedAtVersion).toBe(0);
    expect(database.schemaVersion()).toBe(MIGRATIONS.length);
    const tables = schemaOf(database).filter((line) => line.startsWith("table ")).map((line) => line.split(":")[0]);
    expect(tables).toEqual([
      "table audit",
      "table handled_events",
      "table meta",
      "table report_cursor",
      "table report_digests",
      "table report_notices",
      "table report_unreadable",
      "table reports",
      "table retention_state",
      "table sync_state",
      "table takedowns",
      "table tasks",
      "table wave_rooms",
      "table waves",
    ]);
    expect(database.statement("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(database.statement("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
  });

  it.each(MIGRATIONS.map((migration) => migration.version - 1))("upgrade a database left at version %i to the same schema as a fresh one", (earlier) => {
    const directory = freshDirectory();
    WardenDatabase.open(directory, MIGRATIONS.slice(0, earlier)).close();

    const upgraded = WardenDatabase.open(directory);

    expect(upgraded.openedAtVersion).toBe(earlier);
    expect(upgraded.schemaVersion()).toBe(MIGRATIONS.length);
    expect(schemaOf(upgraded)).toEqual(schemaOf(WardenDatabase.open(freshDirectory())));
  });

  it("run an appended migration once, on top of the data already there", () => {
    const directory = freshDirectory();
    const first = WardenDatabase.open(directory);
    first.statement("INSERT INTO meta (key, value) VALUES ('kept', 'yes')").run();
    first.close();
    let runs = 0;
    const appended: Migration = {
      version: MIGRATIONS.length + 1,
      description: "a later table (example)",
      up(db) {
        runs++;
        db.exec("CREATE TABLE later_example (id INTEGER PRIMARY KEY, room_id TEXT NOT NULL) STRICT");
      },
    };

    WardenDatabase.open(directory, [...MIGRATIONS, appended]).close();
    const again = WardenDatabase.open(directory, [...MIGRATIONS, appended]);

    expect(runs).toBe(1);
    expect(again.schemaVersion()).toBe(MIGRATIONS.length + 1);
    expect(again.statement("SELECT value FROM meta WHERE key = 'kept'").get()).toEqual({ value: "yes" });
    expect(schemaOf(again).some((line) => line.startsWith("table later_example"))).toBe(true);
  });

  it("leave the database at the previous version when a migration fails half-way", () => {
    const directory = freshDirectory();
    WardenDatabase.open(directory).close();
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      description: "fails after its first statement",
      up(db) {
        db.exec("CREATE TABLE half (id INTEGER PRIMARY KEY) STRICT");
        db.exec("this is not SQL");
      },
    };

    expect(() => WardenDatabase.open(directory, [...MIGRATIONS, broken])).toThrow(/could not open the database: SQLite error/);

    const after = WardenDatabase.open(directory);
    expect(after.schemaVersion()).toBe(MIGRATIONS.length);
    expect(schemaOf(after).some((line) => line.startsWith("table half"))).toBe(false);
  });

  it("refuse a database written by a newer Warden, naming both versions", () => {
    const directory = freshDirectory();
    const newer = WardenDatabase.open(directory);
    newer.statement(`PRAGMA user_version = ${MIGRATIONS.length + 5}`).run();
    newer.close();

    expect(() => WardenDatabase.open(directory)).toThrow(new RegExp(`newer Warden \\(schema version ${MIGRATIONS.length + 5}; this one knows up to ${MIGRATIONS.length}\\)`));
  });
});

describe("migrate", () => {
  it("refuses a list of migrations with a gap before it changes anything", () => {
    const db = new DatabaseSync(":memory:");
    const gap: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 2, description: "gap", up: () => undefined }];

    expect(() => migrate(db, gap)).toThrow(/without gaps/);
    expect(readUserVersion(db)).toBe(0);
    db.close();
  });
});
