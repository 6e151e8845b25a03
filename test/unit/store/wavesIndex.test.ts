import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { FINAL_WAVE_ROOM_STATES, WAVE_ROOM_STATES, WAVE_STATUSES, type WavePhase, type WaveRecord, type WaveRoom, type WaveRoomState, type WaveStatus } from "../../../src/model/waves.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { StoreError } from "../../../src/store/errors.js";
import { WaveStore, type RoomTally } from "../../../src/store/waves.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const NOW = Date.parse("2026-11-26T00:00:00Z");
const WAVES = ["w-000001", "w-000002", "w-000003"];
const ROOMS = ["!a:x", "!b:x", "!c:x", "!d:x"];
const TASKS = ["s-1", "s-2", "s-3"];
const opened: WardenDatabase[] = [];

afterEach(() => {
  for (const database of opened.splice(0)) database.close();
});

function openDatabase(): WardenDatabase {
  const database = WardenDatabase.open(freshDirectory());
  opened.push(database);
  return database;
}

function wave(id: string, change: Partial<WaveRecord> = {}): WaveRecord {
  return {
    id,
    kind: "shutdown",
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: `$command-${id}`,
    selection: { listed: [] },
    parameters: {},
    leftOut: [],
    status: "running",
    // Distinct per wave, so a restart loads them in a known order.
    createdAt: NOW + WAVES.indexOf(id),
    finalNotificationSent: false,
    ...change,
  };
}

function room(waveId: string, roomId: string, change: Partial<WaveRoom> = {}): WaveRoom {
  return { waveId, roomId, phase: "main", label: roomId, state: "queued", attempts: 0, ...change };
}

function key(entry: { readonly phase: WavePhase; readonly roomId: string }): string {
  return `${entry.phase} ${entry.roomId}`;
}

function bruteTally(rooms: Iterable<WaveRoom>): RoomTally {
  let unfinished = 0;
  let mainUnfinished = 0;
  let queued = 0;
  for (const entry of rooms) {
    if (FINAL_WAVE_ROOM_STATES.has(entry.state)) continue;
    unfinished++;
    if (entry.phase === "main") mainUnfinished++;
    if (entry.state === "queued") queued++;
  }
  return { unfinished, mainUnfinished, queued };
}

/**
 * The store's content as plain maps, and which waves it holds in memory in which order; the
 * answers are what a scan of every room of every wave held gave before the store kept an index.
 */
class BruteForce {
  readonly waves = new Map<string, { wave: WaveRecord; readonly rooms: Map<string, WaveRoom> }>();
  loaded: string[] = [];

  /** A store method read the wave in, if the database has it. */
  touch(id: string): void {
    if (!this.loaded.includes(id) && this.waves.has(id)) this.loaded.push(id);
  }

  roomsOfTask(taskId: string): WaveRoom[] {
    return this.loaded.flatMap((id) => [...(this.waves.get(id)?.rooms.values() ?? [])].filter((entry) => entry.taskId === taskId && !FINAL_WAVE_ROOM_STATES.has(entry.state)));
  }

  restart(): void {
    this.loaded = [...this.waves.values()]
      .filter(({ wave: record }) => record.status !== "finished" || !record.finalNotificationSent)
      .sort((a, b) => a.wave.createdAt - b.wave.createdAt)
      .map(({ wave: record }) => record.id);
  }
}

function expectSame(store: WaveStore, model: BruteForce): void {
  for (const taskId of TASKS) expect(store.roomsOfTask(taskId)).toEqual(model.roomsOfTask(taskId));
  expect(store.held()).toBe(model.loaded.length);
  for (const id of model.loaded) {
    const rooms = [...(model.waves.get(id)?.rooms.values() ?? [])];
    expect(store.rooms(id)).toEqual(rooms);
    expect(store.tally(id)).toEqual(bruteTally(rooms));
    expectSameQueue(store, id, rooms);
  }
}

/** The engine's indexes: queued rooms in selection order, the queued with a notBefore, the rooms in flight. */
function expectSameQueue(store: WaveStore, id: string, rooms: readonly WaveRoom[]): void {
  const keys = (list: Iterable<WaveRoom>): string[] => [...list].map(key).sort();
  const queued = rooms.filter((entry) => entry.state === "queued");
  const waiting = queued.filter((entry) => entry.notBefore !== undefined);
  for (const phase of ["main", "purge"] as const) expect([...store.eachQueued(id, phase)]).toEqual(queued.filter((entry) => entry.phase === phase));
  expect(keys(store.eachWaiting(id))).toEqual(keys(waiting));
  expect(store.waitingCount(id)).toBe(waiting.length);
  expect(keys(store.eachBusy(id))).toEqual(keys(rooms.filter((entry) => entry.state === "sending" || entry.state === "sent")));
}

const state = fc.constantFrom<WaveRoomState>(...WAVE_ROOM_STATES);
const phase = fc.constantFrom<WavePhase>("main", "purge");
const roomChange = fc.record({ state, taskId: fc.constantFrom(...TASKS), notBefore: fc.constantFrom(NOW, NOW + 1) }, { requiredKeys: [] });
const newRooms = fc.uniqueArray(
  fc.record({ roomId: fc.constantFrom(...ROOMS), phase, change: fc.record({ state, taskId: fc.constantFrom(...TASKS) }, { requiredKeys: ["state"] }) }),
  { selector: key, maxLength: 6 },
);
/** One write in six fails (the database turned read-only for it). */
const failing = fc.integer({ min: 0, max: 5 }).map((draw) => draw === 0);
const waveId = fc.constantFrom(...WAVES);

const operation = fc.oneof(
  fc.record({ op: fc.constant("insert" as const), id: waveId, status: fc.constantFrom<WaveStatus>("running", "running", "cancelled"), rooms: newRooms, failing }),
  fc.record({ op: fc.constant("updateRooms" as const), id: waveId, picks: fc.array(fc.record({ pick: fc.nat(), change: roomChange }), { minLength: 1, maxLength: 3 }), failing }),
  fc.record({ op: fc.constant("updateRooms" as const), id: waveId, picks: fc.array(fc.record({ pick: fc.nat(), change: roomChange }), { minLength: 1, maxLength: 3 }), failing }),
  fc.record({ op: fc.constant("updateQueued" as const), id: waveId, pick: fc.nat(), change: roomChange, failing }),
  fc.record({ op: fc.constant("cancel" as const), id: waveId, failing }),
  fc.record({ op: fc.constant("addRooms" as const), id: waveId, rooms: newRooms, failing }),
  fc.record({ op: fc.constant("update" as const), id: waveId, status: fc.constantFrom<WaveStatus>(...WAVE_STATUSES), notified: fc.boolean(), failing }),
  fc.record({ op: fc.constant("get" as const), id: waveId }),
  fc.record({ op: fc.constant("restart" as const) }),
);


describe("WaveStore indexes", () => {
  it("answer roomsOfTask and tally as a scan of every room would, over random writes, failed writes, waves leaving memory and restarts", async () => {
    // One database for every run, emptied at its start: opening one per run would be most of the test's time.
    const database = openDatabase();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
        database.statement("DELETE FROM waves").run();
        let store = new WaveStore(database, () => NOW);
        const model = new BruteForce();
        for (const step of operations) {
          if (step.op === "restart") {
            store = new WaveStore(database, () => NOW);
            model.restart();
            expectSame(store, model);
            continue;
          }
          // An insert reads nothing: a wave already written stays out of memory when its id is refused.
          if (step.op !== "insert") model.touch(step.id);
          const known = model.waves.get(step.id);
          const roomsOf = (): WaveRoom[] => [...(known?.rooms.values() ?? [])];
          const failed = "failing" in step && step.failing;
          // The stores write synchronously when called: the database is read-only for exactly this write.
          const outcome = async (write: () => Promise<unknown>): Promise<"stored" | "rejected"> => {
            if (failed) database.statement("PRAGMA query_only = ON").run();
            const written = write();
            if (failed) database.statement("PRAGMA query_only = OFF").run();
            return written.then(
              () => "stored" as const,
              () => "rejected" as const,
            );
          };
          let result: "stored" | "rejected" = "stored";
          // What the write does when it succeeds; nothing of it happens when it fails.
          let apply = (): void => undefined;
          if (step.op === "get") {
            store.get(step.id);
          } else if (step.op === "insert") {
            const record = wave(step.id, { status: step.status });
            const rooms = step.rooms.map((entry) => room(step.id, entry.roomId, { phase: entry.phase, ...entry.change }));
            result = await outcome(() => store.insert(record, rooms));
            expect(result).toBe(failed || known !== undefined ? "rejected" : "stored");
            apply = () => {
              model.waves.set(step.id, { wave: record, rooms: new Map(rooms.map((entry) => [key(entry), entry])) });
              model.loaded.push(step.id);
            };
          } else if (known === undefined) {
            // Every write to a wave the store does not have is refused or does nothing.
            if (step.op === "update") result = await outcome(() => store.update(step.id, { status: step.status }));
            else if (step.op === "cancel") expect(await store.cancel(step.id, "@mod:x", "cancelled", NOW)).toBeUndefined();
            else if (step.op === "addRooms") result = await outcome(() => store.addRooms(step.id, []));
            if (step.op === "update" || step.op === "addRooms") expect(result).toBe("rejected");
          } else if (roomsOf().length === 0 && (step.op === "updateRooms" || step.op === "updateQueued")) {
            // No room to pick: the store is only read, as the model counted it read above.
            store.get(step.id);
          } else if (step.op === "updateRooms") {
            const rooms = roomsOf();
            // Each change is made to the room as it was before the call, so of two changes to one room the second wins.
            const changes = step.picks.map(({ pick, change }) => {
              const current = rooms[pick % rooms.length] as WaveRoom;
              return { phase: current.phase, roomId: current.roomId, change, next: { ...current, ...change } };
            });
            result = await outcome(() => store.updateRooms(step.id, changes));
            apply = () => {
              for (const { next } of changes) known.rooms.set(key(next), next);
            };
          } else if (step.op === "updateQueued") {
            const rooms = roomsOf();
            const current = rooms[step.pick % rooms.length] as WaveRoom;
            const writes = current.state === "queued" && known.wave.status === "running";
            result = await outcome(() => store.updateQueued(step.id, current.phase, current.roomId, step.change));
            expect(result).toBe(failed && writes ? "rejected" : "stored");
            if (writes) apply = () => known.rooms.set(key(current), { ...current, ...step.change });
          } else if (step.op === "cancel") {
            const writes = known.wave.status === "running";
            result = await outcome(() => store.cancel(step.id, "@mod:x", "cancelled", NOW));
            if (writes) {
              apply = () => {
                known.wave = { ...known.wave, status: "cancelled", cancelledBy: "@mod:x" };
                for (const entry of roomsOf()) if (entry.state === "queued") known.rooms.set(key(entry), { ...entry, state: "cancelled", reason: "cancelled", finishedAt: NOW });
              };
            }
          } else if (step.op === "addRooms") {
            const rooms = step.rooms.map((entry) => room(step.id, entry.roomId, { phase: entry.phase, ...entry.change }));
            result = await outcome(() => store.addRooms(step.id, rooms));
            apply = () => {
              for (const entry of rooms) if (!known.rooms.has(key(entry))) known.rooms.set(key(entry), entry);
            };
          } else {
            result = await outcome(() => store.update(step.id, { status: step.status, finalNotificationSent: step.notified }));
            expect(result).toBe(failed ? "rejected" : "stored");
            apply = () => {
              known.wave = { ...known.wave, status: step.status, finalNotificationSent: step.notified };
              if (step.status === "finished" && step.notified) model.loaded = model.loaded.filter((id) => id !== step.id);
            };
          }
          if (result === "stored" && !failed) apply();
          expectSame(store, model);
        }
      }),
      {
        numRuns: 150,
        examples: [
          // CI's run of 2026-12-07: a pick from a wave with no rooms wrote nothing, and read nothing in either.
          [
            [
              { op: "insert", id: "w-000002", status: "running", rooms: [], failing: false },
              { op: "update", id: "w-000002", status: "finished", notified: true, failing: false },
              { op: "updateRooms", id: "w-000002", picks: [{ pick: 0, change: {} }], failing: true },
              { op: "updateRooms", id: "w-000001", picks: [{ pick: 0, change: {} }], failing: true },
            ],
          ],
          // And an id refused because a finished wave has it.
          [
            [
              { op: "insert", id: "w-000001", status: "running", rooms: [], failing: false },
              { op: "update", id: "w-000001", status: "finished", notified: true, failing: false },
              { op: "insert", id: "w-000001", status: "running", rooms: [], failing: false },
              { op: "get", id: "w-000002" },
            ],
          ],
        ],
      },
    );
  });

  it("list a task's rooms by wave in the order the waves were loaded, each in selection order, whatever order they took the task in", async () => {
    const store = new WaveStore(openDatabase(), () => NOW);
    await store.insert(wave("w-000001"), [room("w-000001", "!a:x"), room("w-000001", "!b:x"), room("w-000001", "!c:x")]);
    await store.insert(wave("w-000002"), [room("w-000002", "!a:x"), room("w-000002", "!b:x")]);
    await store.updateRooms("w-000002", [{ phase: "main", roomId: "!b:x", change: { state: "sent", taskId: "s-1" } }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!c:x", change: { state: "sent", taskId: "s-1" } }]);
    await store.addRooms("w-000001", [room("w-000001", "!c:x", { phase: "purge", state: "sent", taskId: "s-1" })]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "sending", taskId: "s-1" } }]);

    expect(store.roomsOfTask("s-1").map((entry) => `${entry.waveId} ${key(entry)}`)).toEqual([
      "w-000001 main !a:x",
      "w-000001 main !c:x",
      "w-000001 purge !c:x",
      "w-000002 main !b:x",
    ]);

    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!c:x", change: { state: "done" } }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { taskId: "s-2" } }]);
    expect(store.roomsOfTask("s-1").map((entry) => `${entry.waveId} ${key(entry)}`)).toEqual(["w-000001 purge !c:x", "w-000002 main !b:x"]);
    expect(store.roomsOfTask("s-2").map((entry) => `${entry.waveId} ${key(entry)}`)).toEqual(["w-000001 main !a:x"]);
    expect(store.roomsOfTask("s-3")).toEqual([]);
  });

  it("forget a wave's rooms when the wave leaves memory, and find them again once it is read back, after the others", async () => {
    const store = new WaveStore(openDatabase(), () => NOW);
    await store.insert(wave("w-000001"), [room("w-000001", "!a:x", { state: "sent", taskId: "s-1" })]);
    await store.insert(wave("w-000002"), [room("w-000002", "!a:x", { state: "sent", taskId: "s-1" })]);
    await store.update("w-000001", { status: "finished", finalNotificationSent: true });

    expect(store.roomsOfTask("s-1").map((entry) => entry.waveId)).toEqual(["w-000002"]);

    expect(store.tally("w-000001")).toEqual({ unfinished: 1, mainUnfinished: 1, queued: 0 });
    expect(store.roomsOfTask("s-1").map((entry) => entry.waveId)).toEqual(["w-000002", "w-000001"]);
  });

  it("count the rooms not final, those of the main phase and the queued ones with every write", async () => {
    const store = new WaveStore(openDatabase(), () => NOW);
    await store.insert(wave("w-000001"), [room("w-000001", "!a:x"), room("w-000001", "!b:x"), room("w-000001", "!c:x", { state: "skipped" })]);
    expect(store.tally("w-000001")).toEqual({ unfinished: 2, mainUnfinished: 2, queued: 2 });

    await store.updateQueued("w-000001", "main", "!a:x", { state: "sending", attempts: 1 });
    expect(store.tally("w-000001")).toEqual({ unfinished: 2, mainUnfinished: 2, queued: 1 });
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "done" } }]);
    await store.addRooms("w-000001", [room("w-000001", "!a:x", { phase: "purge", notBefore: NOW + 60_000 })]);
    expect(store.tally("w-000001")).toEqual({ unfinished: 2, mainUnfinished: 1, queued: 2 });

    await store.cancel("w-000001", "@mod:x", "cancelled", NOW);
    expect(store.tally("w-000001")).toEqual({ unfinished: 0, mainUnfinished: 0, queued: 0 });
    expect(store.tally("w-000009")).toEqual({ unfinished: 0, mainUnfinished: 0, queued: 0 });
  });

  it("count and index the rooms read back after a restart as they were written", async () => {
    const directory = freshDirectory();
    const first = WardenDatabase.open(directory);
    const store = new WaveStore(first, () => NOW);
    await store.insert(wave("w-000001"), [room("w-000001", "!a:x", { state: "sent", taskId: "s-1" }), room("w-000001", "!b:x"), room("w-000001", "!c:x", { state: "failed", taskId: "s-1" })]);
    await store.addRooms("w-000001", [room("w-000001", "!a:x", { phase: "purge", state: "sending", taskId: "s-1" })]);
    first.close();

    const database = WardenDatabase.open(directory);
    opened.push(database);
    const again = new WaveStore(database, () => NOW);

    expect(again.tally("w-000001")).toEqual({ unfinished: 3, mainUnfinished: 2, queued: 1 });
    expect(again.roomsOfTask("s-1").map(key)).toEqual(["main !a:x", "purge !a:x"]);
  });

  it("keep the counts and the task index as they were when a write fails", async () => {
    const database = openDatabase();
    const store = new WaveStore(database, () => NOW);
    await store.insert(wave("w-000001"), [room("w-000001", "!a:x", { state: "sent", taskId: "s-1" }), room("w-000001", "!b:x")]);
    makeReadOnly(database);

    await expect(store.updateRooms("w-000001", [{ phase: "main", roomId: "!a:x", change: { state: "done" } }])).rejects.toBeInstanceOf(StoreError);
    await expect(store.updateRooms("w-000001", [{ phase: "main", roomId: "!b:x", change: { state: "sent", taskId: "s-2" } }])).rejects.toBeInstanceOf(StoreError);
    await expect(store.updateQueued("w-000001", "main", "!b:x", { state: "sending" })).rejects.toBeInstanceOf(StoreError);
    await expect(store.cancel("w-000001", "@mod:x", "cancelled", NOW)).rejects.toBeInstanceOf(StoreError);
    await expect(store.addRooms("w-000001", [room("w-000001", "!a:x", { phase: "purge", state: "sent", taskId: "s-1" })])).rejects.toBeInstanceOf(StoreError);
    await expect(store.update("w-000001", { status: "finished", finalNotificationSent: true })).rejects.toBeInstanceOf(StoreError);

    expect(store.tally("w-000001")).toEqual({ unfinished: 2, mainUnfinished: 2, queued: 1 });
    expect(store.roomsOfTask("s-1").map(key)).toEqual(["main !a:x"]);
    expect(store.roomsOfTask("s-2")).toEqual([]);
    expect(store.held()).toBe(1);
  });
});

describe("WaveStore's queue of a wave", () => {
  it("lists a room queued again in its place in the selection, before the rooms after it and after those before it", async () => {
    const store = new WaveStore(openDatabase(), () => NOW);
    const rooms = ["!1:x", "!2:x", "!3:x", "!4:x", "!5:x"].map((id) => room("w-000001", id));
    await store.insert(wave("w-000001"), rooms);
    await store.updateRooms("w-000001", ["!1:x", "!2:x", "!3:x", "!4:x"].map((roomId) => ({ phase: "main" as const, roomId, change: { state: "sending" as const } })));

    // !4 first, then !2: each is queued again behind !5, which was queued after both.
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!4:x", change: { state: "queued", notBefore: NOW + 5 } }]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!2:x", change: { state: "queued" } }]);

    expect([...store.eachQueued("w-000001", "main")].map((entry) => entry.roomId)).toEqual(["!2:x", "!4:x", "!5:x"]);
    expect([...store.eachWaiting("w-000001")].map((entry) => entry.roomId)).toEqual(["!4:x"]);
    expect([...store.eachBusy("w-000001")].map((entry) => entry.roomId).sort()).toEqual(["!1:x", "!3:x"]);

    // Sent again and done, !2 leaves the queue; a purge phase added later comes after every room.
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!2:x", change: { state: "done" } }]);
    await store.addRooms("w-000001", [room("w-000001", "!1:x", { phase: "purge" })]);
    expect([...store.eachQueued("w-000001", "main")].map((entry) => entry.roomId)).toEqual(["!4:x", "!5:x"]);
    expect([...store.eachQueued("w-000001", "purge")].map((entry) => key(entry))).toEqual(["purge !1:x"]);
    expect(store.waitingCount("w-000001")).toBe(1);
  });

  it("starts again in order once every room queued in order has left it", async () => {
    const store = new WaveStore(openDatabase(), () => NOW);
    await store.insert(wave("w-000001"), ["!1:x", "!2:x", "!3:x"].map((id) => room("w-000001", id, { state: "sending" })));
    await store.addRooms("w-000001", [room("w-000001", "!4:x")]);
    await store.updateRooms("w-000001", [{ phase: "main", roomId: "!4:x", change: { state: "done" } }]);

    for (const roomId of ["!3:x", "!1:x", "!2:x"]) await store.updateRooms("w-000001", [{ phase: "main", roomId, change: { state: "queued" } }]);

    expect([...store.eachQueued("w-000001", "main")].map((entry) => entry.roomId)).toEqual(["!1:x", "!2:x", "!3:x"]);
    expect([...store.eachQueued("w-000009", "main")]).toEqual([]);
    expect([...store.eachBusy("w-000009")]).toEqual([]);
    expect(store.waitingCount("w-000009")).toBe(0);
  });
});
