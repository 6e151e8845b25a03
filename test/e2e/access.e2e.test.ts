import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { repliesTo, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

async function roomWithMessages(): Promise<{ roomId: string; eventIds: string[] }> {
  const roomId = await scenario.spammer.createRoom({ name: "target", preset: "public_chat" });
  const eventIds: string[] = [];
  for (const body of ["a", "b", "c"]) eventIds.push(await scenario.spammer.sendText(roomId, body));
  return { roomId, eventIds };
}

async function untouched(roomId: string, eventIds: readonly string[]): Promise<void> {
  for (const eventId of eventIds) expect(await scenario.admin.adminEventExists(eventId)).toBe(true);
  expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(false);
  expect(await scenario.admin.adminRoomMembers(roomId)).toContain(scenario.spammer.userId);
}

describe("who may command Warden", () => {
  it("refuses a sender not on the allowlist, even one whose display name is a moderator's ID", async () => {
    const { roomId, eventIds } = await roomWithMessages();
    await scenario.outsider.setDisplayName(scenario.moderatorUser.userId);
    const purge = await scenario.send(`!purge ${roomId} 2000-01-01 --local`, scenario.outsider);
    expect(bodyOf(await scenario.replyTo(purge.eventId, purge.mark))).toContain(
      `Refused: ${scenario.outsider.userId} is not on Warden's allowlist`,
    );
    const shutdown = await scenario.send(`!shutdown ${roomId} --block`, scenario.outsider);
    expect(bodyOf(await scenario.replyTo(shutdown.eventId, shutdown.mark))).toMatch(/^Refused/);
    await untouched(roomId, eventIds);
  });

  it("ignores a command sent in another room Warden has joined", async () => {
    const { roomId, eventIds } = await roomWithMessages();
    const otherRoom = await scenario.moderator.createRoom({ name: "elsewhere", preset: "public_chat" });
    await scenario.admin.joinRoom(otherRoom); // Warden's own account joins
    await scenario.moderator.sendText(otherRoom, `!shutdown ${roomId} --block`);
    // A later command in the management room is answered, so the earlier one had its chance.
    const probe = await scenario.send("!status");
    await scenario.replyTo(probe.eventId, probe.mark);
    const wardenSaid = (await scenario.admin.adminRoomMessages(otherRoom)).filter((event) => event.sender === scenario.wardenUser.userId);
    expect(wardenSaid.filter((event) => event.type === "m.room.message")).toEqual([]);
    await untouched(roomId, eventIds);
  });

  it("answers an edited command with a hint and does not run it", async () => {
    const { roomId, eventIds } = await roomWithMessages();
    const original = await scenario.send("!status");
    await scenario.replyTo(original.eventId, original.mark);
    const mark = scenario.recorder.mark();
    const editId = await scenario.moderator.sendEvent(scenario.managementRoomId, "m.room.message", {
      msgtype: "m.text",
      body: `* !shutdown ${roomId} --block`,
      "m.new_content": { msgtype: "m.text", body: `!shutdown ${roomId} --block` },
      "m.relates_to": { rel_type: "m.replace", event_id: original.eventId },
    });
    const hint = await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, editId), {
      from: mark,
    });
    expect(bodyOf(hint)).toMatch(/Edited commands are never run/);
    await untouched(roomId, eventIds);
  });

  it("answers help from the command table and suggests the closest command", async () => {
    const help = await scenario.send("!help");
    const helpText = bodyOf(await scenario.replyTo(help.eventId, help.mark));
    for (const command of ["!purge <room>... <point>", "!shutdown <room>...", "!status [task-id]", "!cancel <wave-id>", "!help [command]"]) {
      expect(helpText).toContain(command);
    }
    const typo = await scenario.send("!purg #x:localhost 1d");
    expect(bodyOf(await scenario.replyTo(typo.eventId, typo.mark))).toContain("Did you mean !purge?");
  });
});
