import { describe, expect, it } from "vitest";
import { parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";
import { ConfirmationBook } from "../../../src/commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../../../src/commands/confirmation/confirmationFlow.js";
import { CommandDispatcher, type IncomingEvent } from "../../../src/commands/dispatcher.js";
import type { StoredReport } from "../../../src/model/reports.js";
import { cardReactionCommand } from "../../../src/reports/reactions.js";
import { commandFakes, MANAGEMENT_ROOM } from "../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryHandledEvents } from "../../fakes/memoryHandledEvents.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";

const MOD = "@mod:example.org";
const ROOM = "!lobby:example.org";

function setup() {
  const fakes = commandFakes();
  fakes.admin.addRoom(ROOM, "Lobby");
  fakes.admin.events.set("$bad", { event_id: "$bad", room_id: ROOM, sender: "@spammer:example.org", type: "m.room.message", origin_server_ts: FIXED_NOW - 5000 });
  const report: StoredReport = { id: 7, receivedTs: FIXED_NOW, roomId: ROOM, eventId: "$bad", reporter: "@r:example.org", sender: "@spammer:example.org", state: "open", changedAt: FIXED_NOW, deletedOnHomeserver: false, cardEventId: "$card7" };
  fakes.reports.take([report], { highWater: 7, floor: 0 });
  const log = new MemoryLogger().log;
  const confirmations = new ConfirmationFlow(new ConfirmationBook(fakes.clock, 300_000), new Set(), fakes.chat, MANAGEMENT_ROOM, "!", log);
  confirmations.stop();
  const allowlist = [parseAllowlistEntry(MOD)].filter((entry): entry is AllowlistEntry => entry !== undefined);
  const dispatcher = new CommandDispatcher({
    table: fakes.table,
    prefix: "!",
    allowlist,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: "@warden:example.org",
    chat: fakes.chat,
    journal: new MemoryHandledEvents(),
    clock: fakes.clock,
    log,
    maxCommandAgeMs: 600_000,
    concurrency: 2,
    confirmations,
    cardAction: cardReactionCommand(fakes.dependencies.reportDesk, "!"),
  });
  return { fakes, dispatcher };
}

let counter = 0;
function reaction(key: string, on = "$card7", sender = MOD): IncomingEvent {
  counter += 1;
  return {
    roomId: MANAGEMENT_ROOM,
    sender,
    type: "m.reaction",
    content: { "m.relates_to": { rel_type: "m.annotation", event_id: on, key } },
    eventId: `$reaction-${counter}`,
    originServerTs: FIXED_NOW - 1000,
  };
}

describe("reactions on a report card", () => {
  it("run the named command only through its preview, even where confirmBefore would not ask, and acknowledge the report", async () => {
    const { fakes, dispatcher } = setup();
    await dispatcher.handleReaction(reaction("🗑️"));
    expect(fakes.launcher.requests).toEqual([]);
    const preview = fakes.chat.sent.at(-1);
    expect(preview?.options?.replyTo).toBe("$card7");
    expect(preview?.message.plain).toMatch(/^Preview: purge/);
    expect(preview?.message.plain).toContain("react with ✅ to this message, or send !confirm c-");
    expect(fakes.reports.get(7)?.state).toBe("acknowledged");
  });

  it("resolve with 👍, ignore other emoji and other events, and refuse senders not on the allowlist", async () => {
    const { fakes, dispatcher } = setup();
    await dispatcher.handleReaction(reaction("🎉"));
    await dispatcher.handleReaction(reaction("🔨", "$not-a-card"));
    expect(fakes.chat.sent).toEqual([]);
    await dispatcher.handleReaction(reaction("🔨", "$card7", "@stranger:example.org"));
    expect(fakes.chat.sent.at(-1)?.message.plain).toContain("is not on Warden's allowlist");
    await dispatcher.handleReaction(reaction("👍"));
    expect(fakes.reports.get(7)).toMatchObject({ state: "resolved", resolution: "done", changedBy: MOD });
  });
});
