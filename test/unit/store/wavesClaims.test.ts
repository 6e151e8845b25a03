import { afterEach, describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../src/model/waves.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { WaveStore } from "../../../src/store/waves.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const NOW = Date.parse("2026-12-01T00:00:00Z");
const opened: WardenDatabase[] = [];

function open(directory = freshDirectory()): { directory: string; database: WardenDatabase; store: WaveStore } {
  const database = WardenDatabase.open(directory);
  opened.push(database);
  return { directory, database, store: new WaveStore(database, () => NOW) };
}

function reopen(directory: string, database: WardenDatabase): WaveStore {
  database.close();
  opened.splice(opened.indexOf(database), 1);
  return open(directory).store;
}

afterEach(() => {
  for (const database of opened.splice(0)) database.close();
});

function wave(change: Partial<WaveRecord> = {}): WaveRecord {
  return {
    id: "w-000001",
    kind: "shutdown",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    selection: { listed: ["#a:example.org"] },
    parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000 },
    leftOut: [],
    status: "running",
    createdAt: NOW,
    finalNotificationSent: false,
    ...change,
  };
}

function room(roomId: string, change: Partial<WaveRoom> = {}): WaveRoom {
  return { waveId: "w-000001", roomId, phase: "main", label: roomId, state: "queued", attempts: 0, ...change };
}

describe("wave store: a wave without a board, the end of its main phase told, each send's id", () => {
  it("keeps board: false, mainPhaseNotified and a room's send id across a reopen; a wave with a board has neither flag", async () => {
    const { directory, database, store } = open();
    await store.insert(wave({ board: false }), [room("!a:x")]);
    await store.insert(wave({ id: "w-000002" }), [room("!b:x", { waveId: "w-000002" })]);
    await store.update("w-000001", { mainPhaseNotified: true });
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "sending", attempts: 1, sendId: "1-abcdef01" } }]);

    const again = reopen(directory, database);

    expect(again.get("w-000001")).toEqual(wave({ board: false, mainPhaseNotified: true }));
    expect(again.get("w-000002")).toEqual(wave({ id: "w-000002" }));
    expect(again.room("w-000001", "main", "!a:x")).toEqual(room("!a:x", { state: "sending", attempts: 1, sendId: "1-abcdef01" }));
    expect(again.room("w-000002", "main", "!b:x")?.sendId).toBeUndefined();
  });
});

describe("wave store: updateQueued changes a room only while it is queued in a running wave", () => {
  it("claims a queued room, in memory and in the database", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x")]);

    const claimed = await store.updateQueued("w-000001", "main", "!a:x", { state: "sending", attempts: 1, sendId: "1-00" });

    expect(claimed).toEqual(room("!a:x", { state: "sending", attempts: 1, sendId: "1-00" }));
    expect(store.room("w-000001", "main", "!a:x")).toEqual(claimed);
    expect(reopen(directory, database).room("w-000001", "main", "!a:x")).toEqual(claimed);
  });

  it.each([
    ["a room already being sent", { state: "sending" as const }, {}],
    ["a cancelled room", { state: "cancelled" as const }, {}],
    ["a room of a cancelled wave", {}, { status: "cancelled" as const }],
    ["a room of a finished wave", {}, { status: "finished" as const }],
  ])("writes nothing for %s and answers undefined", async (_label, roomChange, waveChange) => {
    const { directory, database, store } = open();
    await store.insert(wave(waveChange), [room("!a:x", roomChange)]);

    expect(await store.updateQueued("w-000001", "main", "!a:x", { state: "sending", attempts: 1 })).toBeUndefined();

    expect(store.room("w-000001", "main", "!a:x")).toEqual(room("!a:x", roomChange));
    expect(reopen(directory, database).room("w-000001", "main", "!a:x")).toEqual(room("!a:x", roomChange));
  });

  it("answers undefined for a room or a wave it does not know", async () => {
    const { store } = open();
    await store.insert(wave(), [room("!a:x")]);
    expect(await store.updateQueued("w-000001", "purge", "!a:x", { state: "sending" })).toBeUndefined();
    expect(await store.updateQueued("w-nothere", "main", "!a:x", { state: "sending" })).toBeUndefined();
  });

  it("the write itself is the check: a room the database no longer holds as queued is not written, nor changed in memory", async () => {
    const { database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    // Another writer (a second connection, a hand edit) moved it behind the store's back.
    database.statement(`UPDATE wave_rooms SET state = 'cancelled' WHERE room_id = '!a:x'`).run();

    expect(await store.updateQueued("w-000001", "main", "!a:x", { state: "sending" })).toBeUndefined();
    expect(store.room("w-000001", "main", "!a:x")?.state).toBe("queued");
  });

  it("a failed write is a rejection naming the room, and changes nothing in memory", async () => {
    const { database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    makeReadOnly(database);

    await expect(store.updateQueued("w-000001", "main", "!a:x", { state: "sending" })).rejects.toThrow(StoreError);
    await expect(store.updateQueued("w-000001", "main", "!a:x", { state: "sending" })).rejects.toThrow(/room !a:x \(main\) of wave w-000001/);
    expect(store.room("w-000001", "main", "!a:x")?.state).toBe("queued");
  });
});

describe("wave store: cancel", () => {
  it("cancels the wave and every queued room in one write, leaves the others, and answers the rooms cancelled", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x"), room("!b:x", { state: "sent", taskId: "s-1", attempts: 1 }), room("!c:x", { phase: "purge", notBefore: NOW + 5 })]);

    const cancelled = await store.cancel("w-000001", "@mod:example.org", "cancelled by @mod:example.org before it was sent", NOW + 1);

    const expected = [
      room("!a:x", { state: "cancelled", reason: "cancelled by @mod:example.org before it was sent", finishedAt: NOW + 1 }),
      room("!c:x", { phase: "purge", notBefore: NOW + 5, state: "cancelled", reason: "cancelled by @mod:example.org before it was sent", finishedAt: NOW + 1 }),
    ];
    expect(cancelled).toEqual(expected);
    const again = reopen(directory, database);
    expect(again.get("w-000001")).toEqual(wave({ status: "cancelled", cancelledBy: "@mod:example.org" }));
    expect(again.rooms("w-000001")).toEqual([expected[0], room("!b:x", { state: "sent", taskId: "s-1", attempts: 1 }), expected[1]]);
  });

  it("does nothing to a wave that is not running, or unknown", async () => {
    const { store } = open();
    await store.insert(wave({ status: "finished" }), [room("!a:x")]);
    expect(await store.cancel("w-000001", "@mod:example.org", "why", NOW)).toBeUndefined();
    expect(await store.cancel("w-nothere", "@mod:example.org", "why", NOW)).toBeUndefined();
    expect(store.get("w-000001")?.status).toBe("finished");
    expect(store.room("w-000001", "main", "!a:x")?.state).toBe("queued");
  });

  it("a failed cancel changes nothing, neither the wave nor its rooms", async () => {
    const { database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    makeReadOnly(database);

    await expect(store.cancel("w-000001", "@mod:example.org", "why", NOW)).rejects.toThrow(/the cancel of wave w-000001/);
    expect(store.get("w-000001")?.status).toBe("running");
    expect(store.room("w-000001", "main", "!a:x")?.state).toBe("queued");
  });
});
