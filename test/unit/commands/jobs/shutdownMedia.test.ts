import { describe, expect, it } from "vitest";
import { shutdownCommand } from "../../../../src/commands/jobs/shutdown.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { ok } from "../../../../src/util/result.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { CONTEXT, parseProblem, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";

const SPAM = "!spam:example.org" as RoomId;
const MEDIA_PREVIEW =
  "quarantined in each room right before its delete, so it is no longer served: every file the room's messages name, local and remote, except files protected from quarantine (since Synapse 1.128 every file with the same content goes with it); a room whose media cannot be quarantined is not deleted";

function setup(): { fakes: CommandFakes; shutdown: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central", 40, 3);
  return { fakes, shutdown: shutdownCommand(fakes.dependencies) };
}

function command(fakes: CommandFakes, name: string): Command {
  const found = fakes.table.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no command ${name}`);
  return found;
}

async function previewLines(target: Command, text: string): Promise<string[]> {
  const words = splitWords(text, target);
  const args = words.ok ? target.parse(words.value) : words;
  if (!args.ok || target.confirmation === undefined) throw new Error("does not parse");
  const preview = await target.confirmation.preview(args.value, CONTEXT);
  if (!preview.ok) throw new Error(preview.error.reason);
  return preview.value.lines.map((line) => `${line.label}: ${line.value}`);
}

describe("!shutdown --quarantine-media: one room", () => {
  it("in every form is a one-room wave without a board, so the quarantine is a stored step before the delete", async () => {
    for (const [flags, purgeParameters] of [
      ["", { purge: false, purgeWhen: "members-seen" }],
      ["--purge-after 1h", { purge: false, purgeAfterMs: 3_600_000 }],
      ["--purge-now", { purge: true }],
      ["--no-purge --block", { purge: false, block: true }],
    ] as const) {
      const { fakes, shutdown } = setup();
      const outcome = await runCommand(shutdown, `${SPAM} --quarantine-media ${flags}`);
      expect(outcome.kind).toBe("wave-started");
      expect(fakes.launcher.requests).toEqual([]);
      expect(fakes.waves.requests[0]).toMatchObject({ kind: "shutdown", board: false, parameters: { quarantineMedia: true, ...purgeParameters } });
      expect(fakes.waves.requests[0]?.rooms).toEqual([{ roomId: SPAM, label: SPAM, name: "Spam central", joinedMembers: 40, joinedLocalMembers: 3 }]);
    }
  });

  it("is a switch of !shutdown", () => {
    const { shutdown } = setup();
    expect(parseProblem(shutdown, `${SPAM} --quarantine-media`)).toBeUndefined();
    expect(parseProblem(shutdown, `${SPAM} --quarantine-media=yes`)).toEqual({ argument: "--quarantine-media", expected: "no value: it is a switch" });
  });

  it("without the flag, --purge-now still sends one task at once and the parameters say nothing of media", async () => {
    const { fakes, shutdown } = setup();
    await runCommand(shutdown, `${SPAM} --purge-now`);
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.launcher.requests[0]?.parameters).not.toHaveProperty("quarantineMedia");
    await runCommand(shutdown, SPAM, { ...CONTEXT, commandEventId: "$second" });
    expect(fakes.waves.requests[0]?.parameters).not.toHaveProperty("quarantineMedia");
  });

  it("a room the homeserver does not know is only blocked, with no media step: it holds none of the room's messages", async () => {
    const { fakes, shutdown } = setup();
    const outcome = await runCommand(shutdown, "!unknown:example.org --block --quarantine-media");
    expect(outcome.kind).toBe("task-started");
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.launcher.requests[0]?.parameters).toMatchObject({ knownRoom: false, block: true, purge: true });
    expect(await previewLines(shutdown, "!unknown:example.org --block --quarantine-media")).toContain(
      "Media: nothing to quarantine: the homeserver does not know the room, so it holds none of its messages",
    );
  });

  it("refuses while a delete of the room runs, naming it: its media would not be quarantined before that delete", async () => {
    const { fakes, shutdown } = setup();
    const running = sampleTask({ id: "s-bbbbbb", kind: "shutdown", roomId: SPAM, roomLabel: SPAM, parameters: { block: true, purge: true, forcePurge: false } });
    fakes.launcher.joinExisting = running;
    expect(await runCommand(shutdown, `${SPAM} --quarantine-media --purge-now`)).toEqual({
      kind: "refused",
      reason: `shutdown s-bbbbbb of ${SPAM} is still running, and --quarantine-media quarantines a room's media right before Warden's own delete of it; the homeserver runs one delete of a room at a time, so nothing was sent.`,
      hint: "Send the command again once s-bbbbbb has ended (!status s-bbbbbb).",
    });
    fakes.launcher.joinExisting = undefined;
    fakes.launcher.busyWith = running;
    expect(await runCommand(shutdown, `${SPAM} --quarantine-media`)).toMatchObject({ kind: "refused", hint: "Send the command again once s-bbbbbb has ended (!status s-bbbbbb)." });
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("the preview says the media is quarantined before the delete (and again before the purge step); without the flag it says nothing of media", async () => {
    const { shutdown } = setup();
    expect(await previewLines(shutdown, `${SPAM} --quarantine-media --purge-now`)).toContain(`Media: ${MEDIA_PREVIEW}`);
    expect((await previewLines(shutdown, `${SPAM} --quarantine-media`)).find((line) => line.startsWith("Media"))).toMatch(/^Media: quarantined in each room right before its delete, and again right before the purge phase/);
    expect((await previewLines(shutdown, SPAM)).filter((line) => line.startsWith("Media"))).toEqual([]);
  });
});

describe("!shutdown --quarantine-media: a wave", () => {
  it("carries the flag in the wave's parameters, with every form, and its preview says it", async () => {
    const fakes = commandFakes();
    fakes.selector.answer = ok({ rooms: [{ roomId: "!a:example.org", label: "!a:example.org", joinedMembers: 2, joinedLocalMembers: 1 }], leftOut: [] });
    const shutdown = command(fakes, "shutdown");

    await runCommand(shutdown, "--matching casino --quarantine-media --block --purge-after 7d");
    await runCommand(shutdown, "!a:example.org !b:example.org --quarantine-media --purge-now", { ...CONTEXT, commandEventId: "$second" });

    expect(fakes.waves.requests.map((wave) => wave.parameters)).toEqual([
      { block: true, purge: false, forcePurge: false, purgeAfterMs: 7 * 86_400_000, purgeAfter: "7d", quarantineMedia: true },
      { block: false, purge: true, forcePurge: false, quarantineMedia: true },
    ]);
    expect(fakes.waves.requests.map((wave) => wave.board)).toEqual([undefined, undefined]);
    expect(await previewLines(shutdown, "--matching casino --quarantine-media --purge-now")).toContain(`Media: ${MEDIA_PREVIEW}`);
  });
});
