import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MatrixClient, type SyncResponse } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { mentions, repliesTo, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

async function spamRoom(name: string, alias?: string): Promise<string> {
  const roomId = await scenario.spammer.createRoom({
    name,
    preset: "public_chat",
    ...(alias === undefined ? {} : { room_alias_name: alias }),
  });
  // The outsider joins too, so there are two local members to move.
  await scenario.outsider.joinRoom(roomId);
  await scenario.spammer.sendText(roomId, "buy now");
  return roomId;
}

function roomIsGone(roomId: string): Promise<boolean> {
  return scenario.admin.adminRoomGone(roomId);
}

/** Synapse's own record of the deletes of a room (GET /_synapse/admin/v1/scheduled_tasks). */
async function deletesOf(roomId: string): Promise<string[]> {
  return (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === "shutdown_and_purge_room" && task.resource_id === roomId).map((task) => task.status);
}

/**
 * Each member's client syncs from the token it had before the shutdown. It says it calls from a
 * new address: Synapse then records its device as seen at once, not up to two minutes later.
 */
async function clientsSync(tokens: ReadonlyMap<MatrixClient, string>, address: string): Promise<Map<MatrixClient, SyncResponse>> {
  const answers = new Map<MatrixClient, SyncResponse>();
  for (const [client, since] of tokens) answers.set(client, await client.sync({ since, fromAddress: address }));
  return answers;
}

describe("!shutdown against a real Synapse", () => {
  it("by default in two steps: members' clients see the room under leave in their next sync, then the room is purged from the database", async () => {
    const roomId = await spamRoom("seen leave");
    const tokens = new Map([
      [scenario.outsider, (await scenario.outsider.sync()).next_batch],
      [scenario.spammer, (await scenario.spammer.sync()).next_batch],
    ]);
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toMatch(/Shutdown s-[0-9a-f]{6} accepted/);
    expect(bodyOf(accepted)).toContain("Delete from database: later, once the kicked members' clients have seen that they left");
    const first = await scenario.finalFor(eventId, mark);
    expect(mentions(first)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(first)).toMatch(/done in/);
    expect(bodyOf(first)).toContain(scenario.outsider.userId);
    expect(bodyOf(first)).toMatch(/Purge from the database: once the kicked members' clients have seen that they left, at the latest .*; !status (w-[0-9a-f]{6}) shows it/);
    // The first step kept the room's data: the leaves are there for the clients to fetch.
    expect(await roomIsGone(roomId)).toBe(false);
    expect(await scenario.spammer.joinedRooms()).not.toContain(roomId);

    const answers = await clientsSync(tokens, "10.18.0.1");
    for (const answer of answers.values()) {
      expect(Object.keys(answer.rooms?.leave ?? {})).toContain(roomId);
      expect(Object.keys(answer.rooms?.join ?? {})).not.toContain(roomId);
    }

    const purged = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0 && event.event_id !== first.event_id,
      { from: mark, timeoutMs: 90_000, what: "the purge step's final message" },
    );
    expect(bodyOf(purged)).toMatch(/done in/);
    expect(bodyOf(purged)).toContain("Result: the room is deleted from the database");
    expect(await roomIsGone(roomId)).toBe(true);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(false);
    expect(await deletesOf(roomId)).toEqual(["complete", "complete"]);
    expect(scenario.allLogs()).toMatch(/"reason":"purged once every kicked member.s recently active clients had been seen after the shutdown","msg":"wave room sent once its gate opened"/);
  });

  it("--purge-now deletes at once, and then the members' next sync has no leave: their clients keep the room listed (Synapse removes the leaves)", async () => {
    const roomId = await spamRoom("purged now");
    const since = (await scenario.outsider.sync()).next_batch;
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --purge-now --yes`);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    expect(bodyOf(final)).not.toContain("Purge from the database");
    expect(await roomIsGone(roomId)).toBe(true);

    const after = await scenario.outsider.sync({ since });
    expect(Object.keys(after.rooms?.leave ?? {})).not.toContain(roomId);
    expect(await deletesOf(roomId)).toEqual(["complete"]);
  });

  it("a wave: one board, a message when the rooms are emptied, the purge once members' clients have seen it, then the summary", async () => {
    const rooms = [await spamRoom("wave seen a"), await spamRoom("wave seen b")];
    const tokens = new Map([
      [scenario.outsider, (await scenario.outsider.sync()).next_batch],
      [scenario.spammer, (await scenario.spammer.sync()).next_batch],
    ]);
    const { eventId, mark } = await scenario.send(`!shutdown ${rooms.join(" ")} --block --yes`);
    const board = await scenario.replyTo(eventId, mark);
    expect(bodyOf(board)).toMatch(/^Wave w-[0-9a-f]{6} \(shut down then purge once members have seen it, 2 rooms\)/);
    const emptied = await scenario.finalFor(eventId, mark);
    expect(bodyOf(emptied)).toMatch(/main phase finished in [^:]+: 2 done, 0 failed\./);
    expect(bodyOf(emptied)).toMatch(/Purge phase: 2 waiting for members' clients to see that they left \(at the latest until /);
    for (const roomId of rooms) {
      expect(await roomIsGone(roomId)).toBe(false);
      expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(true);
    }

    const answers = await clientsSync(tokens, "10.18.0.2");
    for (const answer of answers.values()) for (const roomId of rooms) expect(Object.keys(answer.rooms?.leave ?? {})).toContain(roomId);

    const summary = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0 && /\) finished in/.test(bodyOf(event)),
      { from: mark, timeoutMs: 90_000, what: "the wave's summary" },
    );
    expect(bodyOf(summary)).toMatch(/finished in [^:]+: 2 done, 0 failed\./);
    expect(bodyOf(summary)).toMatch(/Purge phase: 2 done, 0 running, 0 queued, 0 failed/);
    for (const roomId of rooms) {
      expect(await roomIsGone(roomId)).toBe(true);
      expect(await deletesOf(roomId)).toEqual(["complete", "complete"]);
    }
  });

  it("--block --notify-as --purge-now: members moved to a new room with the message, room deleted and blocked", async () => {
    const roomId = await spamRoom("to shut", "toshut");
    const roomsBefore = await scenario.spammer.joinedRooms();
    const { eventId, mark } = await scenario.send(
      `!shutdown #toshut:localhost --block --purge-now --notify-as ${scenario.moderatorUser.userId} --room-name "Closed" --message "This room was closed by the moderators." --yes`,
    );
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toMatch(/Shutdown s-[0-9a-f]{6} accepted/);
    const final = await scenario.finalFor(eventId, mark);
    expect(mentions(final)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(final)).toMatch(/done in/);
    expect(bodyOf(final)).toContain(scenario.spammer.userId);
    expect(bodyOf(final)).toContain("Blocked now: yes");

    expect(await roomIsGone(roomId)).toBe(true);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(true);
    const roomsAfter = await scenario.spammer.joinedRooms();
    expect(roomsAfter).not.toContain(roomId);
    const newRooms = roomsAfter.filter((room) => !roomsBefore.includes(room));
    expect(newRooms).toHaveLength(1);
    const newRoom = newRooms[0] ?? "";
    expect((await scenario.admin.adminRoomDetails(newRoom)).name).toBe("Closed");
    const messages = await scenario.admin.adminRoomMessages(newRoom);
    expect(messages.map(bodyOf)).toContain("This room was closed by the moderators.");
    // The alias moved with the members.
    expect((await scenario.moderator.resolveAlias("#toshut:localhost")).room_id).toBe(newRoom);
  });

  it("a room the server does not know: refused without --block, reported as blocked only with it", async () => {
    const unknownRoom = "!neverexisted:localhost";
    const refused = await scenario.send(`!shutdown ${unknownRoom} --yes`);
    expect(bodyOf(await scenario.replyTo(refused.eventId, refused.mark))).toMatch(/not a room this homeserver knows/);
    expect((await scenario.admin.adminRoomBlockStatus(unknownRoom)).block).toBe(false);

    const blocked = await scenario.send(`!shutdown ${unknownRoom} --block --yes`);
    const final = await scenario.finalFor(blocked.eventId, blocked.mark);
    expect(bodyOf(final)).toContain("unknown room (blocked only)");
    expect(bodyOf(final)).not.toMatch(/Kicked/);
    expect((await scenario.admin.adminRoomBlockStatus(unknownRoom)).block).toBe(true);
  });

  it("refuses to shut down its own management room", async () => {
    const { eventId, mark } = await scenario.send(`!shutdown ${scenario.managementRoomId} --block --yes`);
    expect(bodyOf(await scenario.replyTo(eventId, mark))).toMatch(/management room/);
    expect(await roomIsGone(scenario.managementRoomId)).toBe(false);
  });
});
