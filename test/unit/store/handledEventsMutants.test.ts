import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { HandledEvents } from "../../../src/store/handledEvents.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const received = (eventId: string) => ({ eventId, roomId: "!mgmt:x", sender: "@mod:x", type: "m.room.message", content: { body: "!help" }, originServerTs: 1 });

function insertReceivedRow(database: WardenDatabase, eventId: string, event: string): void {
  database.statement("INSERT INTO handled_events (event_id, handled_at, state, event) VALUES (?, 1, 'received', ?)").run(eventId, event);
}

describe("HandledEvents: failures and unreadable rows", () => {
  it("rejects an answer it could not record, naming the command event", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    await handled.receive(received("$command-1"));
    makeReadOnly(database);

    await expect(handled.answered("$command-1")).rejects.toThrow(/^could not record command event \$command-1 as answered: /);
    database.close();
  });

  it("leaves out a waiting command whose stored event is JSON null, a number or not JSON, and still lists the readable ones", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const handled = new HandledEvents(database);
    insertReceivedRow(database, "$null", "null");
    insertReceivedRow(database, "$number", "42");
    insertReceivedRow(database, "$cut", '{"eventId":');
    await handled.receive(received("$command-1"));

    expect(await handled.unanswered()).toEqual([received("$command-1")]);
    database.close();
  });
});
