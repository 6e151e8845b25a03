import { crc32, deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientEvent, type MatrixClient, type SyncResponse } from "../../../scripts/harness/client.js";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { mentions, repliesTo, startScenario, type Scenario } from "../scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A real 1×1 PNG of one colour (Synapse reads and thumbnails what it is given): each colour is
 * other bytes, so no two tests' files share a content hash (a quarantine takes every file with
 * the same content, and counts it).
 */
function png(rgb: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const pixel = Buffer.from([0, (rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(pixel)), pngChunk("IEND", Buffer.alloc(0))]);
}

/** A public room of the spammer's, the outsider in it too, where the spammer posts an image. */
async function roomWithImage(name: string, rgb: number): Promise<{ roomId: string; mxc: string }> {
  const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
  await scenario.outsider.joinRoom(roomId);
  const bytes = png(rgb);
  const mxc = await scenario.spammer.uploadMedia(bytes, "image/png", "offer.png");
  await scenario.spammer.sendEvent(roomId, "m.room.message", { msgtype: "m.image", body: "offer.png", url: mxc, info: { mimetype: "image/png", size: bytes.length, w: 1, h: 1 } });
  await scenario.spammer.sendText(roomId, "buy now");
  return { roomId, mxc };
}

/** GET /_synapse/admin/v1/media/<server>/<id> with Warden's admin token: what an admin sees of one file. */
async function adminMediaInfo(mxc: string): Promise<{ quarantined_by: string | null }> {
  const [server, mediaId] = mxc.replace(/^mxc:\/\//, "").split("/");
  const response = await fetch(`${scenario.synapse.baseUrl}/_synapse/admin/v1/media/${encodeURIComponent(server ?? "")}/${encodeURIComponent(mediaId ?? "")}`, {
    headers: { authorization: `Bearer ${scenario.wardenUser.accessToken}` },
    signal: AbortSignal.timeout(30_000),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { media_info: { quarantined_by: string | null } }).media_info;
}

/** GET /_synapse/admin/v1/room/<room>/media: the files the room's messages name that the server still holds. */
async function roomMediaList(roomId: string): Promise<string[]> {
  const response = await fetch(`${scenario.synapse.baseUrl}/_synapse/admin/v1/room/${encodeURIComponent(roomId)}/media`, {
    headers: { authorization: `Bearer ${scenario.wardenUser.accessToken}` },
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { local: string[]; remote: string[] };
  return [...body.local, ...body.remote];
}

function roomIsGone(roomId: string): Promise<boolean> {
  return scenario.admin.adminRoomGone(roomId);
}

/** The file is no longer served to an ordinary user, and an admin sees it quarantined by Warden. */
async function expectQuarantined(mxc: string): Promise<void> {
  const download = await scenario.outsider.downloadMedia(mxc);
  expect(download).toEqual({ status: 404, errcode: "M_NOT_FOUND" });
  expect((await adminMediaInfo(mxc)).quarantined_by).toBe(scenario.wardenUser.userId);
}

/** Each member's client syncs from the token it had before the shutdown, from a new address (Synapse then records its device as seen at once). */
async function clientsSync(tokens: ReadonlyMap<MatrixClient, string>, address: string): Promise<Map<MatrixClient, SyncResponse>> {
  const answers = new Map<MatrixClient, SyncResponse>();
  for (const [client, since] of tokens) answers.set(client, await client.sync({ since, fromAddress: address }));
  return answers;
}

function lines(event: ClientEvent): string[] {
  return bodyOf(event).split("\n");
}

describe("!shutdown --quarantine-media against a real Synapse", () => {
  it("one room, two steps: the media stops being served before the room is emptied, and is quarantined again before the purge", async () => {
    const { roomId, mxc } = await roomWithImage("media single", 0xc01dc0);
    expect((await scenario.outsider.downloadMedia(mxc)).status).toBe(200);
    expect(await roomMediaList(roomId)).toEqual([mxc]);
    const tokens = new Map([
      [scenario.outsider, (await scenario.outsider.sync()).next_batch],
      [scenario.spammer, (await scenario.spammer.sync()).next_batch],
    ]);

    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --quarantine-media --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(lines(accepted)).toContain("Media quarantined: 1 file before this delete, no longer served");
    const first = await scenario.finalFor(eventId, mark);
    expect(mentions(first)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(first)).toMatch(/done in/);
    expect(lines(first)[1]).toBe("Media quarantined: 1 file before this delete, no longer served");
    await expectQuarantined(mxc);
    expect(await roomIsGone(roomId)).toBe(false);

    await clientsSync(tokens, "10.19.0.1");
    const purged = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0 && event.event_id !== first.event_id,
      { from: mark, timeoutMs: 90_000, what: "the purge step's final message" },
    );
    expect(bodyOf(purged)).toMatch(/done in/);
    expect(lines(purged)).toContain("Media quarantined: 1 file before this delete, no longer served");
    expect(bodyOf(purged)).toContain("Result: the room is deleted from the database");
    expect(await roomIsGone(roomId)).toBe(true);
    // After the purge the room's media can no longer be found; what was quarantined before stays so.
    expect(await roomMediaList(roomId)).toEqual([]);
    await expectQuarantined(mxc);
  });

  it("a wave of the rooms matching a word: the board and the summary carry the media step, and !status each room's count", async () => {
    const rooms = [await roomWithImage("mediawave one", 0x12ab34), await roomWithImage("mediawave two", 0x56cd78)];
    for (const { mxc } of rooms) expect((await scenario.outsider.downloadMedia(mxc)).status).toBe(200);

    const { eventId, mark } = await scenario.send("!shutdown --matching mediawave --quarantine-media --block --purge-now --yes");
    const board = await scenario.replyTo(eventId, mark);
    expect(lines(board)[0]).toMatch(/^Wave (w-[0-9a-f]{6}) \(shut down, 2 rooms\)/);
    expect(lines(board)[1]).toMatch(/^Media quarantined: \d files? in \d rooms?/);
    const waveId = /^Wave (w-[0-9a-f]{6})/.exec(lines(board)[0] ?? "")?.[1] ?? "";

    const summary = await scenario.finalFor(eventId, mark);
    expect(lines(summary)[0]).toMatch(/finished in [^:]+: 2 done, 0 failed\.$/);
    expect(lines(summary)[1]).toBe("Media quarantined: 2 files in 2 rooms");
    const lastBoard = await scenario.recorder.waitFor(
      (event) => scenario.editsOf(board.event_id).includes(event) && bodyOf(event).includes("2 done, 0 running"),
      { from: mark, timeoutMs: 30_000, what: "the board's last edit" },
    );
    expect(bodyOf(lastBoard)).toContain("Media quarantined: 2 files in 2 rooms");

    for (const { roomId, mxc } of rooms) {
      await expectQuarantined(mxc);
      expect(await roomIsGone(roomId)).toBe(true);
    }

    const status = await scenario.send(`!status ${waveId}`);
    const rows = lines(await scenario.replyTo(status.eventId, status.mark));
    expect(rows[1]).toBe("Media quarantined: 2 files in 2 rooms");
    for (const { roomId } of rooms) expect(rows.find((row) => row.includes(roomId))).toMatch(/: done, task s-[0-9a-f]{6}, 1 attempt, media: 1 quarantined$/);
  });
});
