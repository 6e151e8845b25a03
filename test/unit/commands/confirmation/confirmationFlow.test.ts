import { afterEach, describe, expect, it } from "vitest";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import { CONFIRMATION_FLAGS, ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { defineCommand, type Command } from "../../../../src/commands/spec.js";
import { ok } from "../../../../src/util/result.js";
import type { ConfirmationKind } from "../../../../src/model/commandSpec.js";
import { commandFakes, MANAGEMENT_ROOM } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";
import { CONTEXT } from "../../../fakes/runCommand.js";

const ROOM = "!spam:example.org";
const flows: ConfirmationFlow[] = [];

afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

/** Gates `!purge <text>` through a flow that asks before the given kinds. */
async function gatePurge(text: string, confirmBefore: readonly ConfirmationKind[]) {
  const fakes = commandFakes();
  fakes.admin.addRoom(ROOM, "Spam", 3, 1);
  fakes.admin.addEvent("$old", ROOM, FIXED_NOW - 3 * 86_400_000);
  fakes.admin.addEvent("$new", ROOM, FIXED_NOW - 60_000);
  const chat = new RecordingChat();
  const flow = new ConfirmationFlow(new ConfirmationBook(fakes.clock, 300_000), new Set(confirmBefore), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
  flows.push(flow);
  const purge = fakes.table.find((command) => command.name === "purge") as Command;
  const words = splitWords(text, purge);
  if (!words.ok) throw new Error("words");
  const args = purge.parse(words.value);
  if (!args.ok) throw new Error("parse");
  return { gated: await flow.gate(purge, args.value, words.value, CONTEXT), chat };
}

describe("ConfirmationFlow: which purges ask", () => {
  it("asks before a plain purge (without --local) when confirmBefore names purge", async () => {
    const { gated, chat } = await gatePurge(`${ROOM} 1d`, ["purge"]);

    expect(gated).toBe("shown");
    expect(chat.plainBodies()).toHaveLength(1);
    expect(chat.plainBodies()[0]).toContain(`purge the history of ${ROOM}`);
  });

  it("runs a plain purge at once under the default kinds, and asks before --local", async () => {
    const plain = await gatePurge(`${ROOM} 1d`, ["shutdown", "purge-local", "redact"]);
    const local = await gatePurge(`${ROOM} 1d --local`, ["shutdown", "purge-local", "redact"]);

    expect(plain.gated).toBeUndefined();
    expect(plain.chat.sent).toEqual([]);
    expect(local.gated).toBe("shown");
  });

  it("keeps purge and purge-local apart: naming purge does not ask before --local", async () => {
    const { gated } = await gatePurge(`${ROOM} 1d --local`, ["purge"]);

    expect(gated).toBeUndefined();
  });
});

/** A wave-like command: nothing in confirmBefore governs it; `always` and `executesDryRun` decide. */
function waveLike(options: { always: boolean; executesDryRun?: boolean }): Command {
  return defineCommand<{ dryRun: boolean }>({
    name: "wave",
    summary: "a wave, for these tests",
    details: [],
    positionals: [],
    flags: CONFIRMATION_FLAGS,
    examples: [],
    parse: (words) => ok({ dryRun: words.flags.get("dry-run") === true }),
    execute: () => Promise.resolve({ kind: "refused", reason: "not run in these tests" }),
    confirmation: {
      kind: () => undefined,
      always: () => options.always,
      ...(options.executesDryRun === undefined ? {} : { executesDryRun: options.executesDryRun }),
      preview: () => Promise.resolve(ok({ title: "act on 40 rooms", lines: [] })),
    },
  });
}

async function gateWave(command: Command, text: string) {
  const chat = new RecordingChat();
  const flow = new ConfirmationFlow(new ConfirmationBook(commandFakes().clock, 300_000), new Set(), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
  flows.push(flow);
  const words = splitWords(text, command);
  if (!words.ok) throw new Error("words");
  const args = command.parse(words.value);
  if (!args.ok) throw new Error("parse");
  return { gated: await flow.gate(command, args.value, words.value, CONTEXT), chat };
}

describe("ConfirmationFlow: commands that always ask", () => {
  it("shows the preview though confirmBefore names nothing", async () => {
    const { gated, chat } = await gateWave(waveLike({ always: true }), "");

    expect(gated).toBe("shown");
    expect(chat.plainBodies()[0]).toContain("act on 40 rooms");
  });

  it("runs at once with --yes", async () => {
    const { gated, chat } = await gateWave(waveLike({ always: true }), "--yes");

    expect(gated).toBeUndefined();
    expect(chat.sent).toEqual([]);
  });

  it("runs at once when `always` says no for these arguments", async () => {
    expect((await gateWave(waveLike({ always: false }), "")).gated).toBeUndefined();
  });

  it("hands --dry-run to the command when it answers dry runs itself, and shows the preview otherwise", async () => {
    const own = await gateWave(waveLike({ always: true, executesDryRun: true }), "--dry-run");
    const generic = await gateWave(waveLike({ always: true }), "--dry-run");

    expect(own.gated).toBeUndefined();
    expect(own.chat.sent).toEqual([]);
    expect(generic.gated).toBe("shown");
    expect(generic.chat.plainBodies()[0]).toContain("act on 40 rooms");
  });
});
