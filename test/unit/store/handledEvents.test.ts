import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { MIGRATIONS } from "../../../src/store/migrations.js";
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

  const command = (eventId: string, body = "!status") => ({
    eventId,
    roomId: "!management:example.org",
    sender: "@mod:example.org",
    type: "m.room.message",
    content: { msgtype: "m.text", body },
    originServerTs: 1_700_000_000_000,
  });

  it("keeps a command received and not answered across a restart, with the event itself, until it is answered", async () => {
    const directory = freshDirectory();
    const before = WardenDatabase.open(directory);
    expect(await new HandledEvents(before).receive(command("$a", "!room #x:example.org"))).toBe(true);
    expect(await new HandledEvents(before).receive(command("$b"))).toBe(true);
    await new HandledEvents(before).answered("$b");
    before.close();

    const afterCrash = new HandledEvents(WardenDatabase.open(directory));
    expect(await afterCrash.unanswered()).toEqual([command("$a", "!room #x:example.org")]);
    expect(await afterCrash.receive(command("$a"))).toBe(false);
    expect(await afterCrash.claim("$b")).toBe(false);
    await afterCrash.answered("$a");
    expect(await afterCrash.unanswered()).toEqual([]);
  });

  it("rejects a receive it could not record, so the command does not run", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    makeReadOnly(database);
    await expect(handled.receive(command("$a"))).rejects.toThrow("could not record command event $a as received: the database is read-only");
  });

  it("never forgets a command still waiting for its answer, however many come after", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    await handled.receive(command("$waiting"));
    for (let index = 0; index <= REMEMBERED_EVENTS; index++) await handled.claim(`$event-${index}`);

    expect((await handled.unanswered()).map((event) => event.eventId)).toEqual(["$waiting"]);
    expect(await handled.receive(command("$waiting"))).toBe(false);
  });

  it("counts events claimed before version 2 as answered", async () => {
    const directory = freshDirectory();
    const old = WardenDatabase.open(directory, MIGRATIONS.slice(0, 1));
    old.statement("INSERT INTO handled_events (event_id, handled_at) VALUES ('$old', 1)").run();
    old.close();

    const handled = new HandledEvents(WardenDatabase.open(directory));
    expect(await handled.unanswered()).toEqual([]);
    expect(await handled.receive(command("$old"))).toBe(false);
  });
});
