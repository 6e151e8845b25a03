import { describe, expect, it } from "vitest";
import { StoreError } from "../../../src/store/errors.js";
import { MIGRATIONS, migrate, readUserVersion, type Migration } from "../../../src/store/migrations.js";
import { DatabaseSync } from "../../../src/store/sqlite.js";

const LATEST = MIGRATIONS.length;

function tables(db: DatabaseSync): unknown[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row["name"]);
}

describe("migrate", () => {
  it("reports the versions before and after: from 0 to the latest on a new database, latest to latest after", () => {
    const db = new DatabaseSync(":memory:");

    const first = migrate(db);
    const second = migrate(db);

    expect(first).toEqual({ from: 0, to: LATEST });
    expect(second).toEqual({ from: LATEST, to: LATEST });
    db.close();
  });

  it("refuses a newer database with a StoreError that says it could not open the database", () => {
    const db = new DatabaseSync(":memory:");
    db.exec(`PRAGMA user_version = ${LATEST + 2}`);

    let error: unknown;
    try {
      migrate(db);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(StoreError);
    expect(error instanceof StoreError && error.message).toBe(
      `could not open the database: it was written by a newer Warden (schema version ${LATEST + 2}; this one knows up to ${LATEST}). Run that version, or restore a backup`,
    );
    db.close();
  });

  it("rolls a failed migration back on the same connection, which can then migrate again once it is fixed", () => {
    const db = new DatabaseSync(":memory:");
    migrate(db);
    const broken: Migration = {
      version: LATEST + 1,
      description: "fails after its first statement",
      up(connection) {
        connection.exec("CREATE TABLE half (id INTEGER PRIMARY KEY) STRICT");
        connection.exec("this is not SQL");
      },
    };
    const fixed: Migration = {
      ...broken,
      up(connection) {
        connection.exec("CREATE TABLE whole (id INTEGER PRIMARY KEY) STRICT");
      },
    };

    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow(/syntax error/);
    expect(tables(db)).not.toContain("half");
    expect(readUserVersion(db)).toBe(LATEST);

    expect(migrate(db, [...MIGRATIONS, fixed])).toEqual({ from: LATEST, to: LATEST + 1 });
    expect(tables(db)).toContain("whole");
    db.close();
  });
});
