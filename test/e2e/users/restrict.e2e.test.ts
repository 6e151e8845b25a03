import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixClient, MatrixHttpError, type ClientEvent } from "../../../scripts/harness/client.js";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient, type UserAccountBody } from "../../../src/synapse/adminClient.js";
import { mentions, startScenario, type Scenario } from "../scenario.js";

/**
 * The restrict commands and !deactivate against a real Synapse: what the restricted user gets
 * from the homeserver afterwards, and what the admin API says of the account. The config is the
 * default one: the restrict commands run at once, !deactivate always asks first.
 */

let scenario: Scenario;
/** Warden's own token, used only to read the accounts. */
let admin: SynapseAdminClient;
/** A room the spammer is in, to send into. */
let roomId: string;

beforeAll(async () => {
  scenario = await startScenario();
  admin = new SynapseAdminClient({ homeserverUrl: scenario.synapse.baseUrl, accessToken: scenario.wardenUser.accessToken });
  roomId = await scenario.spammer.createRoom({ name: "restrict", preset: "public_chat" });
});

afterAll(async () => {
  await scenario.stop();
});

async function ask(command: string): Promise<ClientEvent> {
  const { eventId, mark } = await scenario.send(command);
  return scenario.replyTo(eventId, mark);
}

async function account(userId: string): Promise<UserAccountBody> {
  const read = await admin.userAccount(userId as UserId);
  if (!read.ok) throw new Error(`account of ${userId}: ${read.error.userMessage}`);
  return read.value;
}

/** The errcode the homeserver refuses a request with, or "sent" when it accepted it. */
async function refusal(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return "sent";
  } catch (error) {
    if (error instanceof MatrixHttpError) return error.errcode ?? `HTTP ${error.status}`;
    throw error;
  }
}

describe("restricting accounts against a real Synapse", () => {
  it("!suspend stops the user's messages (M_USER_SUSPENDED); !unsuspend lets them send again", async () => {
    expect(await refusal(scenario.spammer.sendText(roomId, "before"))).toBe("sent");

    const suspended = await ask(`!suspend ${scenario.spammer.userId}`);

    expect(bodyOf(suspended)).toBe(`Suspend 1 user: 1 done.\n- ${scenario.spammer.userId}: suspended\nUndo with !unsuspend ${scenario.spammer.userId}`);
    // A plain reply: it notifies nobody, least of all the user it is about.
    expect(mentions(suspended)).toEqual([]);
    expect((await account(scenario.spammer.userId)).suspended).toBe(true);
    expect(await refusal(scenario.spammer.sendText(roomId, "while suspended"))).toBe("M_USER_SUSPENDED");

    expect(bodyOf(await ask(`!suspend ${scenario.spammer.userId}`))).toContain(`- ${scenario.spammer.userId}: already suspended; nothing sent`);

    expect(bodyOf(await ask(`!unsuspend ${scenario.spammer.userId}`))).toContain(`- ${scenario.spammer.userId}: no longer suspended`);
    expect((await account(scenario.spammer.userId)).suspended).toBe(false);
    expect(await refusal(scenario.spammer.sendText(roomId, "after"))).toBe("sent");
  });

  it("!lock refuses the user's every request (M_USER_LOCKED); !unlock gives the same session back", async () => {
    const locked = new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser("lockme"));
    expect(await refusal(locked.joinedRooms())).toBe("sent");

    expect(bodyOf(await ask(`!lock ${locked.userId}`))).toContain(`- ${locked.userId}: locked`);

    expect((await account(locked.userId)).locked).toBe(true);
    expect(await refusal(locked.joinedRooms())).toBe("M_USER_LOCKED");

    expect(bodyOf(await ask(`!unlock ${locked.userId}`))).toContain(`- ${locked.userId}: no longer locked`);
    expect(await refusal(locked.joinedRooms())).toBe("sent");
  });

  it("!shadow-ban is visible in the admin API's account, and !unshadow-ban lifts it", async () => {
    const banned = await scenario.synapse.registerUser("shadowme");

    expect(bodyOf(await ask(`!shadow-ban ${banned.userId}`))).toContain(`- ${banned.userId}: shadow-banned`);
    expect((await account(banned.userId)).shadow_banned).toBe(true);

    expect(bodyOf(await ask(`!unshadow-ban ${banned.userId}`))).toContain(`- ${banned.userId}: no longer shadow-banned`);
    expect((await account(banned.userId)).shadow_banned).toBe(false);
  });

  it("never restricts an allowlisted moderator or Warden itself, and names them as left out", async () => {
    const reply = bodyOf(await ask(`!lock ${scenario.moderatorUser.userId} ${scenario.wardenUser.userId} @someone:remote.invalid`));

    expect(reply).toBe(
      [
        "Lock 3 users: 0 done, 3 left as they were.",
        `- ${scenario.moderatorUser.userId}: left out: a moderator on Warden's allowlist`,
        `- ${scenario.wardenUser.userId}: left out: Warden's own account`,
        "- @someone:remote.invalid: left out: not possible for a remote account (Synapse changes only its own accounts)",
      ].join("\n"),
    );
    expect((await account(scenario.moderatorUser.userId)).locked).toBe(false);
    expect(await refusal(scenario.moderator.joinedRooms())).toBe("sent");
  });

  it("!deactivate --erase asks first, even by default, and after !confirm the account is deactivated and erased", async () => {
    const leaving = new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser("eraseme"));
    await leaving.joinRoom(roomId);

    const preview = bodyOf(await ask(`!deactivate ${leaving.userId} --erase`));

    expect(preview).toContain(`Preview: deactivate and erase ${leaving.userId}, for good`);
    expect(preview).toContain("Cannot be undone: ");
    expect(preview).toContain(`${leaving.userId}: will be deactivated and erased (now: not restricted)`);
    expect((await account(leaving.userId)).deactivated).toBe(false);
    const id = /!confirm (c-[0-9a-f]{6})/.exec(preview)?.[1];
    expect(id, preview).toBeDefined();

    const reply = bodyOf(await ask(`!confirm ${id ?? ""}`));

    expect(reply).toBe(`Deactivate and erase 1 user: 1 done.\n- ${leaving.userId}: deactivated and erased`);
    expect(await account(leaving.userId)).toMatchObject({ deactivated: true, erased: true });
    // Deactivation removed the access token: the user's old session is gone.
    expect(await refusal(leaving.joinedRooms())).toBe("M_UNKNOWN_TOKEN");

    expect(bodyOf(await ask(`!deactivate ${leaving.userId} --erase`))).toBe(
      `Not done: nothing to change: ${leaving.userId}: already deactivated and erased; nothing sent.`,
    );
  });
});
