import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { mentions, pointAfterNow, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

async function messageBodies(roomId: string): Promise<string[]> {
  const events = await scenario.admin.adminRoomMessages(roomId);
  return events.filter((event) => event.type === "m.room.message").map(bodyOf);
}

/** A room of the spammer's with `before` messages, then a gap, then `after` messages. */
async function roomWithTwoBatches(name: string, before: number, after: number) {
  const roomId = await scenario.spammer.createRoom({ name, topic: `${name} topic`, preset: "public_chat" });
  const oldEventIds: string[] = [];
  for (let index = 0; index < before; index++) oldEventIds.push(await scenario.spammer.sendText(roomId, `old ${index}`));
  const cutoff = await pointAfterNow();
  for (let index = 0; index < after; index++) await scenario.spammer.sendText(roomId, `new ${index}`);
  return { roomId, cutoff, oldEventIds };
}

describe("!purge against a real Synapse", () => {
  it("purges local messages before an ISO time with --local, keeping later ones and the room state", async () => {
    const { roomId, cutoff, oldEventIds } = await roomWithTwoBatches("iso purge", 20, 5);
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${new Date(cutoff).toISOString()} --local --yes`);

    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toMatch(/Purge p-[0-9a-f]{6} accepted/);
    expect(bodyOf(accepted)).toContain("deleted too (--local)");
    const final = await scenario.finalFor(eventId, mark);
    expect(mentions(final)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(final)).toMatch(/done in/);
    // The progress message is edited too; its last edit follows the final notification.
    const edited = await scenario.recorder.waitFor((event) => scenario.editsOf(accepted.event_id).includes(event) && bodyOf(event).includes("done"), {
      from: mark,
      what: "the progress message's last edit",
    });
    expect(bodyOf(edited)).toMatch(/done \(\d+ s\)/);

    for (const oldEventId of oldEventIds) expect(await scenario.admin.adminEventExists(oldEventId)).toBe(false);
    const remaining = await messageBodies(roomId);
    expect(remaining).toEqual(["new 0", "new 1", "new 2", "new 3", "new 4"]);
    const details = await scenario.admin.adminRoomDetails(roomId);
    expect(details.name).toBe("iso purge");
    expect(details.topic).toBe("iso purge topic");
    expect(await scenario.admin.adminRoomMembers(roomId)).toContain(scenario.spammer.userId);
  });

  it("purges by age: messages older than the age go, younger ones stay", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "age purge", preset: "public_chat" });
    const oldIds = [await scenario.spammer.sendText(roomId, "old a"), await scenario.spammer.sendText(roomId, "old b")];
    // The old messages must be older than the age by a margin when the command arrives.
    const oldEnough = Date.now() + 5_000;
    while (Date.now() < oldEnough) await new Promise((resolve) => setTimeout(resolve, 100));
    await scenario.spammer.sendText(roomId, "young");
    const { eventId, mark } = await scenario.send(`!purge ${roomId} 3s --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toMatch(/Removes history before: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);
    for (const oldId of oldIds) expect(await scenario.admin.adminEventExists(oldId)).toBe(false);
    expect(await messageBodies(roomId)).toEqual(["young"]);
  });

  it("keeps local users' messages without --local", async () => {
    const { roomId, cutoff, oldEventIds } = await roomWithTwoBatches("keep local", 10, 2);
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)}`);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    // Synapse keeps local events (they may be the only copy) but hides them from pagination.
    for (const oldEventId of oldEventIds) expect(await scenario.admin.adminEventExists(oldEventId)).toBe(true);
    expect(await messageBodies(roomId)).toEqual(["new 0", "new 1"]);
  });

  it("answers 'nothing to purge' when no event lies before the point", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "young room" });
    await scenario.spammer.sendText(roomId, "only message");
    const { eventId, mark } = await scenario.send(`!purge ${roomId} 2000-01-01 --local --yes`);
    const reply = await scenario.replyTo(eventId, mark);
    expect(bodyOf(reply)).toContain(`nothing to purge: no event of ${roomId} was sent before 2000-01-01 00:00:00 UTC`);
    expect(await messageBodies(roomId)).toEqual(["only message"]);
  });
});
