import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MatrixHttpError, type ClientEvent } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

/** Sends a command as the moderator and returns Warden's reply to it. */
async function ask(command: string): Promise<ClientEvent> {
  const { eventId, mark } = await scenario.send(command);
  return scenario.replyTo(eventId, mark);
}

function htmlOf(event: ClientEvent): string {
  const html = event.content["formatted_body"];
  return typeof html === "string" ? html : "";
}

async function httpStatusOf(action: Promise<unknown>): Promise<number | undefined> {
  try {
    await action;
    return undefined;
  } catch (error) {
    if (error instanceof MatrixHttpError) return error.status;
    throw error;
  }
}

function powerOf(powerLevels: Record<string, unknown> | undefined, userId: string): unknown {
  const users = powerLevels?.["users"];
  return users !== null && typeof users === "object" ? (users as Record<string, unknown>)[userId] : undefined;
}

describe("!room against a real Synapse", () => {
  it("reports what Synapse knows of a room, found by alias, with hostile markup escaped", async () => {
    const roomId = await scenario.spammer.createRoom({
      name: "Toolkit <b>room</b>",
      topic: "cheap & <i>pills</i>",
      room_alias_name: "toolkitroom",
      preset: "public_chat",
    });
    await scenario.outsider.joinRoom(roomId);
    // The member counts are room statistics Synapse updates in the background after the join: on
    // PostgreSQL they can still say one member when the join has returned.
    const details = await vi.waitFor(
      async () => {
        const current = await scenario.admin.adminRoomDetails(roomId);
        expect(current.joined_members).toBe(2);
        return current;
      },
      { timeout: 15_000, interval: 100 },
    );

    const reply = await ask("!room #toolkitroom:localhost");

    const lines = bodyOf(reply).split("\n");
    expect(lines[0]).toBe(`Room "Toolkit <b>room</b>" #toolkitroom:localhost (${roomId})`);
    expect(lines).toContain("Name: Toolkit <b>room</b>");
    expect(lines).toContain("Canonical alias: #toolkitroom:localhost");
    expect(lines).toContain("Topic: cheap & <i>pills</i>");
    expect(lines).toContain(`Creator: ${scenario.spammer.userId}`);
    expect(lines).toContain(`Version: ${String(details["version"])}`);
    expect(lines).toContain(`Members: ${details.joined_members} joined, ${details.joined_local_members} of them local`);
    expect(lines).toContain("Join rules: public");
    expect(lines).toContain(`Public (in the room directory): ${details.public ? "yes" : "no"}`);
    expect(lines).toContain(`State events: ${String(details["state_events"])}`);
    expect(lines).toContain("Blocked: no");
    expect(htmlOf(reply)).toContain("Toolkit &lt;b&gt;room&lt;/b&gt;");
    expect(htmlOf(reply)).not.toContain("<i>");
  });

  it("says a room is unknown to the homeserver and still reports its block status", async () => {
    const reply = await ask("!room !toolkitnowhere:localhost");
    expect(bodyOf(reply)).toBe("Room !toolkitnowhere:localhost: unknown to this homeserver\nBlocked: no");
  });
});

describe("!rooms against a real Synapse", () => {
  it("finds rooms by several words, a page at a time, and its next-page command shows the rest", async () => {
    const one = await scenario.spammer.createRoom({ name: "needle haystack one", preset: "public_chat" });
    const three = await scenario.spammer.createRoom({ name: "needle haystack three", preset: "public_chat" });
    const two = await scenario.spammer.createRoom({ name: "needle haystack two", preset: "public_chat" });
    await scenario.spammer.createRoom({ name: "needle elsewhere", preset: "public_chat" });

    const first = await ask("!rooms needle haystack --order-by name --limit 2");
    const firstLines = bodyOf(first).split("\n");
    expect(firstLines).toEqual([
      'Rooms 1-2 of 3 matching "needle haystack":',
      `- "needle haystack one" ${one}: 1 joined (1 local)`,
      `- "needle haystack three" ${three}: 1 joined (1 local)`,
      "Next page: !rooms needle haystack --order-by name --limit 2 --from 2",
    ]);

    const second = await ask("!rooms needle haystack --order-by name --limit 2 --from 2");
    expect(bodyOf(second).split("\n")).toEqual([
      'Rooms 3-3 of 3 matching "needle haystack":',
      `- "needle haystack two" ${two}: 1 joined (1 local)`,
      "That is the last page.",
    ]);
  });

  it("answers a bad --limit with the usage line, asking Synapse nothing", async () => {
    const reply = await ask("!rooms --limit 500");
    expect(bodyOf(reply)).toContain('Bad --limit (got "500"): expected a whole number from 1 to 100.');
    expect(bodyOf(reply)).toContain("Usage: !rooms [search words] [--order-by ORDER] [--limit N] [--from OFFSET]");
  });
});

describe("!members against a real Synapse", () => {
  it("lists the room's joined members as Synapse has them", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "members room", preset: "public_chat", room_alias_name: "membersroom" });
    await scenario.outsider.joinRoom(roomId);
    const members = [...(await scenario.admin.adminRoomMembers(roomId))].sort();
    expect(members).toHaveLength(2);

    const reply = await ask("!members #membersroom:localhost");

    expect(bodyOf(reply).split("\n")).toEqual([
      `Members of "members room" #membersroom:localhost (${roomId}): 2 joined`,
      ...members.map((member) => `- ${member}`),
    ]);
  });

  it("refuses a room the homeserver does not know", async () => {
    const reply = await ask("!members !toolkitnowhere:localhost");
    expect(bodyOf(reply)).toBe("Not done: !toolkitnowhere:localhost is not a room this homeserver knows, so it has no members to list.");
  });
});

describe("!tasks against a real Synapse", () => {
  it("lists the homeserver's tasks, Warden's purge marked with its task id and others' unmarked", async () => {
    // A profile change makes Synapse queue a task of its own, not started by Warden.
    await scenario.spammer.setDisplayName("Spammer, renamed");
    const roomId = await scenario.spammer.createRoom({ name: "tasks room", preset: "public_chat" });
    await scenario.spammer.sendText(roomId, "old");
    const point = await scenario.spammer.sendText(roomId, "new");
    const purge = await scenario.send(`!purge ${roomId} ${point}`);
    const accepted = await scenario.replyTo(purge.eventId, purge.mark);
    const wardenTaskId = /Purge (p-[0-9a-f]{6}) accepted/.exec(bodyOf(accepted))?.[1];
    expect(wardenTaskId).toBeDefined();
    await scenario.finalFor(purge.eventId, purge.mark);

    const reply = await ask("!tasks");

    const homeserverTasks = await scenario.admin.adminScheduledTasks();
    const purgeTask = homeserverTasks.find((task) => task.action === "purge_history" && task.resource_id === roomId);
    const profileTask = homeserverTasks.find((task) => task.action === "update_join_states" && task.resource_id === scenario.spammer.userId);
    if (purgeTask === undefined || profileTask === undefined) throw new Error(`tasks missing: ${JSON.stringify(homeserverTasks)}`);
    const lines = bodyOf(reply).split("\n");
    expect(lines[0]).toMatch(/^Homeserver tasks: \d+ \(\d+ queued or running, 1 started by Warden\)$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^- ${purgeTask.id} purge_history on ${escapeRegExp(roomId)}: complete, \\d+ s ago \\[Warden task ${wardenTaskId ?? ""}\\]$`)));
    const profileLine = lines.find((line) => line.startsWith(`- ${profileTask.id} update_join_states on ${scenario.spammer.userId}: `));
    expect(profileLine).toBeDefined();
    expect(profileLine).not.toContain("Warden task");
  });
});

describe("!block and !unblock against a real Synapse", () => {
  it("blocks a room the homeserver does not know in advance, and unblocks it", async () => {
    const unknownRoom = "!toolkitfuture:localhost";
    const blocked = await ask(`!block ${unknownRoom}`);
    expect(bodyOf(blocked)).toBe(`Blocked ${unknownRoom}: unknown to this homeserver; blocked in advance, so nobody here can create or join it.`);
    expect(await scenario.admin.adminRoomBlockStatus(unknownRoom)).toEqual({ block: true, user_id: scenario.wardenUser.userId });

    const again = await ask(`!block ${unknownRoom}`);
    expect(bodyOf(again)).toBe(`${unknownRoom} was already blocked (by ${scenario.wardenUser.userId}); nothing changed.`);

    const unblocked = await ask(`!unblock ${unknownRoom}`);
    expect(bodyOf(unblocked)).toBe(`Unblocked ${unknownRoom} (unknown to this homeserver): users of this homeserver can join it again.`);
    expect((await scenario.admin.adminRoomBlockStatus(unknownRoom)).block).toBe(false);
  });

  it("blocks a known room so a local user can no longer join, shows it in !room, and unblocks it", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "to block", preset: "public_chat", room_alias_name: "toblock" });

    const blocked = await ask("!block #toblock:localhost");
    expect(bodyOf(blocked)).toMatch(/^Blocked "to block" #toblock:localhost \(!.+\): nobody on this homeserver can join it now\./);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(true);
    expect(await httpStatusOf(scenario.outsider.joinRoom(roomId))).toBe(403);
    expect(bodyOf(await ask(`!room ${roomId}`))).toContain(`Blocked: yes (by ${scenario.wardenUser.userId})`);

    await ask(`!unblock ${roomId}`);
    expect((await scenario.admin.adminRoomBlockStatus(roomId)).block).toBe(false);
    expect(await scenario.outsider.joinRoom(roomId)).toBe(roomId);
  });

  it("refuses to block its own management room", async () => {
    const reply = await ask(`!block ${scenario.managementRoomId}`);
    expect(bodyOf(reply)).toBe(`Not done: ${scenario.managementRoomId} is Warden's own management room; blocking it would lock the moderators out.`);
    expect((await scenario.admin.adminRoomBlockStatus(scenario.managementRoomId)).block).toBe(false);
  });
});

describe("!make-admin against a real Synapse", () => {
  it("gives a user the room creator's power in a private room; the user, invited, joins and uses it", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "hijacked", preset: "private_chat" });
    const moderator = scenario.moderatorUser.userId;
    expect(await httpStatusOf(scenario.moderator.joinRoom(roomId))).toBe(403);

    const reply = await ask(`!make-admin ${roomId} ${moderator}`);

    expect(bodyOf(reply).split("\n")[0]).toBe(`${moderator} now has the power of the most powerful local user in "hijacked" ${roomId}.`);
    const powerLevels = await scenario.admin.adminStateContent(roomId, "m.room.power_levels");
    expect(powerOf(powerLevels, moderator)).toBe(powerOf(powerLevels, scenario.spammer.userId) ?? 100);
    // Invited by the homeserver, the moderator can join and then do what only an admin may.
    expect(await scenario.moderator.joinRoom(roomId)).toBe(roomId);
    await scenario.moderator.sendState(roomId, "m.room.power_levels", "", {
      ...powerLevels,
      users: { ...(powerLevels?.["users"] as Record<string, unknown>), [scenario.outsider.userId]: 50 },
    });
    expect(powerOf(await scenario.admin.adminStateContent(roomId, "m.room.power_levels"), scenario.outsider.userId)).toBe(50);
  });

  it("without a user gives the power to Warden's own account", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "for warden", preset: "private_chat" });
    const reply = await ask(`!make-admin ${roomId}`);
    expect(bodyOf(reply).split("\n")[0]).toBe(`Warden's own account now has the power of the most powerful local user in "for warden" ${roomId}.`);
    const powerLevels = await scenario.admin.adminStateContent(roomId, "m.room.power_levels");
    expect(powerOf(powerLevels, scenario.wardenUser.userId)).toBe(powerOf(powerLevels, scenario.spammer.userId) ?? 100);
  });

  it("explains that a room whose local admin has left cannot be taken back, and changes nothing", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "abandoned", preset: "public_chat" });
    await scenario.outsider.joinRoom(roomId);
    await scenario.spammer.leaveRoom(roomId);
    const before = await scenario.admin.adminStateContent(roomId, "m.room.power_levels");

    const reply = await ask(`!make-admin ${roomId} ${scenario.outsider.userId}`);

    expect(bodyOf(reply)).toBe(
      `Not done: no user of this homeserver who is still joined to ${roomId} holds power there, so there is nobody to grant power through (the homeserver said: No local admin user in room). ` +
        "make-admin only takes back rooms where a local user still has power; a room run from other servers cannot be taken over this way.",
    );
    expect(await scenario.admin.adminStateContent(roomId, "m.room.power_levels")).toEqual(before);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
