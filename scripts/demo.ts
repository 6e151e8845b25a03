/**
 * `npm run demo`: a local Synapse, Warden's accounts and rooms, a sample room with two batches
 * of messages, and Warden itself, all on loopback. Prints how to log in and what to type.
 * `npm run demo -- --walkthrough` types those commands itself as the moderator and prints the
 * management room as the conversation unfolds, then stops everything.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { MatrixClient, type ClientEvent } from "./harness/client.js";
import { bodyOf, isEditOf, RoomRecorder } from "./harness/roomRecorder.js";
import { startSynapse, type RunningSynapse } from "./harness/synapse.js";
import { startWardenProcess, type RunningWardenProcess } from "./harness/warden.js";

const BATCH_SIZE = 150;
const GAP_MS = 3_000;

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
  const moderator = new MatrixClient(synapse.baseUrl, moderatorUser);
  const spammer = new MatrixClient(synapse.baseUrl, spammerUser);

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
    "!audit",
  ];
  say("");
  say(`Homeserver:       ${synapse.baseUrl}`);
  say(`Moderator login:  ${moderatorUser.userId}  password: ${moderatorPassword}`);
  say(`Management room:  ${managementRoomId} ("Warden management")`);
  say(`Sample room:      #sample:localhost (${sampleRoomId}), ${BATCH_SIZE * 2} messages in two batches`);
  say(`Warden's log:     ${warden.logFile}`);
  say("");
  say("Commands to paste into the management room (the purge removes exactly the first batch):");
  for (const command of commands) say(`  ${command}`);
  say("The purge (with --local) and the shutdown first show a preview: react with ✅ to it, or send the !confirm command it names.");
  say("");

  if (!values.walkthrough) {
    say("Log in with any Matrix client pointed at the homeserver above. Ctrl-C stops everything.");
    await new Promise<never>(() => undefined);
  }

  say("Walkthrough: typing the commands as the moderator.\n");
  const printer = printConversation(recorder, wardenUser.userId);
  const admin = new MatrixClient(synapse.baseUrl, wardenUser);
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
  }
  printer.stop();
  const left = (await admin.adminRoomBlockStatus(sampleRoomId)).block;
  const members = (await admin.adminRoomMembers(sampleRoomId)).length;
  say(`\nChecked with Synapse: the sample room is ${left ? "blocked" : "NOT blocked"} and has ${members} member${members === 1 ? "" : "s"} left.`);
  say("Its data stays until the kicked members' clients have seen that they left (at the latest a day later, config shutdownPurgeAfter); then Warden purges it. --purge-now deletes at once.");
  await stopAll();
  say("Walkthrough finished; Warden and Synapse are stopped.");
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
