import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixHttpError } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { mentions, startScenario, type Scenario } from "./scenario.js";

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

async function roomIsGone(roomId: string): Promise<boolean> {
  try {
    await scenario.admin.adminRoomDetails(roomId);
    return false;
  } catch (error) {
    if (error instanceof MatrixHttpError && error.status === 404) return true;
    throw error;
  }
}

describe("!shutdown against a real Synapse", () => {
  it("--block --notify-as: members moved to a new room with the message, room deleted and blocked", async () => {
    const roomId = await spamRoom("to shut", "toshut");
    const roomsBefore = await scenario.spammer.joinedRooms();
    const { eventId, mark } = await scenario.send(
      `!shutdown #toshut:localhost --block --notify-as ${scenario.moderatorUser.userId} --room-name "Closed" --message "This room was closed by the moderators." --yes`,
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

  it("without --block: the room is deleted but not blocked", async () => {
    const roomId = await spamRoom("not blocked");
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --yes`);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toContain("Blocked now: no");
    expect(await roomIsGone(roomId)).toBe(true);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(false);
    expect(await scenario.spammer.joinedRooms()).not.toContain(roomId);
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
