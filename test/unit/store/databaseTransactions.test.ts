import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { freshDirectory } from "./storeTestKit.js";

function openWithTable(): WardenDatabase {
  const database = WardenDatabase.open(freshDirectory());
  database.statement("CREATE TABLE things (name TEXT PRIMARY KEY) STRICT").run();
  return database;
}

function names(database: WardenDatabase): unknown[] {
  return database.statement("SELECT name FROM things ORDER BY name").all().map((row) => row["name"]);
}

const insert = (database: WardenDatabase, name: string): void => {
  database.statement("INSERT INTO things (name) VALUES (?)").run(name);
};

describe("WardenDatabase.transaction", () => {
  it("stores all of the work and returns its result", () => {
    const database = openWithTable();

    const result = database.transaction("two things", () => {
      insert(database, "a");
      insert(database, "b");
      return "done";
    });

    expect(result).toBe("done");
    expect(names(database)).toEqual(["a", "b"]);
  });

  it("stores none of it when the work fails, and names what could not be recorded", () => {
    const database = openWithTable();

    const attempt = (): void => {
      database.transaction("the pair", () => {
        insert(database, "a");
        insert(database, "a");
      });
    };

    expect(attempt).toThrow(StoreError);
    expect(attempt).toThrow(/^could not record the pair: /);
    expect(names(database)).toEqual([]);
  });

  it("lets a nested transaction join the outer one: the outer failure undoes the inner work", () => {
    const database = openWithTable();

    expect(() =>
      database.transaction("outer", () => {
        database.transaction("inner", () => {
          insert(database, "inner");
        });
        throw new Error("outer work failed");
      }),
    ).toThrow(expect.objectContaining({ name: "StoreError", what: "outer", reason: "outer work failed" }) as StoreError);
    expect(names(database)).toEqual([]);
  });

  it("keeps the name of the innermost work that failed", () => {
    const database = openWithTable();

    const attempt = (): void => {
      database.transaction("outer", () => {
        database.transaction("inner", () => {
          insert(database, "x");
          insert(database, "x");
        });
      });
    };

    expect(attempt).toThrow(/^could not record inner: /);
    expect(names(database)).toEqual([]);
  });

  it("works again after a failed transaction (nothing is left open)", () => {
    const database = openWithTable();
    expect(() => database.transaction("first", () => { throw new Error("no"); })).toThrow(StoreError);

    database.transaction("second", () => {
      insert(database, "b");
    });

    expect(names(database)).toEqual(["b"]);
  });

  it("refuses to start on a closed database with a StoreError naming the work", () => {
    const database = openWithTable();
    database.close();

    expect(() => database.transaction("late work", () => 1)).toThrow(/^could not record late work: /);
  });
});

describe("WardenDatabase.run", () => {
  it("names a failed statement, and passes a StoreError on unchanged", () => {
    const database = openWithTable();
    insert(database, "a");
    const original = new StoreError("the original", "its reason");

    expect(() => { database.run("a duplicate", () => { insert(database, "a"); }); }).toThrow(/^could not record a duplicate: /);
    expect(() => database.run("wrapper", () => { throw original; })).toThrow(original);
    expect(database.run("a read", () => names(database))).toEqual(["a"]);
  });
});
