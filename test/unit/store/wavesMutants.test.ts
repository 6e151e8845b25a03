import { afterEach, describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../src/model/waves.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { WaveStore } from "../../../src/store/waves.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const NOW = Date.parse("2026-11-26T00:00:00Z");
const DAY = 86_400_000;
const opened: WardenDatabase[] = [];

function open(directory = freshDirectory(), now = NOW): { directory: string; database: WardenDatabase; store: WaveStore } {
  const database = WardenDatabase.open(directory);
  opened.push(database);
  return { directory, database, store: new WaveStore(database, () => now) };
}

function reopen(database: WardenDatabase, directory: string, now = NOW): { database: WardenDatabase; store: WaveStore } {
  database.close();
  opened.splice(opened.indexOf(database), 1);
  return open(directory, now);
}

afterEach(() => {
  for (const database of opened.splice(0)) database.close();
});

function wave(id: string, change: Partial<WaveRecord> = {}): WaveRecord {
  return {
    id,
    kind: "purge",
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: `$command-${id}`,
    selection: { listed: [] },
    parameters: {},
    leftOut: [],
    status: "running",
    createdAt: NOW,
    finalNotificationSent: false,
    ...change,
  };
}

function room(waveId: string, roomId: string, change: Partial<WaveRoom> = {}): WaveRoom {
  return { waveId, roomId, phase: "main", label: roomId, state: "queued", attempts: 0, ...change };
}

describe("wave store: which waves it holds", () => {
  it("lists open waves oldest first, across a reopen too, and the recent ones newest first up to the limit", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-b", { createdAt: NOW - 1_000 }), []);
    await store.insert(wave("w-a", { createdAt: NOW - 2_000 }), []);
    await store.insert(wave("w-c", { createdAt: NOW - 500, status: "finished", finalNotificationSent: false }), []);
    await store.insert(wave("w-d", { createdAt: NOW - 100, status: "cancelled" }), []);

    expect(store.open().map((entry) => entry.id)).toEqual(["w-a", "w-b", "w-c", "w-d"]);
    expect(store.recent(2).map((entry) => entry.id)).toEqual(["w-d", "w-c"]);

    const again = reopen(database, directory).store;
    expect(again.open().map((entry) => entry.id)).toEqual(["w-a", "w-b", "w-c", "w-d"]);
  });

  it("keeps a finished wave whose summary is not delivered in memory and open; drops it once delivered", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x")]);
    await store.update("w-a", { status: "finished", finishedAt: NOW });
    expect(store.open().map((entry) => entry.id)).toEqual(["w-a"]);
    await store.update("w-a", { finalNotificationSent: true });
    expect(store.open()).toEqual([]);
    // Read again from the database when asked.
    expect(store.rooms("w-a").map((entry) => entry.roomId)).toEqual(["!a:x"]);
    expect(store.room("w-a", "main", "!a:x")?.state).toBe("queued");

    const again = reopen(database, directory).store;
    expect(again.open()).toEqual([]);
    expect(again.get("w-a")).toMatchObject({ status: "finished", finalNotificationSent: true, finishedAt: NOW });
  });

  it("prunes only finished, summarized waves whose end (or start) is more than 30 days ago", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-old", { status: "finished", finishedAt: NOW - 31 * DAY, finalNotificationSent: true }), []);
    await store.insert(wave("w-young", { status: "finished", finishedAt: NOW - 29 * DAY, finalNotificationSent: true }), []);
    await store.insert(wave("w-old-start", { createdAt: NOW - 31 * DAY, status: "finished", finalNotificationSent: true }), []);
    await store.insert(wave("w-long", { createdAt: NOW - 60 * DAY, status: "finished", finishedAt: NOW - DAY, finalNotificationSent: true }), []);
    await store.insert(wave("w-unsent", { status: "finished", finishedAt: NOW - 31 * DAY }), []);
    await store.insert(wave("w-running", { createdAt: NOW - 31 * DAY }), []);

    const again = reopen(database, directory).store;

    expect(again.get("w-old")).toBeUndefined();
    expect(again.get("w-old-start")).toBeUndefined();
    expect(again.get("w-young")).toBeDefined();
    expect(again.get("w-long")).toBeDefined();
    expect(again.get("w-unsent")).toBeDefined();
    expect(again.get("w-running")).toBeDefined();
  });

  it("knows no wave it was never given", () => {
    const { store } = open();
    expect(store.get("w-none")).toBeUndefined();
    expect(store.rooms("w-none")).toEqual([]);
    expect(store.room("w-none", "main", "!a:x")).toBeUndefined();
    expect(store.recent(5)).toEqual([]);
  });
});

describe("wave store: changes", () => {
  it("refuses changes to a wave or room it does not hold, naming them", async () => {
    const { store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x")]);

    await expect(store.update("w-none", { status: "finished" })).rejects.toThrow("wave w-none is not in the store");
    await expect(store.updateRooms("w-none", [])).rejects.toThrow("wave w-none is not in the store");
    await expect(store.addRooms("w-none", [])).rejects.toThrow("wave w-none is not in the store");
    await expect((async () => store.updateRooms("w-a", [{ phase: "purge", roomId: "!a:x", change: { state: "sent" } }]))()).rejects.toThrow("room !a:x (purge) is not in wave w-a");
    expect(store.room("w-a", "main", "!a:x")?.state).toBe("queued");
  });

  it("changes only a room's own fields, never which room or wave it is", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x"), room("w-a", "!b:x")]);
    const changed = await store.updateRooms("w-a", [{ phase: "main", roomId: "!a:x", change: { waveId: "w-b", roomId: "!z:x", phase: "purge", state: "sent", taskId: "t-1" } }]);

    expect(changed).toEqual([room("w-a", "!a:x", { state: "sent", taskId: "t-1" })]);
    const again = reopen(database, directory).store;
    expect(again.rooms("w-a")).toEqual([room("w-a", "!a:x", { state: "sent", taskId: "t-1" }), room("w-a", "!b:x")]);
  });

  it("keeps the fields a change leaves out, and a wave's new policy", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x", { notBefore: NOW, reason: "waiting", taskId: "t-1" })]);
    await store.updateRooms("w-a", [{ phase: "main", roomId: "!a:x", change: { state: "queued", attempts: 0 } }]);
    await store.update("w-a", { policy: "p" });

    const again = reopen(database, directory).store;
    expect(again.room("w-a", "main", "!a:x")).toEqual(room("w-a", "!a:x", { notBefore: NOW, reason: "waiting", taskId: "t-1" }));
    expect(again.get("w-a")?.policy).toBe("p");
  });

  it("adds rooms after a reopen behind the ones already there", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x"), room("w-a", "!b:x")]);
    const again = reopen(database, directory);
    await again.store.addRooms("w-a", [room("w-a", "!a:x", { phase: "purge" })]);
    await again.store.addRooms("w-a", [room("w-a", "!b:x", { phase: "purge" }), room("w-a", "!a:x", { phase: "purge" })]);

    const third = reopen(again.database, directory).store;
    expect(third.rooms("w-a").map((entry) => `${entry.phase} ${entry.roomId}`)).toEqual(["main !a:x", "main !b:x", "purge !a:x", "purge !b:x"]);
  });

  it("finds a task's rooms across waves, read again after a reopen, leaving out settled ones", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x", { state: "sent", taskId: "t-1" }), room("w-a", "!b:x", { state: "cancelled", taskId: "t-1" })]);
    await store.insert(wave("w-b"), [room("w-b", "!a:x", { state: "sending", taskId: "t-1" }), room("w-b", "!c:x", { state: "sent", taskId: "t-2" })]);

    const again = reopen(database, directory).store;
    expect(again.roomsOfTask("t-1").map((entry) => `${entry.waveId} ${entry.roomId}`)).toEqual(["w-a !a:x", "w-b !a:x"]);
    expect(again.roomsOfTask("t-3")).toEqual([]);
  });
});

describe("wave store: rows it cannot read", () => {
  it("names a room row it cannot read and keeps the rest of its wave", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x"), room("w-a", "!b:x")]);
    database.statement("UPDATE wave_rooms SET state = 'exploded' WHERE room_id = '!a:x'").run();

    const again = reopen(database, directory).store;
    expect(again.rooms("w-a").map((entry) => entry.roomId)).toEqual(["!b:x"]);
    expect(again.unreadable).toEqual(["w-a/!a:x"]);
    await again.addRooms("w-a", [room("w-a", "!c:x", { phase: "purge" })]);
    expect(again.rooms("w-a").map((entry) => entry.roomId)).toEqual(["!b:x", "!c:x"]);
  });

  it("names an unreadable wave once however often it is asked for", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a", { status: "finished", finalNotificationSent: true }), []);
    database.statement("UPDATE waves SET kind = 'explode'").run();

    const again = reopen(database, directory).store;
    expect(again.get("w-a")).toBeUndefined();
    expect(again.get("w-a")).toBeUndefined();
    expect(again.unreadable).toEqual(["w-a"]);
  });

  it("reads a wave whose selection, left-out list and flags are stored", async () => {
    const { directory, database, store } = open();
    const full = wave("w-a", {
      selection: { listed: ["#a:x"], matching: "spam", space: "#s:x", empty: false, all: true },
      leftOut: [{ label: "#gone:x", why: "unknown" }],
      parameters: { n: 1, b: false, s: "t", list: ["a"] },
      status: "finished",
      finishedAt: NOW + 1,
      cancelledBy: "@c:x",
      boardEventId: "$b",
      finalNotificationSent: true,
    });
    await store.insert(full, []);

    const again = reopen(database, directory).store;
    expect(again.get("w-a")).toEqual(full);
  });
});

describe("wave store: what it keeps in memory", () => {
  it("leaves a finished, summarized wave out of open() even after !status read it again", async () => {
    const { store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x")]);
    await store.insert(wave("w-b"), []);
    await store.update("w-a", { status: "finished", finishedAt: NOW, finalNotificationSent: true });

    expect(store.get("w-a")?.status).toBe("finished");
    expect(store.open().map((entry) => entry.id)).toEqual(["w-b"]);
  });

  it("lets go of a wave once it is finished and summarized, and of no other", async () => {
    const { store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x", { state: "sent", taskId: "t-1" })]);
    await store.insert(wave("w-b"), []);
    expect(store.held()).toBe(2);

    await store.update("w-a", { boardEventId: "$board" });
    await store.update("w-b", { status: "finished", finishedAt: NOW });
    expect(store.held()).toBe(2);
    // A running wave's rooms are still found by their task after the wave changed.
    expect(store.roomsOfTask("t-1").map((entry) => entry.roomId)).toEqual(["!a:x"]);

    await store.update("w-b", { finalNotificationSent: true });
    expect(store.held()).toBe(1);
  });

  it("changes a wave it no longer holds in memory, reading it from the database", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a", { status: "finished", finishedAt: NOW, finalNotificationSent: true }), [room("w-a", "!a:x", { state: "done" })]);
    const again = reopen(database, directory);
    expect(again.store.held()).toBe(0);

    await again.store.update("w-a", { boardEventId: "$late" });
    await again.store.updateRooms("w-a", [{ phase: "main", roomId: "!a:x", change: { reason: "noted" } }]);
    const third = reopen(again.database, directory);
    expect(third.store.held()).toBe(0);
    await third.store.addRooms("w-a", [room("w-a", "!a:x", { phase: "purge" })]);

    const fourth = reopen(third.database, directory).store;
    expect(fourth.get("w-a")?.boardEventId).toBe("$late");
    expect(fourth.rooms("w-a").map((entry) => `${entry.phase} ${entry.roomId} ${entry.reason ?? "-"}`)).toEqual(["main !a:x noted", "purge !a:x -"]);
  });

  it("adds several rooms at once in the order given, behind the ones already there", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x"), room("w-a", "!b:x"), room("w-a", "!c:x")]);
    await store.addRooms("w-a", [room("w-a", "!c:x", { phase: "purge" }), room("w-a", "!a:x", { phase: "purge" }), room("w-a", "!b:x", { phase: "purge" })]);

    const again = reopen(database, directory).store;
    expect(again.rooms("w-a").map((entry) => `${entry.phase} ${entry.roomId}`)).toEqual(["main !a:x", "main !b:x", "main !c:x", "purge !c:x", "purge !a:x", "purge !b:x"]);
  });

  it("leaves a wave it cannot read out of the recent ones", async () => {
    const { directory, database, store } = open();
    await store.insert(wave("w-a", { createdAt: NOW - 2 }), []);
    await store.insert(wave("w-b", { createdAt: NOW - 1 }), []);
    database.statement("UPDATE waves SET kind = 'explode' WHERE id = 'w-b'").run();

    const again = reopen(database, directory).store;
    expect(again.recent(5).map((entry) => entry.id)).toEqual(["w-a"]);
  });

  it("gives a new wave an id no wave in the store has", async () => {
    const { database } = open();
    const candidates = ["w-aaaaaa", "w-aaaaaa", "w-bbbbbb"];
    const store = new WaveStore(database, () => NOW, () => candidates.shift() ?? "w-none");
    await store.insert(wave(store.newId()), []);
    expect(store.get("w-aaaaaa")).toBeDefined();

    expect(store.newId()).toBe("w-bbbbbb");
  });

  it("makes ids of the form w- and six hex digits by default", () => {
    const { store } = open();
    expect(store.newId()).toMatch(/^w-[0-9a-f]{6}$/);
  });
});

describe("wave store: a failed write names what it could not record", () => {
  it.each([
    ["a new wave", "wave w-new", (store: WaveStore) => store.insert(wave("w-new"), [room("w-new", "!n:x")])],
    ["a wave's change", "the change to wave w-a", (store: WaveStore) => store.update("w-a", { boardEventId: "$b" })],
    ["a room's change", "the change to 1 room(s) of wave w-a", (store: WaveStore) => store.updateRooms("w-a", [{ phase: "main", roomId: "!a:x", change: { state: "sent" } }])],
    ["rooms added", "2 room(s) added to wave w-a", (store: WaveStore) => store.addRooms("w-a", [room("w-a", "!a:x", { phase: "purge" }), room("w-a", "!b:x", { phase: "purge" })])],
  ])("%s", async (_name, what, write) => {
    const { database, store } = open();
    await store.insert(wave("w-a"), [room("w-a", "!a:x")]);
    makeReadOnly(database);

    await expect(write(store)).rejects.toThrow(`could not record ${what}: `);
  });

  it("the removal of old waves at start", () => {
    const { database } = open();
    makeReadOnly(database);

    expect(() => new WaveStore(database, () => NOW)).toThrow("could not record the removal of old waves: ");
  });
});
