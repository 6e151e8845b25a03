import { describe, expect, it, vi } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { MIGRATIONS } from "../../../src/store/migrations.js";
import { freshDirectory } from "./storeTestKit.js";

/** Runs `act` and hands back what it threw. */
function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

function count(database: WardenDatabase, table: string): unknown {
  return database.statement(`SELECT count(*) AS n FROM ${table}`).get()?.["n"];
}

describe("WardenDatabase: behaviour the moderator and the schema rely on", () => {
  it("enforces foreign keys: deleting a wave deletes its rooms", () => {
    const database = WardenDatabase.open(freshDirectory());
    database
      .statement(
        "INSERT INTO waves (id, kind, requester, management_room_id, command_event_id, selection, parameters, left_out, status, created_at, final_notification_sent) " +
          "VALUES ('w-1', 'purge', '@m:x', '!m:x', '$c', '{}', '{}', '[]', 'finished', 1, 1)",
      )
      .run();
    database.statement("INSERT INTO wave_rooms (wave_id, phase, room_id, seq, label, state, attempts) VALUES ('w-1', 'purge', '!r:x', 1, '!r:x', 'done', 0)").run();

    database.statement("DELETE FROM waves WHERE id = 'w-1'").run();

    expect(count(database, "wave_rooms")).toBe(0);
    database.close();
  });

  it("refuses a database written by a newer Warden with the migration's own StoreError, unchanged", () => {
    const directory = freshDirectory();
    const newer = WardenDatabase.open(directory);
    newer.statement(`PRAGMA user_version = ${MIGRATIONS.length + 1}`).run();
    newer.close();

    const error = thrown(() => WardenDatabase.open(directory));

    expect(error).toBeInstanceOf(StoreError);
    expect(error instanceof StoreError && error.message).toBe(
      `could not open the database: it was written by a newer Warden (schema version ${MIGRATIONS.length + 1}; ` +
        `this one knows up to ${MIGRATIONS.length}). Run that version, or restore a backup`,
    );
    expect(error instanceof StoreError && error.cause).toBeUndefined();
  });

  it("caches prepared statements: the same SQL gives the same statement", () => {
    const database = WardenDatabase.open(freshDirectory());

    const first = database.statement("SELECT 1 AS one");
    const second = database.statement("SELECT 1 AS one");

    expect(second).toBe(first);
    expect(database.statement("SELECT 2 AS two")).not.toBe(first);
    database.close();
  });

  it("does not run the work when its transaction cannot begin, and keeps SQLite's error as the cause", () => {
    const database = WardenDatabase.open(freshDirectory());
    database.close();
    const work = vi.fn(() => 1);

    const error = thrown(() => database.transaction("the work", work));

    expect(work).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ message: expect.stringMatching(/^could not record the work: /) as unknown, cause: expect.any(Error) as unknown });
  });

  it("names the work and keeps SQLite's error as the cause when the commit fails", () => {
    const database = WardenDatabase.open(freshDirectory());

    const error = thrown(() =>
      database.transaction("the closing work", () => {
        database.close();
        return 1;
      }),
    );

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ message: expect.stringMatching(/^could not record the closing work: /) as unknown, cause: expect.any(Error) as unknown });
  });

  it("run keeps the failure it names as the cause", () => {
    const database = WardenDatabase.open(freshDirectory());
    const failure = new Error("no such table: nowhere");

    const error = thrown(() =>
      database.run("a read", () => {
        throw failure;
      }),
    );

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ message: "could not record a read: no such table: nowhere", cause: failure });
    database.close();
  });
});
