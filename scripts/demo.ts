/**
 * `npm run demo`: a local Synapse, Warden's accounts and rooms, a sample room with two batches
 * of messages, two "flood" rooms for a small wave, a spammer with messages in two rooms and an
 * upload for a takedown, and Warden itself, all on loopback. Prints how to log in and what to
 * type. `npm run demo -- --walkthrough` types those commands itself as the moderator and prints
 * the management room as the conversation unfolds, checks the results with Synapse, then stops
 * everything.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { MatrixClient, type ClientEvent } from "./harness/client.js";
import { bodyOf, isEditOf, RoomRecorder } from "./harness/roomRecorder.js";
import { startSynapse, type RunningSynapse } from "./harness/synapse.js";
import { startWardenProcess, type RunningWardenProcess } from "./harness/warden.js";
import type { UserId } from "../src/matrix/ids.js";
import { SynapseAdminClient } from "../src/synapse/adminClient.js";

const BATCH_SIZE = 150;
const GAP_MS = 3_000;
/** The wave's rooms: found by name (`--matching flood`), so each keeps a local member until then. */
const FLOOD_ROOMS = 2;
/** A 1×1 PNG: the takedown's spammer posts it, so the takedown has a file to quarantine. */
const PIXEL_PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

interface Demo {
  synapse: RunningSynapse;
  warden?: RunningWardenProcess;
  recorder?: RoomRecorder;
}

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { walkthrough: { type: "boolean", default: false } } });
  say("Starting a local Synapse (loopback only)...");
  // SQLite, always: the demo must start in seconds and leave nothing running but what it stops.
  const demo: Demo = { synapse: await startSynapse({ database: "sqlite" }) };
  const stopAll = async (): Promise<void> => {
    await demo.recorder?.stop();
    await demo.warden?.stop();
    await demo.synapse.stop();
  };
  process.once("SIGINT", () => {
    say("\nStopping Warden and Synapse...");
    void stopAll().then(() => process.exit(0));
  });

  const { synapse } = demo;
  const moderatorPassword = `demo-${randomBytes(6).toString("hex")}`;
  const wardenUser = await synapse.registerUser("warden", { admin: true });
  const moderatorUser = await synapse.registerUser("moderator", { password: moderatorPassword });
  const spammerUser = await synapse.registerUser("spammer");
  const casinoUser = await synapse.registerUser("casino");
  const moderator = new MatrixClient(synapse.baseUrl, moderatorUser);
  const spammer = new MatrixClient(synapse.baseUrl, spammerUser);
  const casino = new MatrixClient(synapse.baseUrl, casinoUser);

  const managementRoomId = await moderator.createRoom({ name: "Warden management", preset: "private_chat" });
  await moderator.invite(managementRoomId, wardenUser.userId);
  const sampleRoomId = await spammer.createRoom({ name: "Sample spam room", room_alias_name: "sample", preset: "public_chat" });
  await moderator.joinRoom(sampleRoomId);

  say(`Sending ${BATCH_SIZE} messages, waiting ${GAP_MS / 1000} s, sending ${BATCH_SIZE} more...`);
  for (let index = 0; index < BATCH_SIZE; index++) await spammer.sendText(sampleRoomId, `first batch, message ${index + 1}`);
  // Synapse compares a purge point with when it received each event: the point lies in the gap.
  const firstBatchEnd = Date.now();
  await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  const point = new Date(firstBatchEnd + GAP_MS / 2).toISOString();
  for (let index = 0; index < BATCH_SIZE; index++) await spammer.sendText(sampleRoomId, `second batch, message ${index + 1}`);

  say(`Creating ${FLOOD_ROOMS} flood rooms for a wave, and two community rooms where ${casinoUser.userId} spams...`);
  const floodRoomIds: string[] = [];
  for (let index = 1; index <= FLOOD_ROOMS; index++) {
    const roomId = await spammer.createRoom({ name: `Flood ${index}`, room_alias_name: `flood${index}`, preset: "public_chat" });
    for (let message = 1; message <= 3; message++) await spammer.sendText(roomId, `flood ${index}, message ${message}`);
    floodRoomIds.push(roomId);
  }
  const communityRoomIds = [
    await moderator.createRoom({ name: "Lobby", room_alias_name: "lobby", preset: "public_chat" }),
    await moderator.createRoom({ name: "Off-topic", room_alias_name: "offtopic", preset: "public_chat" }),
  ];
  for (const roomId of communityRoomIds) {
    await casino.joinRoom(roomId);
    await moderator.sendText(roomId, "Welcome! Be nice.");
    await casino.sendText(roomId, "Win big at the casino: free spins for everyone!");
    await casino.sendText(roomId, "Limited offer, click the link in my profile");
  }
  const flyer = await casino.uploadMedia(PIXEL_PNG, "image/png", "bonus.png");
  await casino.sendEvent(communityRoomIds[0] ?? "", "m.room.message", { msgtype: "m.image", body: "bonus.png", url: flyer, info: { mimetype: "image/png", w: 1, h: 1, size: PIXEL_PNG.length } });

  const recorder = new RoomRecorder(moderator, managementRoomId);
  demo.recorder = recorder;
  await recorder.start();
  say("Starting Warden...");
  const warden = startWardenProcess({
    homeserverUrl: synapse.baseUrl,
    accessToken: wardenUser.accessToken,
    managementRoom: managementRoomId,
    allowlist: [moderatorUser.userId],
    logLevel: "info",
  });
  demo.warden = warden;
  await recorder.waitFor((event) => event.sender === wardenUser.userId && bodyOf(event).includes("is ready"), { what: "saying Warden is ready" });

  const commands = [
    "!help",
    `!purge #sample:localhost ${point} --local --reason "demo: remove the first batch"`,
    "!status",
    `!shutdown #sample:localhost --block --notify-as ${moderatorUser.userId} --room-name "Closed" --message "This room was closed by the moderators."`,
    "!shutdown --matching flood --block --purge-now",
    `!takedown ${casinoUser.userId} --deactivate --reason "demo: casino spam" --yes`,
    "!audit",
  ];
  say("");
  say(`Homeserver:       ${synapse.baseUrl}`);
  say(`Moderator login:  ${moderatorUser.userId}  password: ${moderatorPassword}`);
  say(`Management room:  ${managementRoomId} ("Warden management")`);
  say(`Sample room:      #sample:localhost (${sampleRoomId}), ${BATCH_SIZE * 2} messages in two batches`);
  say(`Flood rooms:      ${floodRoomIds.map((_, index) => `#flood${index + 1}:localhost`).join(", ")}, for a wave (--matching flood)`);
  say(`Takedown target:  ${casinoUser.userId}, 2 messages each in #lobby:localhost and #offtopic:localhost, and an image`);
  say(`Warden's log:     ${warden.logFile}`);
  say("");
  say("Commands to paste into the management room (the purge removes exactly the first batch):");
  for (const command of commands) say(`  ${command}`);
  say("The purge (with --local), the shutdown and the wave first show a preview: react with ✅ to it, or send the !confirm command it names.");
  say("The takedown runs at once (--yes): suspend, quarantine the image, redact, then deactivate, on one board.");
  say("");

  if (!values.walkthrough) {
    say("Log in with any Matrix client pointed at the homeserver above. Ctrl-C stops everything.");
    await new Promise<never>(() => undefined);
  }

  say("Walkthrough: typing the commands as the moderator.\n");
  const printer = printConversation(recorder, wardenUser.userId);
  const admin = new MatrixClient(synapse.baseUrl, wardenUser);
  const adminApi = new SynapseAdminClient({ homeserverUrl: synapse.baseUrl, accessToken: wardenUser.accessToken });
  for (const [index, command] of commands.entries()) {
    const mark = recorder.mark();
    const eventId = await moderator.sendText(managementRoomId, command);
    const answer = await recorder.waitFor((event) => event.sender === wardenUser.userId && repliesTo(event, eventId), {
      from: mark,
      timeoutMs: 120_000,
      what: `answering ${command}`,
    });
    const confirmationId = /c-[0-9a-f]{6}/.exec(bodyOf(answer))?.[0];
    if (confirmationId !== undefined) {
      // Show both ways to confirm: a ✅ reaction for the first preview, !confirm for the next.
      if (index === 1) {
        await moderator.sendEvent(managementRoomId, "m.reaction", {
          "m.relates_to": { rel_type: "m.annotation", event_id: answer.event_id, key: "✅" },
        });
        say("    (the moderator reacts with ✅ to the preview)");
      } else {
        await moderator.sendText(managementRoomId, `!confirm ${confirmationId}`);
      }
    }
    // A confirmed job, or one started at once with --yes, ends with a message that mentions the moderator.
    if (confirmationId !== undefined || command.includes("--yes")) {
      await recorder.waitFor((event) => event.sender === wardenUser.userId && repliesTo(event, eventId) && mentionsSomeone(event), {
        from: mark,
        timeoutMs: 120_000,
        what: `finishing ${command}`,
      });
    }
    if (command.startsWith("!purge")) {
      const messages = (await admin.adminRoomMessages(sampleRoomId)).filter((event) => event.type === "m.room.message").map(bodyOf);
      const first = messages.filter((body) => body.startsWith("first batch")).length;
      const second = messages.filter((body) => body.startsWith("second batch")).length;
      say(`\n  Checked with Synapse: ${first} of the first batch and ${second} of the second batch remain.\n`);
    }
    if (command.startsWith("!shutdown --matching")) {
      const blocked = await Promise.all(floodRoomIds.map(async (roomId) => (await admin.adminRoomBlockStatus(roomId)).block));
      say(`\n  Checked with Synapse: ${blocked.filter(Boolean).length} of ${FLOOD_ROOMS} flood rooms are blocked.\n`);
    }
    if (command.startsWith("!takedown")) say(`\n  Checked with Synapse: ${await takedownResult(admin, adminApi, casino, communityRoomIds, flyer)}.\n`);
  }
  printer.stop();
  const left = (await admin.adminRoomBlockStatus(sampleRoomId)).block;
  const members = (await admin.adminRoomMembers(sampleRoomId)).length;
  say(`\nChecked with Synapse: the sample room is ${left ? "blocked" : "NOT blocked"} and has ${members} member${members === 1 ? "" : "s"} left.`);
  say("Its data stays until the kicked members' clients have seen that they left (at the latest a day later, config shutdownPurgeAfter); then Warden purges it. --purge-now deletes at once.");
  await stopAll();
  say("Walkthrough finished; Warden and Synapse are stopped.");
}

/** What the homeserver says of the takedown's user afterwards: the account, their messages and their file. */
async function takedownResult(admin: MatrixClient, adminApi: SynapseAdminClient, user: MatrixClient, roomIds: readonly string[], file: string): Promise<string> {
  const account = await adminApi.userAccount(user.userId as UserId);
  const state = account.ok ? `${account.value.suspended === true ? "suspended" : "NOT suspended"} and ${account.value.deactivated === true ? "deactivated" : "NOT deactivated"}` : `unreadable (${account.error.userMessage})`;
  let left = 0;
  for (const roomId of roomIds) {
    const events = await admin.adminRoomMessages(roomId);
    // A redacted message keeps its place in the room, with its content removed.
    left += events.filter((event) => event.sender === user.userId && event.type === "m.room.message" && bodyOf(event) !== "").length;
  }
  const download = await admin.downloadMedia(file);
  const served = download.status === 200 ? "still served" : `no longer served (${download.errcode ?? `HTTP ${download.status}`})`;
  return `${user.userId} is ${state}; ${left} of their messages in #lobby and #offtopic still have content; their image is ${served}`;
}

function repliesTo(event: ClientEvent, eventId: string): boolean {
  const relation = event.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: unknown } } | undefined;
  return relation?.["m.in_reply_to"]?.event_id === eventId;
}

function mentionsSomeone(event: ClientEvent): boolean {
  const mentions = event.content["m.mentions"] as { user_ids?: unknown } | undefined;
  return Array.isArray(mentions?.user_ids) && mentions.user_ids.length > 0;
}

/** Prints each new event of the management room; edits are shown as such, indented. */
function printConversation(recorder: RoomRecorder, wardenUserId: string): { stop(): void } {
  let printed = recorder.mark();
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      await recorder.waitFor(() => true, { from: printed, timeoutMs: 600_000 }).catch(() => undefined);
      for (; printed < recorder.events.length; printed++) {
        const event = recorder.events[printed];
        if (event === undefined || event.type !== "m.room.message") continue;
        const who = event.sender === wardenUserId ? "Warden" : event.sender;
        const relation = event.content["m.relates_to"] as { rel_type?: unknown; event_id?: unknown } | undefined;
        const body = bodyOf(event);
        if (relation?.rel_type === "m.replace" && typeof relation.event_id === "string" && isEditOf(event, relation.event_id)) {
          const lines = body.replace(/^\* /, "").split("\n");
          // A preview's news is its last line (confirmed, expired); a progress message's is its first.
          const news = (lines[0] ?? "").startsWith("Preview:") ? lines.at(-1) : lines[0];
          say(`    (${who} edits its message) ${news ?? ""}`);
        } else {
          say(`[${new Date(event.origin_server_ts).toISOString().slice(11, 19)}] ${who}:\n${indent(body)}`);
        }
      }
    }
  };
  void loop();
  return {
    stop() {
      running = false;
      // Flush what already arrived.
      for (; printed < recorder.events.length; printed++) {
        const event = recorder.events[printed];
        if (event !== undefined && event.type === "m.room.message") say(`${event.sender === wardenUserId ? "Warden" : event.sender}:\n${indent(bodyOf(event))}`);
      }
    },
  };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
