import { afterEach, describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../src/model/waves.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { WaveStore } from "../../../src/store/waves.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const NOW = Date.parse("2026-11-26T00:00:00Z");
const opened: WardenDatabase[] = [];

function open(directory = freshDirectory()): { directory: string; database: WardenDatabase; store: WaveStore } {
  const database = WardenDatabase.open(directory);
  opened.push(database);
  return { directory, database, store: new WaveStore(database, () => NOW) };
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
    selection: { listed: ["#a:example.org"], space: "#space:example.org", empty: true },
    parameters: { block: true, purge: false, purgeAfterMs: 60_000, tags: ["x", "y"] },
    policy: "nightly",
    leftOut: [{ label: "!mgmt:example.org", roomId: "!mgmt:example.org", why: "Warden's management room" }, { label: "#gone:example.org", why: "unknown alias" }],
    status: "running",
    createdAt: NOW,
    finalNotificationSent: false,
    ...change,
  };
}

function room(roomId: string, change: Partial<WaveRoom> = {}): WaveRoom {
  return { waveId: "w-000001", roomId, phase: "main", label: roomId, name: `name of ${roomId}`, joinedMembers: 3, joinedLocalMembers: 0, state: "queued", attempts: 0, ...change };
}

describe("wave store", () => {
  it("keep a wave and its queue across a reopen, in selection order, with every field", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!c:x"), room("!a:x"), { waveId: "w-000001", roomId: "!b:x", phase: "main", label: "!b:x", state: "queued", attempts: 0 }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "failed", attempts: 3, reason: "locked", finishedAt: NOW + 5, durationMs: 5, notBefore: NOW + 1 } }]);
    await store.addRooms("w-000001", [room("!c:x", { phase: "purge", notBefore: NOW + 60_000 })]);
    await store.update("w-000001", { boardEventId: "$board", cancelledBy: "@mod:example.org", status: "cancelled" });
    database.close();
    opened.splice(opened.indexOf(database), 1);

    const again = open(directory).store;

    expect(again.get("w-000001")).toEqual(wave({ boardEventId: "$board", cancelledBy: "@mod:example.org", status: "cancelled" }));
    expect(again.rooms("w-000001").map((entry) => `${entry.phase} ${entry.roomId}`)).toEqual(["main !c:x", "main !a:x", "main !b:x", "purge !c:x"]);
    expect(again.room("w-000001", "main", "!a:x")).toEqual(room("!a:x", { state: "failed", attempts: 3, reason: "locked", finishedAt: NOW + 5, durationMs: 5, notBefore: NOW + 1 }));
    expect(again.room("w-000001", "purge", "!c:x")?.notBefore).toBe(NOW + 60_000);
    expect(again.open().map((entry) => entry.id)).toEqual(["w-000001"]);
  });

  it("find the rooms a task answers for, and the command that started a wave", async () => {
    const { store } = open();
    await store.insert(wave(), [room("!a:x", { state: "sent", taskId: "s-1" }), room("!b:x", { state: "done", taskId: "s-1" }), room("!c:x")]);

    expect(store.roomsOfTask("s-1").map((entry) => entry.roomId)).toEqual(["!a:x"]);
    expect(store.startedBy("$command")).toBe(true);
    expect(store.startedBy("$other")).toBe(false);
  });

  it("add a room only once per phase", async () => {
    const { store } = open();
    await store.insert(wave(), [room("!a:x")]);
    await store.addRooms("w-000001", [room("!a:x", { phase: "purge" })]);
    await store.addRooms("w-000001", [room("!a:x", { phase: "purge", notBefore: 1 })]);
    expect(store.rooms("w-000001").filter((entry) => entry.phase === "purge")).toHaveLength(1);
  });

  it("leave memory as it was when a write fails, and say what could not be stored", async () => {
    const { database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    makeReadOnly(database);

    await expect(store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "sent" } }])).rejects.toBeInstanceOf(StoreError);
    await expect(store.update("w-000001", { status: "finished" })).rejects.toBeInstanceOf(StoreError);
    expect(store.room("w-000001", "main", "!a:x")?.state).toBe("queued");
    expect(store.get("w-000001")?.status).toBe("running");
  });

  it("drop finished, summarized waves from memory but still show them, and prune them after 30 days", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    await store.update("w-000001", { status: "finished", finishedAt: NOW - 31 * 86_400_000, finalNotificationSent: true });
    expect(store.open()).toEqual([]);
    expect(store.get("w-000001")?.status).toBe("finished");
    expect(store.recent(5).map((entry) => entry.id)).toEqual(["w-000001"]);
    database.close();
    opened.splice(opened.indexOf(database), 1);

    const reopened = open(directory);

    expect(reopened.store.get("w-000001")).toBeUndefined();
    expect(reopened.database.statement("SELECT count(*) AS n FROM wave_rooms").get()).toEqual({ n: 0 });
  });

  it("skip a row it cannot read and name it", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x")]);
    database.statement("UPDATE waves SET parameters = 'not json'").run();
    database.close();
    opened.splice(opened.indexOf(database), 1);

    const reopened = open(directory).store;

    expect(reopened.get("w-000001")).toBeUndefined();
    expect(reopened.unreadable).toEqual(["w-000001"]);
  });

  it("keep the outcome of each step before a room's job across a reopen, and a change to it", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x"), room("!b:x")]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "sending", steps: { media: { ok: false, reason: "not served", at: NOW } } } }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { steps: { media: { ok: true, count: 4, at: NOW + 1 } } } }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!b:x", change: { steps: { media: { ok: false, reason: "not served", at: NOW + 2 } } } }]);
    await store.addRooms("w-000001", [room("!a:x", { phase: "purge", steps: { media: { ok: true, count: 0, at: NOW + 3 } } })]);
    database.close();
    opened.splice(opened.indexOf(database), 1);

    const again = open(directory).store;

    expect(again.room("w-000001", "main", "!a:x")).toEqual(room("!a:x", { state: "sending", steps: { media: { ok: true, count: 4, at: NOW + 1 } } }));
    expect(again.room("w-000001", "main", "!b:x")?.steps).toEqual({ media: { ok: false, reason: "not served", at: NOW + 2 } });
    expect(again.room("w-000001", "purge", "!a:x")?.steps).toEqual({ media: { ok: true, count: 0, at: NOW + 3 } });
  });

  it("read a room whose steps name one this Warden does not know, and skip one whose steps are not JSON", async () => {
    const { directory, database, store } = open();
    await store.insert(wave(), [room("!a:x"), room("!b:x"), room("!c:x")]);
    database.statement(`UPDATE wave_rooms SET steps = '{"media":{"ok":true,"count":2,"at":1},"later":{"ok":true,"count":1,"at":1}}' WHERE room_id = '!a:x'`).run();
    database.statement(`UPDATE wave_rooms SET steps = 'not json' WHERE room_id = '!b:x'`).run();
    database.statement(`UPDATE wave_rooms SET steps = '{"media":{"ok":"yes"}}' WHERE room_id = '!c:x'`).run();
    database.close();
    opened.splice(opened.indexOf(database), 1);

    const again = open(directory).store;

    expect(again.room("w-000001", "main", "!a:x")?.steps).toEqual({ media: { ok: true, count: 2, at: 1 } });
    expect(again.rooms("w-000001").map((entry) => entry.roomId)).toEqual(["!a:x"]);
    expect(again.unreadable).toEqual(["w-000001/!b:x", "w-000001/!c:x"]);
  });

  it("mint ids a moderator can type", () => {
    expect(open().store.newId()).toMatch(/^w-[0-9a-f]{6}$/);
  });
});
