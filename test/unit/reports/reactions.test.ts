import { describe, expect, it } from "vitest";
import { parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";
import { ConfirmationBook } from "../../../src/commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../../../src/commands/confirmation/confirmationFlow.js";
import { CommandDispatcher, type IncomingEvent } from "../../../src/commands/dispatcher.js";
import { eventReportRef as ev, type ReportRef, type StoredReport } from "../../../src/model/reports.js";
import { ReportPoller } from "../../../src/reports/poller.js";
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
  const report: StoredReport = { kind: "event", id: 7, homeserverId: 7, receivedTs: FIXED_NOW, roomId: ROOM, eventId: "$bad", reporter: "@r:example.org", sender: "@spammer:example.org", state: "open", changedAt: FIXED_NOW, deletedOnHomeserver: false, cardEventId: "$card7" };
  fakes.reports.seed([report]);
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
    expect(fakes.reports.get(ev(7))?.state).toBe("acknowledged");
  });

  it("resolve with 👍, ignore other emoji and other events, and refuse senders not on the allowlist", async () => {
    const { fakes, dispatcher } = setup();
    await dispatcher.handleReaction(reaction("🎉"));
    await dispatcher.handleReaction(reaction("🔨", "$not-a-card"));
    expect(fakes.chat.sent).toEqual([]);
    await dispatcher.handleReaction(reaction("🔨", "$card7", "@stranger:example.org"));
    expect(fakes.chat.sent.at(-1)?.message.plain).toContain("is not on Warden's allowlist");
    await dispatcher.handleReaction(reaction("👍"));
    expect(fakes.reports.get(ev(7))).toMatchObject({ state: "resolved", resolution: "done", changedBy: MOD });
  });
});

describe("reactions on a digest card", () => {
  async function digestOf(count: number) {
    const { fakes, dispatcher } = setup();
    fakes.reports.reports.clear();
    const poller = new ReportPoller(fakes.admin, fakes.reports, fakes.chat, fakes.clock, new MemoryLogger().log, { pollEveryMs: 30_000, burst: 1, windowMs: 600_000, managementRoomId: MANAGEMENT_ROOM, prefix: "!" });
    await poller.poll();
    for (let i = 0; i <= count; i++) fakes.admin.addReport({ room_id: ROOM, event_id: "$bad", received_ts: FIXED_NOW + i, user_id: `@r${i}:example.org`, sender: "@spammer:example.org" });
    await poller.poll();
    const digest = fakes.chat.sent.find((entry) => entry.message.record?.["type"] === "report-digest");
    if (digest === undefined) throw new Error("no digest card");
    return { fakes, dispatcher, digest };
  }

  it("act on its report while it holds exactly one, and the card says so", async () => {
    const { fakes, dispatcher, digest } = await digestOf(1);
    const [only] = fakes.reports.byCard(digest.eventId);
    expect(digest.message.plain).toContain("Or react: 🧹 redact in the room");

    await dispatcher.handleReaction(reaction("👍", digest.eventId));

    expect(only === undefined ? undefined : fakes.reports.get(only)).toMatchObject({ state: "resolved", resolution: "done", changedBy: MOD });
  });

  it("are ignored once it holds more than one, and the card offers none", async () => {
    const { fakes, dispatcher, digest } = await digestOf(2);
    const sentBefore = fakes.chat.sent.length;
    const grown = fakes.chat.edited.filter((edit) => edit.eventId === digest.eventId).at(-1);
    expect(grown?.message.plain).not.toContain("Or react");

    await dispatcher.handleReaction(reaction("👍", digest.eventId));

    expect(fakes.chat.sent).toHaveLength(sentBefore);
    expect(fakes.reports.byCard(digest.eventId).map((report) => report.state)).toEqual(["open", "open"]);
  });
});

describe("cardReactionCommand", () => {
  const withSender: StoredReport = { kind: "event", id: 7, homeserverId: 7, receivedTs: FIXED_NOW, roomId: ROOM, eventId: "$bad", reporter: "@r:example.org", sender: "@spammer:example.org", state: "open", changedAt: FIXED_NOW, deletedOnHomeserver: false, cardEventId: "$card7" };
  const withoutSender = Object.fromEntries(Object.entries(withSender).filter(([key]) => key !== "sender")) as unknown as StoredReport;

  function deskOf(report: StoredReport) {
    const acknowledged: [ReportRef, string][] = [];
    const desk = {
      reportForCard: (eventId: string) => (eventId === report.cardEventId ? report : undefined),
      acknowledge: (ref: ReportRef, by: string) => {
        acknowledged.push([ref, by]);
        return Promise.resolve({ ok: false as const, error: "not recorded here" });
      },
    };
    return { command: cardReactionCommand(desk, "!"), acknowledged };
  }

  it("reads an emoji with or without the variation selector", () => {
    const { command } = deskOf(withSender);
    expect(command("$card7", "🗑", MOD)).toBe(`!purge ${ROOM} $bad`);
    expect(command("$card7", "🗑️", MOD)).toBe(`!purge ${ROOM} $bad`);
    expect(command("$card7", "👍\uFE0F", MOD)).toBe("!report 7 done");
  });

  it("acknowledges the report for an action, not for 👍 (which resolves it) and not when the action does not apply", () => {
    const { command, acknowledged } = deskOf(withSender);
    command("$card7", "👍", MOD);
    expect(acknowledged).toEqual([]);
    command("$card7", "🧹", MOD);
    expect(acknowledged).toEqual([[ev(7), MOD]]);

    const unknownSender = deskOf(withoutSender);
    expect(unknownSender.command("$card7", "🔨", MOD)).toBeUndefined();
    expect(unknownSender.acknowledged).toEqual([]);
  });
});
