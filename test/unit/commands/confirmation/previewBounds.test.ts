import { afterEach, describe, expect, it } from "vitest";
import { ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import type { Command, CommandContext } from "../../../../src/commands/spec.js";
import type { RoomId, UserId } from "../../../../src/matrix/ids.js";
import type { Words } from "../../../../src/model/commandSpec.js";
import { ok } from "../../../../src/util/result.js";
import { FixedClock } from "../../../fakes/fixedClock.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";

const MANAGEMENT_ROOM = "!mgmt:example.org" as RoomId;
const REQUESTER = "@mod:example.org" as UserId;
const context: CommandContext = { requester: REQUESTER, commandEventId: "$command", managementRoomId: MANAGEMENT_ROOM, prefix: "!" };
const words: Words = { positionals: [], flags: new Map() };
const WINDOW_MS = 60_000;

/** A destructive command that always asks first and records its runs. */
function destructive(runs: unknown[]): Command {
  return {
    name: "wipe",
    summary: "wipes",
    details: [],
    positionals: [],
    flags: [],
    examples: [],
    parse: () => ok({}),
    execute: (args) => {
      runs.push(args);
      return Promise.resolve({ kind: "refused", reason: "ran" });
    },
    confirmation: {
      kind: () => "shutdown",
      preview: () => Promise.resolve(ok({ title: "Wipe everything", lines: [{ label: "Room", value: "!a:example.org" }] })),
    },
  };
}

const flows: ConfirmationFlow[] = [];
afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

function setup() {
  const clock = new FixedClock();
  const book = new ConfirmationBook(clock, WINDOW_MS);
  const chat = new RecordingChat();
  const flow = new ConfirmationFlow(book, new Set(["shutdown"]), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
  flows.push(flow);
  return { clock, book, chat, flow };
}

describe("ConfirmationFlow", () => {
  it("forgets a preview it could not post, and says nothing waits for confirmation", async () => {
    const { clock, book, chat, flow } = setup();
    chat.failWith = "M_UNKNOWN: try later";
    const outcome = await flow.gate(destructive([]), {}, words, context);
    expect(outcome).toMatchObject({ kind: "refused", reason: "the preview could not be posted, so nothing waits for confirmation and nothing was done." });
    clock.set(clock.now() + WINDOW_MS + 1);
    expect(book.expireDue()).toEqual([]);
  });

  it("finds a posted preview by its event for a ✅, and runs the command once its requester confirms", async () => {
    const { chat, flow } = setup();
    const runs: unknown[] = [];
    expect(await flow.gate(destructive(runs), { target: "x" }, words, context)).toBe("shown");
    const previewEventId = chat.sent[0]?.eventId ?? "";
    const id = flow.confirmationForPreview(previewEventId);
    expect(id).toMatch(/^c-[0-9a-f]{6}$/);
    await flow.confirm(id ?? "", REQUESTER);
    expect(runs).toEqual([{ target: "x" }]);
    expect(flow.confirmationForPreview(previewEventId)).toBe(id);
  });
});
