import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientEvent } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { mentions, repliesTo, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

interface SpamRoom {
  readonly roomId: string;
  /** The spammer's messages, which a redaction must empty. */
  readonly spam: readonly string[];
  /** A message of another user, which must stay. */
  readonly bystander: string;
}

async function spamRoom(name: string): Promise<SpamRoom> {
  const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
  await scenario.outsider.joinRoom(roomId);
  const spam = [await scenario.spammer.sendText(roomId, `${name}: buy now`), await scenario.spammer.sendText(roomId, `${name}: cheap pills`)];
  const bystander = await scenario.outsider.sendText(roomId, `${name}: please stop`);
  return { roomId, spam, bystander };
}

/** The room's events by ID, read through the admin API as Synapse now serves them. */
async function eventsOf(roomId: string): Promise<Map<string, ClientEvent>> {
  return new Map((await scenario.admin.adminRoomMessages(roomId)).map((event) => [event.event_id, event]));
}

function isRedacted(event: ClientEvent | undefined): boolean {
  const unsigned = event?.["unsigned"];
  const because = unsigned !== null && typeof unsigned === "object" ? (unsigned as Record<string, unknown>)["redacted_because"] : undefined;
  return event !== undefined && Object.keys(event.content).length === 0 && because !== undefined;
}

async function expectRedacted(room: SpamRoom): Promise<void> {
  const events = await eventsOf(room.roomId);
  for (const eventId of room.spam) expect(isRedacted(events.get(eventId)), `${eventId} redacted`).toBe(true);
  expect(bodyOf(events.get(room.bystander) ?? ({ content: {} } as ClientEvent))).toContain("please stop");
}

async function expectUntouched(room: SpamRoom): Promise<void> {
  const events = await eventsOf(room.roomId);
  for (const eventId of [...room.spam, room.bystander]) {
    expect(isRedacted(events.get(eventId)), `${eventId} untouched`).toBe(false);
    expect(bodyOf(events.get(eventId) ?? ({ content: {} } as ClientEvent))).not.toBe("");
  }
}

describe("!redact against a real Synapse", () => {
  let first: SpamRoom;
  let second: SpamRoom;

  it("--dry-run previews the rooms the user is joined to, from Synapse's memberships, and redacts nothing", async () => {
    first = await spamRoom("spam one");
    second = await spamRoom("spam two");
    const { eventId, mark } = await scenario.send(`!redact ${scenario.spammer.userId} --dry-run`);
    const preview = bodyOf(await scenario.replyTo(eventId, mark));
    expect(preview).toMatch(/^Preview: redact the messages of @spammer:localhost/);
    expect(preview).toContain("Joined now (2): ");
    expect(preview).toContain(first.roomId);
    expect(preview).toContain(second.roomId);
    expect(preview).toContain("Banned from now (0): none");
    expect(preview).toContain("Not covered: rooms the user left");
    expect(preview).toContain("Dry run: nothing was done.");
    await expectUntouched(first);
    await expectUntouched(second);
  });

  it("without --room: every message of the user in both rooms is redacted, others' messages stay, and the final message says so", async () => {
    const { eventId, mark } = await scenario.send(`!redact ${scenario.spammer.userId} --reason "spam wave" --yes`);
    const accepted = bodyOf(await scenario.replyTo(eventId, mark));
    expect(accepted).toMatch(/^Redact r-[0-9a-f]{6} accepted/);
    expect(accepted).toContain("Rooms: the rooms the user is joined to or banned from (not rooms they left): 2 joined and 0 banned from when sent");

    const final = await scenario.finalFor(eventId, mark);
    expect(mentions(final)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(final)).toMatch(/Redact r-[0-9a-f]{6} of @spammer:localhost done in/);
    expect(bodyOf(final)).toContain("Rooms processed: 2, the 2 joined and 0 banned from when the job was sent");
    expect(bodyOf(final)).toContain("Failed redactions: none");

    await expectRedacted(first);
    await expectRedacted(second);
  });

  it("with --room: only that room's messages are redacted", async () => {
    const named = await spamRoom("spam three");
    const other = await spamRoom("spam four");
    const { eventId, mark } = await scenario.send(`!redact ${scenario.spammer.userId} --room ${named.roomId} --limit 10 --yes`);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    expect(bodyOf(final)).toContain("Rooms processed: 1, the rooms named");

    await expectRedacted(named);
    await expectUntouched(other);
  });

  it("a redaction of a few hundred messages, followed by the one tracking loop, ends with exactly one final message", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "spam flood", preset: "public_chat" });
    const sends = Array.from({ length: 300 }, (_, index) => `flood ${String(index)}`);
    for (let index = 0; index < sends.length; index += 8) {
      await Promise.all(sends.slice(index, index + 8).map((text) => scenario.spammer.sendText(roomId, text)));
    }

    const { eventId, mark } = await scenario.send(`!redact ${scenario.spammer.userId} --room ${roomId} --yes`);
    const final = await scenario.finalFor(eventId, mark, 300_000);
    expect(bodyOf(final)).toMatch(/done in/);
    // Anything still queued (a late retry, a second reading of the end) would arrive within a few ticks.
    await new Promise((resolve) => setTimeout(resolve, 8_000));

    const finals = scenario.recorder.events.filter(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0,
    );
    expect(finals).toHaveLength(1);
    const events = await eventsOf(roomId);
    expect([...events.values()].filter((event) => event.sender === scenario.spammer.userId && event.type === "m.room.message" && !isRedacted(event))).toEqual([]);
  }, 400_000);
});
