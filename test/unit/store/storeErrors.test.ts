import { describe, expect, it } from "vitest";
import { describeSqliteError, settled, StoreError } from "../../../src/store/errors.js";

function sqliteError(errcode: number, errstr?: string): Error {
  return Object.assign(new Error("raw sqlite message"), { errcode, ...(errstr === undefined ? {} : { errstr }) });
}

describe("describeSqliteError: what a moderator reads", () => {
  it.each([
    [5, "the database is locked by another program"],
    [8, "the database is read-only (check the data directory's permissions and mount)"],
    [10, "a disk input/output error"],
    [11, "the database file is damaged"],
    [13, "the disk is full"],
    [14, "the database file cannot be opened"],
    [26, "the file is not a Warden database"],
  ])("SQLite code %i: %s", (code, reason) => {
    expect(describeSqliteError(sqliteError(code))).toBe(reason);
  });

  it("reads the primary code out of an extended one (SQLITE_IOERR_WRITE is 778)", () => {
    expect(describeSqliteError(sqliteError(778, "disk I/O error"))).toBe("a disk input/output error");
  });

  it("gives any other code with SQLite's own words", () => {
    expect(describeSqliteError(sqliteError(19, "constraint failed"))).toBe("SQLite error 19 (constraint failed)");
    expect(describeSqliteError(sqliteError(1))).toBe("SQLite error 1 (unknown error)");
  });

  it("keeps a StoreError's reason, an Error's message and anything else as text", () => {
    expect(describeSqliteError(new StoreError("x", "its reason"))).toBe("its reason");
    expect(describeSqliteError(new Error("plain"))).toBe("plain");
    expect(describeSqliteError({ errcode: "5" })).toBe("[object Object]");
    expect(describeSqliteError("text")).toBe("text");
  });

  it("StoreError: the log message names the work and the reason", () => {
    const error = new StoreError("task p-1", "the disk is full");

    expect([error.name, error.message, error.what, error.reason]).toEqual(["StoreError", "could not record task p-1: the disk is full", "task p-1", "the disk is full"]);
  });
});

describe("settled", () => {
  it("hands the work's result over as a promise", async () => {
    await expect(settled(() => 7)).resolves.toBe(7);
  });

  it("turns a throw into a rejection with the same error", async () => {
    const error = new StoreError("x", "y");

    await expect(settled(() => { throw error; })).rejects.toBe(error);
  });

  it("rejects with an Error even when something else was thrown", async () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test
    await expect(settled(() => { throw "not an error"; })).rejects.toEqual(new Error("not an error"));
  });
});
