import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientEvent } from "../../../scripts/harness/client.js";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { parseMxc, type Mxc } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { startScenario, type Scenario } from "../scenario.js";

/**
 * !quarantine, --undo and !protect against a real Synapse: what an ordinary user can download
 * afterwards, and what the admin media API says. The config is the default one, so a quarantine
 * asks for confirmation (confirmBefore lists it) and is confirmed with !confirm.
 */

let scenario: Scenario;
/** Warden's own token, used only to read the homeserver's media records. */
let admin: SynapseAdminClient;
let roomId: string;
/** Sent into the room: `image` (its content also uploaded elsewhere as `twin`) and `other`. */
let image: string;
let other: string;
let twin: string;
const IMAGE_BYTES = new TextEncoder().encode("GIF89a an image that must stop being served");
const OTHER_BYTES = new TextEncoder().encode("GIF89a another image of the same room");

beforeAll(async () => {
  scenario = await startScenario();
  admin = new SynapseAdminClient({ homeserverUrl: scenario.synapse.baseUrl, accessToken: scenario.wardenUser.accessToken });
  roomId = await scenario.spammer.createRoom({ name: "media abuse", preset: "public_chat" });
  image = await scenario.spammer.uploadMedia(IMAGE_BYTES, "image/gif", "abuse.gif");
  other = await scenario.spammer.uploadMedia(OTHER_BYTES, "image/gif", "other.gif");
  // The same content uploaded by someone else and never sent into the room.
  twin = await scenario.outsider.uploadMedia(IMAGE_BYTES, "image/gif", "copy.gif");
  for (const [uri, name] of [[image, "abuse.gif"], [other, "other.gif"]] as const) {
    await scenario.spammer.sendEvent(roomId, "m.room.message", { msgtype: "m.image", body: name, url: uri, info: { mimetype: "image/gif", size: 40 } });
  }
});

afterAll(async () => {
  await scenario.stop();
});

async function ask(command: string): Promise<ClientEvent> {
  const { eventId, mark } = await scenario.send(command);
  return scenario.replyTo(eventId, mark);
}

/** Sends a command that asks first, checks its preview, confirms it with !confirm and returns the reply to that. */
async function confirmed(command: string, previewed: (preview: string) => void): Promise<string> {
  const preview = bodyOf(await ask(command));
  previewed(preview);
  const id = /!confirm (c-[0-9a-f]{6})/.exec(preview)?.[1];
  expect(id, preview).toBeDefined();
  return bodyOf(await ask(`!confirm ${id ?? ""}`));
}

/** What an ordinary user (the outsider, a local account) gets when downloading the file. */
async function served(uri: string): Promise<boolean> {
  const answer = await scenario.outsider.downloadMedia(uri);
  if (answer.status === 200) return true;
  expect(answer.status, `${uri}: ${JSON.stringify(answer)}`).toBe(404);
  expect(answer.errcode).toBe("M_NOT_FOUND");
  return false;
}

function mxc(uri: string): Mxc {
  const parsed = parseMxc(uri);
  if (parsed === undefined) throw new Error(`not an mxc URI: ${uri}`);
  return parsed;
}

async function infoOf(uri: string) {
  const info = await admin.mediaInfo(mxc(uri));
  if (!info.ok) throw new Error(`media info of ${uri}: ${info.error.userMessage}`);
  return info.value.media_info;
}

describe("media quarantine against a real Synapse", () => {
  it("!quarantine <room>, confirmed, stops ordinary users' downloads of its files and their duplicates; the admin API lists them quarantined", async () => {
    expect(await served(image)).toBe(true);

    const reply = await confirmed(`!quarantine ${roomId}`, (preview) => {
      expect(preview).toContain(`Preview: quarantine the media of ${roomId}`);
      expect(preview).toContain(`Room: "media abuse" ${roomId}: its messages name 2 files of this server and 0 of other servers`);
      expect(preview).toContain("Since Synapse 1.128 a quarantine reaches every file with the same content");
    });

    // The two files the room names, and the twin by its content.
    expect(reply).toContain(`Quarantine of 1 target: 1 done.\n- ${roomId}: 3 files quarantined`);
    expect([await served(image), await served(other), await served(twin)]).toEqual([false, false, false]);
    expect((await infoOf(image)).quarantined_by).toBe(scenario.wardenUser.userId);
    expect((await infoOf(twin)).quarantined_by).toBe(scenario.wardenUser.userId);
  });

  it("!quarantine --undo serves the files again, the duplicate by content with them", async () => {
    const reply = bodyOf(await ask(`!quarantine --undo ${image} ${other}`));

    expect(reply).toContain(`Quarantine undone of 2 targets: 2 done.\n- ${image}: served again\n- ${other}: served again`);
    const download = await scenario.outsider.downloadMedia(image);
    expect(download.status).toBe(200);
    expect(Buffer.from(download.bytes ?? []).equals(Buffer.from(IMAGE_BYTES))).toBe(true);
    expect([await served(other), await served(twin)]).toEqual([true, true]);
    expect((await infoOf(image)).quarantined_by).toBeNull();
  });

  it("!protect keeps a file out of a room quarantine, while the room's other file goes", async () => {
    expect(bodyOf(await ask(`!protect ${image}`))).toContain(`- ${image}: protected from quarantine`);
    expect((await infoOf(image)).safe_from_quarantine).toBe(true);

    const reply = await confirmed(`!quarantine ${roomId}`, (preview) => {
      expect(preview).toContain("a room or user quarantine leaves them out");
    });

    expect(reply).toContain(`- ${roomId}: 1 file quarantined`);
    expect([await served(image), await served(other), await served(twin)]).toEqual([true, false, true]);
  });

  it("a protected file named alone is left served, by Warden's answer and by Synapse's own single-file quarantine", async () => {
    expect(bodyOf(await ask(`!quarantine ${image}`))).toBe(
      `Not done: ${image}: protected from quarantine, and Synapse leaves a protected file served even when it is named alone; nothing changed (!unprotect it first)`,
    );
    // What Warden's answer relies on: Synapse's single-file form spares a protected file too.
    expect((await admin.quarantineMedia(mxc(image))).ok).toBe(true);
    expect((await infoOf(image)).quarantined_by).toBeNull();
    expect(await served(image)).toBe(true);
  });

  it("answers a remote file this server never cached, and an unknown local id for !protect, changing nothing", async () => {
    expect(bodyOf(await ask("!quarantine mxc://remote.invalid/NeverCached"))).toBe(
      "Not done: mxc://remote.invalid/NeverCached: this server holds no such file (it has no cached copy of that server's file); nothing changed",
    );
    expect(bodyOf(await ask(`!protect mxc://${scenario.synapse.serverName}/NoSuchMediaId`))).toBe(
      `Protect of 1 target: 0 done, 1 left as it was.\n- mxc://${scenario.synapse.serverName}/NoSuchMediaId: this server holds no such file; nothing changed`,
    );
    expect(bodyOf(await ask("!protect mxc://remote.invalid/NeverCached"))).toContain(
      `Bad <mxc> (got "mxc://remote.invalid/NeverCached"): expected a file of this server, mxc://${scenario.synapse.serverName}/<media id>: Synapse protects only this server's own files.`,
    );
  });
});
