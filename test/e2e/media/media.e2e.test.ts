import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { type Scenario, startScenario } from "../scenario.js";

let scenario: Scenario;
let roomId: string;
/** Two files the spammer uploaded and posted as images, with their sizes. */
let small: { uri: string; bytes: Uint8Array };
let large: { uri: string; bytes: Uint8Array };

function filled(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

async function uploadAndPost(bytes: Uint8Array, name: string): Promise<{ uri: string; bytes: Uint8Array }> {
  const uri = await scenario.spammer.uploadMedia(bytes, "image/png", name);
  await scenario.spammer.sendEvent(roomId, "m.room.message", { msgtype: "m.image", body: name, url: uri, info: { mimetype: "image/png", size: bytes.length } });
  return { uri, bytes };
}

/** The admin API called straight from the test (the bot's token), as another admin would. */
async function protectMedia(uri: string): Promise<void> {
  const mediaId = uri.split("/").at(-1) ?? "";
  const response = await fetch(`${scenario.synapse.baseUrl}/_synapse/admin/v1/media/protect/${encodeURIComponent(mediaId)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${scenario.wardenUser.accessToken}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(response.status).toBe(200);
}

/** Sends a command and returns the text of Warden's reply to it. */
async function ask(command: string): Promise<string> {
  const { eventId, mark } = await scenario.send(command);
  return bodyOf(await scenario.replyTo(eventId, mark));
}

/** Sends a !media delete, checks it was previewed and nothing went yet, confirms it; the preview and the result. */
async function deleteConfirmed(command: string, untouched: readonly string[]): Promise<{ preview: string; result: string }> {
  const preview = await ask(command);
  expect(preview).toContain("Nothing is done yet.");
  for (const uri of untouched) expect((await scenario.spammer.downloadMedia(uri)).status).toBe(200);
  const id = /c-[0-9a-f]{6}/.exec(preview)?.[0];
  if (id === undefined) throw new Error(`no confirmation id in: ${preview}`);
  return { preview, result: await ask(`!confirm ${id}`) };
}

beforeAll(async () => {
  scenario = await startScenario();
  roomId = await scenario.spammer.createRoom({ name: "media spam", preset: "public_chat" });
  small = await uploadAndPost(filled(100, 1), "small.png");
  large = await uploadAndPost(filled(3000, 2), "large.png");
});

afterAll(async () => {
  await scenario.stop();
});

describe("!media against a real Synapse", () => {
  it("lists a room's two files with their sizes, and counts the user's uploads", async () => {
    const room = await ask(`!media ${roomId}`);
    expect(room).toContain(`Media of ${roomId}: 2 files (2 of this server, 0 of other servers), 3.0 KiB.`);
    expect(room).toContain(`- ${small.uri} · 100 B · image/png · ${scenario.spammer.userId} · `);
    expect(room).toContain(`- ${large.uri} · 2.9 KiB · image/png · ${scenario.spammer.userId} · `);

    const user = await ask(`!media ${scenario.spammer.userId}`);
    expect(user).toContain(`Uploads of ${scenario.spammer.userId}: 2 files, 3.0 KiB.`);

    const file = await ask(`!media ${large.uri}`);
    expect(file).toContain("Size: 2.9 KiB (3000 bytes)");
    expect(file).toContain("Protected from quarantine: no");
  });

  it("!media delete <mxc>, confirmed, removes the file: gone from !media and from the user's download", async () => {
    const { preview, result } = await deleteConfirmed(`!media delete ${small.uri}`, [small.uri]);
    expect(preview).toContain("Preview: delete 1 file (100 B) of this homeserver");
    expect(result).toContain("Deleted 1 file (100 B).");

    const download = await scenario.spammer.downloadMedia(small.uri);
    expect(download.status).toBe(404);
    expect(download.bytes).toBeUndefined();
    // The room's message still names the file, which the server no longer holds.
    expect(await ask(`!media ${roomId}`)).toContain(`- ${small.uri} · details not read: this server no longer holds it (deleted)`);
    expect(await ask(`!media ${scenario.spammer.userId}`)).toContain(`Uploads of ${scenario.spammer.userId}: 1 file, 2.9 KiB.`);
    expect(await ask(`!media ${small.uri}`)).toContain(`this server holds no file ${small.uri}.`);
  });

  it("!media delete @user keeps a file an admin protected, and deletes the others", async () => {
    const extra = await uploadAndPost(filled(500, 3), "extra.png");
    await protectMedia(large.uri);

    const { preview, result } = await deleteConfirmed(`!media delete ${scenario.spammer.userId}`, [large.uri, extra.uri]);
    expect(preview).toContain("Preview: delete 1 file (500 B) of this homeserver");
    expect(preview).toContain(`Kept, protected: 1 file: ${large.uri}`);
    expect(result).toContain("Deleted 1 file (500 B).");
    expect(result).toContain(`Kept, protected at the preview (1): ${large.uri}`);

    const kept = await scenario.spammer.downloadMedia(large.uri);
    expect(kept.status).toBe(200);
    expect(kept.bytes).toEqual(large.bytes);
    expect((await scenario.spammer.downloadMedia(extra.uri)).status).toBe(404);
    expect(await ask(`!media ${large.uri}`)).toContain("Protected from quarantine: yes (Warden never deletes it)");
  });

  it("refuses to delete a remote file, naming the word and the reason", async () => {
    const reply = await ask("!media delete mxc://elsewhere.example/abc");
    expect(reply).toContain('Bad <target> (got "mxc://elsewhere.example/abc")');
    expect(reply).toContain("only local media can be deleted; quarantine remote media instead");
  });
});
