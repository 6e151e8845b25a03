import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixHttpError, type MatrixClient } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { pointAfterNow, startScenario, type Scenario } from "./scenario.js";

/*
 * What the database under Synapse changes, on the run's engine (PostgreSQL unless
 * WARDEN_E2E_DATABASE=sqlite). On SQLite Synapse has a single connection: purges and deletes run
 * one transaction at a time and every other request waits behind them. On PostgreSQL it has a
 * pool: five purges run side by side, transactions that conflict are retried (REPEATABLE READ),
 * and a room's delete and an event written into that room lock the room's row. Warden's outcome
 * must be the same on both.
 */

let scenario: Scenario;

beforeAll(async () => {
  // Five jobs in flight, Synapse's own limit: as many transactions at once as it will run.
  scenario = await startScenario({ extraConfig: { maxConcurrentJobs: 5 } });
});

afterAll(async () => {
  await scenario.stop();
});

const ROOMS = 5;
const MESSAGES = 40;

interface HistoryRoom {
  readonly roomId: string;
  readonly eventIds: readonly string[];
}

/** Rooms of two local members who both wrote in them, filled side by side. */
async function roomsWithHistory(name: string): Promise<HistoryRoom[]> {
  return Promise.all(
    Array.from({ length: ROOMS }, async (_, index): Promise<HistoryRoom> => {
      const roomId = await scenario.spammer.createRoom({ name: `${name} ${String(index)}`, preset: "public_chat" });
      await scenario.outsider.joinRoom(roomId);
      const eventIds: string[] = [];
      for (let message = 0; message < MESSAGES; message++) {
        const sender = message % 2 === 0 ? scenario.spammer : scenario.outsider;
        eventIds.push(await sender.sendText(roomId, `history ${String(message)}`));
      }
      return { roomId, eventIds };
    }),
  );
}

async function stored(eventIds: readonly string[]): Promise<number> {
  return (await Promise.all(eventIds.map((eventId) => scenario.admin.adminEventExists(eventId)))).filter(Boolean).length;
}

function roomIsGone(roomId: string): Promise<boolean> {
  return scenario.admin.adminRoomGone(roomId);
}

async function tasksOf(action: string, roomIds: readonly string[]): Promise<string[]> {
  return (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === action && roomIds.includes(task.resource_id ?? "")).map((task) => task.status);
}

/** Sends into the room until the homeserver refuses (the member was kicked, the room is gone); the ids it accepted. */
function keepSending(client: MatrixClient, roomId: string, stop: { stopped: boolean }): Promise<{ accepted: string[]; refusal?: number }> {
  return (async () => {
    const accepted: string[] = [];
    for (let message = 0; !stop.stopped; message++) {
      try {
        accepted.push(await client.sendText(roomId, `during the delete ${String(message)}`));
      } catch (error) {
        if (error instanceof MatrixHttpError && error.status >= 400 && error.status < 500) return { accepted, refusal: error.status };
        throw error;
      }
    }
    return { accepted };
  })();
}

describe("the database under Synapse", () => {
  it("five purges at once: each room loses exactly what lies before the point, and none fails", async () => {
    const rooms = await roomsWithHistory("purged side by side");
    const point = await pointAfterNow();
    const after = await Promise.all(rooms.map((room) => scenario.spammer.sendText(room.roomId, "after the point")));

    const { eventId, mark } = await scenario.send(`!purge ${rooms.map((room) => room.roomId).join(" ")} ${String(point)} --local --yes`);
    const summary = await scenario.finalFor(eventId, mark, 150_000);
    expect(bodyOf(summary)).toMatch(new RegExp(`finished in [^:]+: ${String(ROOMS)} done, 0 failed\\.`));

    for (const room of rooms) expect(await stored(room.eventIds)).toBe(0);
    expect(await stored(after)).toBe(ROOMS);
    expect(await tasksOf("purge_history", rooms.map((room) => room.roomId))).toEqual(Array.from({ length: ROOMS }, () => "complete"));
  }, 240_000);

  it("five rooms with history deleted at once while a member goes on sending: every delete completes and nothing of the rooms is left", async () => {
    const rooms = await roomsWithHistory("deleted side by side");
    const stop = { stopped: false };
    const senders = rooms.map((room) => keepSending(scenario.outsider, room.roomId, stop));

    const { eventId, mark } = await scenario.send(`!shutdown ${rooms.map((room) => room.roomId).join(" ")} --purge-now --yes`);
    const summary = await scenario.finalFor(eventId, mark, 150_000);
    stop.stopped = true;
    const sent = await Promise.all(senders);
    expect(bodyOf(summary)).toMatch(new RegExp(`finished in [^:]+: ${String(ROOMS)} done, 0 failed\\.`));

    // The shutdown kicks the members before it deletes: their next send is refused, and what they
    // sent before that went with the room.
    for (const { refusal } of sent) expect(refusal).toBe(403);
    for (const [index, room] of rooms.entries()) {
      expect(await roomIsGone(room.roomId)).toBe(true);
      expect(await stored([...room.eventIds, ...(sent[index]?.accepted ?? [])])).toBe(0);
    }
    expect(await tasksOf("shutdown_and_purge_room", rooms.map((room) => room.roomId))).toEqual(Array.from({ length: ROOMS }, () => "complete"));
  }, 240_000);
});
