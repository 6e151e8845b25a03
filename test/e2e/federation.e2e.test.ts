import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixClient } from "../../scripts/harness/client.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { startFederatedPair, type RunningSynapse } from "../../scripts/harness/synapse.js";
import { pointAfterNow, type Scenario, startScenario } from "./scenario.js";

/**
 * The default purge (no --local) deletes remote users' events and keeps local ones. On one
 * homeserver every event is local, so this needs a second Synapse federating with the first.
 */
let scenario: Scenario;
let remote: RunningSynapse;

beforeAll(async () => {
  const [home, other] = await startFederatedPair();
  remote = other;
  scenario = await startScenario({ synapse: home });
});

afterAll(async () => {
  await scenario.stop();
  await remote.stop();
});

describe("purge with a remote user in the room", () => {
  it("without --local deletes the remote user's messages before the point and keeps the local user's", async () => {
    const remoteUser = new MatrixClient(remote.baseUrl, await remote.registerUser("visitor"));
    const roomId = await scenario.spammer.createRoom({ name: "mixed", room_alias_name: "mixed", preset: "public_chat" });
    await remoteUser.joinRoom(`#mixed:${scenario.synapse.serverName}`);

    const localIds: string[] = [];
    const remoteIds: string[] = [];
    for (let index = 0; index < 5; index++) {
      localIds.push(await scenario.spammer.sendText(roomId, `local ${index}`));
      remoteIds.push(await remoteUser.sendText(roomId, `remote ${index}`));
    }
    // Wait until the home server has received the last remote message: the point compares reception times.
    const lastRemote = remoteIds.at(-1) ?? "";
    await scenario.spammer.waitForEvent(roomId, (event) => event.event_id === lastRemote, 30_000);
    const cutoff = await pointAfterNow();
    const laterRemote = await remoteUser.sendText(roomId, "remote later");
    await scenario.spammer.waitForEvent(roomId, (event) => event.event_id === laterRemote, 30_000);

    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)}`);
    expect(bodyOf(await scenario.replyTo(eventId, mark))).toContain("kept (add --local to delete them)");
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);

    const remoteBefore = await Promise.all(remoteIds.map((id) => scenario.admin.adminEventExists(id)));
    expect(remoteBefore).toEqual([false, false, false, false, false]);
    const localKept = await Promise.all(localIds.map((id) => scenario.admin.adminEventExists(id)));
    expect(localKept).toEqual([true, true, true, true, true]);
    expect(await scenario.admin.adminEventExists(laterRemote)).toBe(true);
  });
});
