import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { HandledEvents, REMEMBERED_EVENTS } from "../../../src/store/handledEvents.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

describe("HandledEvents", () => {
  it("the first claim of an event wins, the second is refused", async () => {
    const handled = new HandledEvents(WardenDatabase.open(freshDirectory()));

    const first = await handled.claim("$command-1");
    const second = await handled.claim("$command-1");

    expect([first, second]).toEqual([true, false]);
  });

  it("remembers claims across a restart", async () => {
    const directory = freshDirectory();
    const before = WardenDatabase.open(directory);
    await new HandledEvents(before).claim("$command-1");
    before.close();

    const after = new HandledEvents(WardenDatabase.open(directory));

    expect(await after.claim("$command-1")).toBe(false);
    expect(await after.claim("$command-2")).toBe(true);
  });

  it("two claims of one event racing each other: exactly one wins", async () => {
    const directory = freshDirectory();
    const handled = new HandledEvents(WardenDatabase.open(directory));

    const results = await Promise.all([handled.claim("$dup"), handled.claim("$dup"), handled.claim("$other")]);

    expect(results).toEqual([true, false, true]);
    expect(await new HandledEvents(WardenDatabase.open(directory)).claim("$dup")).toBe(false);
  });

  it(`remembers the last ${REMEMBERED_EVENTS} events and forgets older ones`, async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    for (let index = 0; index <= REMEMBERED_EVENTS; index++) await handled.claim(`$event-${index}`);

    expect(database.statement("SELECT count(*) AS n FROM handled_events").get()).toEqual({ n: REMEMBERED_EVENTS });
    expect(await handled.claim("$event-1")).toBe(false);
    expect(await handled.claim("$event-0")).toBe(true);
  });

  it("rejects a claim it could not record, so the command does not run, and records it once it can", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    makeReadOnly(database);

    await expect(handled.claim("$command-1")).rejects.toThrow("could not record command event $command-1 as handled: the database is read-only");

    database.statement("PRAGMA query_only = OFF").run();
    expect(await handled.claim("$command-1")).toBe(true);
  });
});
