import { describe, expect, it } from "vitest";
import { SimulatedRooms } from "../../../bench/simulator/rooms.js";

function rooms(count: number): SimulatedRooms {
  return new SimulatedRooms({ count, serverName: "sim.example", eventsPerRoom: 10, eventSpacingMs: 1000, historyEnd: 1_800_000_000_000, spamEvery: 10, engine: "sqlite" });
}

function readAll(simulated: SimulatedRooms, limit: number, search?: string): string[] {
  const ids: string[] = [];
  for (let from = 0; ; from += limit) {
    const page = simulated.page({ from, limit, order: "name", backwards: false, ...(search === undefined ? {} : { search }) });
    ids.push(...page.rooms.map((room) => room.room_id));
    if (from + limit >= page.total) return ids;
  }
}

describe("the simulator's rooms", () => {
  it("pages through every room once, sorted by name then room ID, whatever the page size", () => {
    const simulated = rooms(1234);
    const all = readAll(simulated, 100);
    expect(all).toHaveLength(1234);
    expect(new Set(all).size).toBe(1234);
    expect(readAll(simulated, 7)).toEqual(all);
    const names = all.map((roomId) => simulated.name(simulated.indexOf(roomId) ?? -1));
    expect(names).toEqual([...names].sort());
  });

  it("counts only the rooms a search matches, and pages through them", () => {
    const simulated = rooms(1000);
    const spam = readAll(simulated, 30, "spam");
    expect(spam).toHaveLength(99);
    expect(simulated.page({ from: 0, limit: 5, order: "name", backwards: false, search: "spam" }).total).toBe(99);
    expect(spam.every((roomId) => simulated.name(simulated.indexOf(roomId) ?? -1).startsWith("spam"))).toBe(true);
    // `_` is a wildcard in Synapse's LIKE: "spam_offer" finds "spam offer".
    expect(readAll(simulated, 50, "spam_offer")).toEqual(spam);
  });

  it("leaves deleted rooms out of the list, its total and its offsets", () => {
    const simulated = rooms(50);
    const before = readAll(simulated, 10);
    const gone = simulated.indexOf(before[3] ?? "") ?? -1;
    simulated.remove(gone);
    simulated.remove(gone);
    expect(simulated.page({ from: 0, limit: 100, order: "name", backwards: false }).total).toBe(49);
    expect(readAll(simulated, 10)).toEqual(before.filter((roomId) => roomId !== before[3]));
    expect(simulated.knows(gone)).toBe(false);
  });

  it("orders member counts largest first, and dir=b turns any order round", () => {
    const simulated = rooms(40);
    const largest = simulated.page({ from: 0, limit: 40, order: "joined_members", backwards: false }).rooms.map((room) => room.joined_members);
    expect(largest).toEqual([...largest].sort((a, b) => b - a));
    const forwards = simulated.page({ from: 0, limit: 40, order: "name", backwards: false }).rooms.map((room) => room.room_id);
    const backwards = simulated.page({ from: 0, limit: 40, order: "name", backwards: true }).rooms.map((room) => room.room_id);
    expect(backwards).toEqual([...forwards].reverse());
  });

  it("finds events by time in both directions, and forgets purged ones", () => {
    const simulated = rooms(3);
    const at = simulated.sentAt(2, 5);
    expect(simulated.closestEvent(2, at, "f")?.event_id).toBe("$e5_2");
    expect(simulated.closestEvent(2, at - 1, "b")?.event_id).toBe("$e4_2");
    expect(simulated.closestEvent(2, simulated.sentAt(2, 0) - 1, "b")).toBeUndefined();
    simulated.purgeBefore(2, 5);
    expect(simulated.closestEvent(2, at - 1, "b")).toBeUndefined();
    expect(simulated.lastEventBefore(2, at)).toBeUndefined();
    expect(simulated.lastEventBefore(2, at + 1)).toBe(5);
    expect(simulated.eventPosition("$e5_2")).toEqual({ index: 2, k: 5 });
  });

  it("reads back only the room IDs it made", () => {
    const simulated = rooms(20);
    expect(simulated.indexOf("!r7:sim.example")).toBe(7);
    expect(simulated.indexOf("!r07:sim.example")).toBeUndefined();
    expect(simulated.indexOf("!r20:sim.example")).toBeUndefined();
    expect(simulated.indexOf("!r7:other.example")).toBeUndefined();
  });
});
