import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_FILE, WardenDatabase } from "../../../src/store/database.js";
import { freshDirectory } from "./storeTestKit.js";

describe("WardenDatabase", () => {
  it("refuses a damaged database file with the reason and the path, and leaves it as it was", () => {
    const directory = freshDirectory();
    const path = join(directory, DATABASE_FILE);
    writeFileSync(path, "this is not a database, it only sits where one should be ".repeat(100));

    expect(() => WardenDatabase.open(directory)).toThrow(`could not open the database: the file is not a Warden database (${path})`);
    expect(readFileSync(path, "utf8")).toMatch(/^this is not a database/);
  });

  it("keeps all of a transaction or none of it", () => {
    const database = WardenDatabase.open(freshDirectory());
    const put = (key: string): void => {
      database.statement("INSERT INTO meta (key, value) VALUES (?, 'v')").run(key);
    };

    expect(() => {
      database.transaction("two rows", () => {
        put("first");
        put("first");
      });
    }).toThrow(/could not record two rows/);
    database.transaction("two rows", () => {
      put("a");
      database.transaction("a nested step", () => {
        put("b");
      });
    });

    expect(database.statement("SELECT key FROM meta ORDER BY key").all()).toEqual([{ key: "a" }, { key: "b" }]);
  });

  it("creates the database readable by its owner only", () => {
    const directory = freshDirectory();
    WardenDatabase.open(directory).close();

    expect(readFileSync(join(directory, DATABASE_FILE)).length).toBeGreaterThan(0);
    expect(statSync(join(directory, DATABASE_FILE)).mode & 0o777).toBe(0o600);
  });
});
