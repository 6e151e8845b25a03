import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixHttpError } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { pointAfterNow, repliesTo, type Scenario, startScenario } from "./scenario.js";

/** Every local user may command Warden here, so a second moderator (the outsider) can try to confirm. */
let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario({ allowEveryLocalUser: true, extraConfig: { confirmWindow: "10s" } });
});

afterAll(async () => {
  await scenario.stop();
});

async function spamRoom(name: string): Promise<{ roomId: string; eventIds: string[] }> {
  const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
  const eventIds = [await scenario.spammer.sendText(roomId, "one"), await scenario.spammer.sendText(roomId, "two")];
  return { roomId, eventIds };
}

async function roomExists(roomId: string): Promise<boolean> {
  try {
    await scenario.admin.adminRoomDetails(roomId);
    return true;
  } catch (error) {
    if (error instanceof MatrixHttpError && error.status === 404) return false;
    throw error;
  }
}

function confirmationId(text: string): string {
  const id = /c-[0-9a-f]{6}/.exec(text)?.[0];
  if (id === undefined) throw new Error(`no confirmation id in: ${text}`);
  return id;
}

describe("confirm before destroying", () => {
  it("a shutdown waits for its requester's ✅ on the preview, then runs", async () => {
    const { roomId } = await spamRoom("confirm by reaction");
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --block --purge-now`);
    const preview = await scenario.replyTo(eventId, mark);
    expect(bodyOf(preview)).toMatch(/^Preview: shut down/);
    expect(bodyOf(preview)).toContain("Members: 1 joined, 1 of them local");
    expect(bodyOf(preview)).toContain("Delete from database: yes, at once (--purge-now)");
    expect(bodyOf(preview)).toContain("Members' clients: will keep the room in their room list");
    expect(bodyOf(preview)).toContain("Nothing is done yet");
    expect(await roomExists(roomId)).toBe(true);

    await scenario.moderator.sendEvent(scenario.managementRoomId, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: preview.event_id, key: "✅" },
    });
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    expect(await roomExists(roomId)).toBe(false);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(true);
  });

  it("refuses anyone else's confirmation, then accepts the requester's !confirm", async () => {
    const { roomId, eventIds } = await spamRoom("confirm by command");
    // The point lies after both messages were received, and a later message stays.
    const cutoff = await pointAfterNow();
    const afterPoint = await scenario.spammer.sendText(roomId, "after the point");
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)} --local`);
    const preview = await scenario.replyTo(eventId, mark);
    expect(bodyOf(preview)).toContain("Estimate: about 2 events to remove");
    expect(bodyOf(preview)).toContain(`Kept from: ${afterPoint}`);
    const id = confirmationId(bodyOf(preview));

    const other = await scenario.send(`!confirm ${id}`, scenario.outsider);
    expect(bodyOf(await scenario.replyTo(other.eventId, other.mark))).toContain(`only ${scenario.moderatorUser.userId}, who asked for it, can confirm ${id}`);
    const otherReaction = await scenario.outsider.sendEvent(scenario.managementRoomId, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: preview.event_id, key: "✅" },
    });
    const reactionRefused = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, preview.event_id) && bodyOf(event).includes("can confirm"),
      { from: mark, what: "refusing the outsider's reaction" },
    );
    expect(bodyOf(reactionRefused)).toContain(`only ${scenario.moderatorUser.userId}`);
    expect(otherReaction).toMatch(/^\$/);
    for (const kept of eventIds) expect(await scenario.admin.adminEventExists(kept)).toBe(true);

    const mine = await scenario.send(`!confirm ${id}`);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    expect(mine.eventId).toMatch(/^\$/);
    for (const gone of eventIds) expect(await scenario.admin.adminEventExists(gone)).toBe(false);
  });

  it("a preview nobody confirms expires, says so, and cannot be confirmed later", async () => {
    const { roomId } = await spamRoom("expires");
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId}`);
    const preview = await scenario.replyTo(eventId, mark);
    const id = confirmationId(bodyOf(preview));
    await scenario.recorder.waitFor((event) => scenario.editsOf(preview.event_id).includes(event) && bodyOf(event).includes("Expired"), {
      from: mark,
      timeoutMs: 30_000,
      what: "editing the preview to say it expired",
    });
    const late = await scenario.send(`!confirm ${id}`);
    expect(bodyOf(await scenario.replyTo(late.eventId, late.mark))).toContain(`preview ${id} has expired; nothing was done`);
    expect(await roomExists(roomId)).toBe(true);
  });

  it("!audit summarises who did what, from Warden's own log", async () => {
    const { eventId, mark } = await scenario.send(`!audit --user ${scenario.moderatorUser.userId}`);
    const audit = bodyOf(await scenario.replyTo(eventId, mark));
    expect(audit).toContain(`${scenario.moderatorUser.userId}: `);
    expect(audit).toMatch(/2× !shutdown preview/);
    expect(audit).toMatch(/shutdown complete/);
    expect(audit).toMatch(/purge complete/);
    expect(audit).not.toContain(scenario.outsider.userId);
  });

  it("--dry-run shows the preview and does nothing", async () => {
    const { roomId } = await spamRoom("dry run");
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --block --dry-run`);
    const preview = await scenario.replyTo(eventId, mark);
    expect(bodyOf(preview)).toContain("Dry run: nothing was done.");
    // A later answer proves the dry run had its chance to (wrongly) act.
    const probe = await scenario.send("!status");
    expect(bodyOf(await scenario.replyTo(probe.eventId, probe.mark))).toContain("In flight (0)");
    expect(await roomExists(roomId)).toBe(true);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(false);
  });
});
