import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import type { ClientEvent, MatrixClient } from "../../../scripts/harness/client.js";
import { repliesTo, type Scenario, startScenario } from "../scenario.js";

let scenario: Scenario;
/** The spammer's own room (created by them, the outsider invited and joined) and the outsider's lobby they joined. */
let pillsRoom: string;
let lobby: string;
let upload: string;

/** POST /_matrix/client/v3/users/<user>/report, as a user's client reports a user (Synapse ≥ 1.133). */
async function reportUser(reporter: MatrixClient, target: string, reason: string): Promise<void> {
  const response = await fetch(`${reporter.baseUrl}/_matrix/client/v3/users/${encodeURIComponent(target)}/report`, {
    method: "POST",
    headers: { authorization: `Bearer ${reporter.user.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ reason }),
  });
  expect(response.status).toBe(200);
}

/** Sends a command; its event ID, the recorder mark before it, and the text of Warden's reply. */
async function ask(command: string): Promise<{ eventId: string; mark: number; text: string }> {
  const { eventId, mark } = await scenario.send(command);
  return { eventId, mark, text: bodyOf(await scenario.replyTo(eventId, mark)) };
}

beforeAll(async () => {
  // Reports are polled often, so Warden's own record of the report exists before the look.
  scenario = await startScenario({ extraConfig: { reports: { pollEvery: "2s" } } });
  const { spammer, outsider } = scenario;
  pillsRoom = await spammer.createRoom({ name: "Cheap pills", preset: "public_chat" });
  await spammer.invite(pillsRoom, outsider.userId);
  await outsider.joinRoom(pillsRoom);
  lobby = await outsider.createRoom({ name: "Lobby", preset: "public_chat" });
  await spammer.joinRoom(lobby);
  const reported = await spammer.sendText(pillsRoom, "cheap pills at https://spam.example");
  await spammer.sendText(lobby, "visit my room for cheap pills");
  upload = await spammer.uploadMedia(new Uint8Array(1234).fill(7), "image/png", "pills.png");
  await spammer.sendEvent(pillsRoom, "m.room.message", { msgtype: "m.image", body: "pills.png", url: upload, info: { mimetype: "image/png", size: 1234 } });
  await outsider.reportEvent(pillsRoom, reported, "spam");
  await reportUser(outsider, spammer.userId, "sells pills everywhere");
  await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && bodyOf(event).startsWith("Report ") && bodyOf(event).includes(spammer.userId), {
    timeoutMs: 30_000,
    what: "posting the card of the report about the spammer",
  });
});

afterAll(async () => {
  await scenario.stop();
});

describe("!user against a real Synapse", () => {
  it("looks at a local spammer: rooms, the room they created, the invite and joins of the day, the upload, every report, the ready commands, and no address", async () => {
    const spammer = scenario.spammer.userId;
    const { text } = await ask(`!user ${spammer}`);

    expect(text).toContain(`User ${spammer} (an account of this homeserver)`);
    expect(text).toContain("Account: admin no · deactivated no · erased no · suspended no · locked no · shadow-banned no");
    expect(text).toMatch(/\nCreated: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ (s|min) ago\)/);
    expect(text).toMatch(/\nDevices \(1\):\n- [A-Z]+: last seen /);
    expect(text).toContain("Joined rooms (2):");
    expect(text).toContain(`- "Cheap pills" ${pillsRoom}: 2 joined (2 local)`);
    expect(text).toContain(`- "Lobby" ${lobby}: 2 joined (2 local)`);
    expect(text).toContain("Memberships (every room this server is in): joined 2");
    expect(text).toContain(`Rooms they created: 1: "Cheap pills" ${pillsRoom} (among the rooms of their memberships)`);
    expect(text).toContain("Last 24 h: invites sent: 1 · rooms joined (counting rooms left again): 2");
    expect(text).toContain("Media: 1 file, 1.2 KiB");
    expect(text).toMatch(/- Warden's: 1 about their events \(1 open\), 0 made by them; newest: report \d+ \(open\) .* in !\S+ by @outsider:\S+: "spam"/);
    expect(text).toMatch(/- The homeserver's event reports about their events: 1; newest: id \d+ .* by @outsider:\S+: "spam"/);
    expect(text).toMatch(/- The homeserver's reports about the user: 1; newest: id \d+ .* by @outsider:\S+: "sells pills everywhere"/);
    for (const command of [`!suspend ${spammer}`, `!redact ${spammer}`, `!quarantine ${spammer}`, `!takedown ${spammer}`, `!media ${spammer}`]) {
      expect(text).toContain(`- ${command}: `);
    }
    expect(text).toContain("Addresses: not shown here; --ips posts them in a separate notice while this room is private.");
    expect(text).not.toContain("127.0.0.1");
    // Looking changed nothing: the spammer can still send.
    await scenario.spammer.sendText(pillsRoom, "still here");
  });

  it("--ips posts the session addresses in a notice of their own that replies to the command; the look names none", async () => {
    const spammer = scenario.spammer.userId;
    const { eventId, mark } = await scenario.send(`!user ${spammer} --ips`);
    const fromWarden = (start: string) => (event: ClientEvent) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && bodyOf(event).startsWith(start);

    const notice = bodyOf(await scenario.recorder.waitFor(fromWarden(`Addresses of ${spammer}'s sessions`), { from: mark, what: "posting the addresses notice" }));
    const look = bodyOf(await scenario.recorder.waitFor(fromWarden(`User ${spammer}`), { from: mark, what: "answering with the look" }));

    expect(notice).toContain(`for ${scenario.moderatorUser.userId}`);
    // The harness's tokens were issued without a device: Synapse files their sessions under "".
    expect(notice).toMatch(/\n- ([A-Z]+|\(no device ID\)): 127\.0\.0\.1 · last seen /);
    expect(look).toMatch(/Addresses: posted in a separate notice \(\d+ connections?\); redact it once read\./);
    expect(look).not.toContain("127.0.0.1");
  });

  it("a remote-looking user on a server nobody knows: this server holds nothing of them", async () => {
    const { text } = await ask("!user @ghost:unknown.example");

    expect(text).toContain("User @ghost:unknown.example (of another server, unknown.example)");
    expect(text).toContain("This homeserver has no account for them. What it holds of them:");
    expect(text).toContain("Rooms shared with local users: 0 (of the 0 rooms they are joined to here)");
    expect(text).toContain("Memberships here: none in any room this server is in");
    expect(text).toContain("- The homeserver's event reports about their events: 0");
    expect(text).toContain("This server holds nothing of them: no room, no membership, no report.");
    expect(text).toContain("- !redact @ghost:unknown.example: ");
    expect(text).not.toContain("!suspend");
  });

  it("a local user ID without an account: no such account on this homeserver", async () => {
    const { text } = await ask(`!user @nobody:${scenario.synapse.serverName}`);
    expect(text).toBe(`@nobody:${scenario.synapse.serverName}: no such account on this homeserver.`);
  });
});
