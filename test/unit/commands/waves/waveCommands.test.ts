import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { MAX_WAVE_ROOMS } from "../../../../src/commands/waves/selection.js";
import { ok } from "../../../../src/util/result.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { CONTEXT, parseProblem, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";
import { renderHelpOne, renderOutcome } from "../../../../src/render/replies.js";

function command(fakes: CommandFakes, name: string): Command {
  const found = fakes.table.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no command ${name}`);
  return found;
}

function withRooms(fakes: CommandFakes, count: number): void {
  fakes.selector.answer = ok({
    rooms: Array.from({ length: count }, (_, index) => ({ roomId: `!r${index}:example.org`, label: `!r${index}:example.org`, joinedMembers: 2, joinedLocalMembers: 0 })),
    leftOut: [{ label: "!mgmt:example.org", roomId: "!mgmt:example.org", why: "Warden's management room" }],
  });
}

function parsed(target: Command, text: string): unknown {
  const words = splitWords(text, target);
  if (!words.ok) throw new Error(JSON.stringify(words.error));
  const result = target.parse(words.value);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe("!purge over several rooms", () => {
  it("start one wave with every listed room and the point resolved once, in UTC", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);
    const purge = command(fakes, "purge");

    const outcome = await runCommand(purge, "!a:example.org #b:example.org 2024-05-01T00:00Z --local --reason spam");

    expect(outcome.kind).toBe("wave-started");
    expect(fakes.selector.requests).toEqual([
      { listed: [{ kind: "id", roomId: "!a:example.org" }, { kind: "alias", alias: "#b:example.org" }], unknownRooms: "leave-out" },
    ]);
    expect(fakes.waves.requests).toHaveLength(1);
    expect(fakes.waves.requests[0]).toMatchObject({
      kind: "purge",
      requester: CONTEXT.requester,
      commandEventId: CONTEXT.commandEventId,
      selection: { listed: ["!a:example.org", "#b:example.org"] },
      parameters: { cutoffTs: Date.parse("2024-05-01T00:00Z"), cutoff: "2024-05-01 00:00:00 UTC", deleteLocalEvents: true, reason: "spam" },
    });
    expect(fakes.waves.requests[0]?.rooms.map((room) => room.roomId)).toEqual(["!r0:example.org", "!r1:example.org"]);
    expect(fakes.launcher.requests).toHaveLength(0);
  });

  it("keep one listed room without a selection on the single-room path", async () => {
    const fakes = commandFakes();
    const purge = command(fakes, "purge");

    await runCommand(purge, "!a:example.org 30d").catch(() => undefined);

    expect(fakes.waves.requests).toHaveLength(0);
    expect(fakes.selector.requests).toHaveLength(0);
  });

  it("pass the selection flags to the selector; --empty with --matching narrows, --all takes every room", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 1);
    const purge = command(fakes, "purge");

    await runCommand(purge, "--matching casino --empty 30d");
    await runCommand(purge, "--all 180d", { ...CONTEXT, commandEventId: "$second" });

    expect(fakes.selector.requests).toEqual([
      { listed: [], matching: "casino", empty: true, unknownRooms: "leave-out" },
      { listed: [], all: true, unknownRooms: "leave-out" },
    ]);
  });

  it("refuse an event as the point of a wave, naming the point and the forms it takes", () => {
    const fakes = commandFakes();
    const problem = parseProblem(command(fakes, "purge"), "!a:example.org !b:example.org $event:example.org");
    expect(problem).toMatchObject({ argument: "<point>", given: "$event:example.org" });
    expect(problem?.expected).toMatch(/a time or an age/);
  });

  it("say the point is missing when only a room is given, and ask for a room or a selection when nothing is", () => {
    const fakes = commandFakes();
    const purge = command(fakes, "purge");
    expect(parseProblem(purge, "#spam:example.org")).toMatchObject({ argument: "<point>" });
    expect(parseProblem(purge, "30d")?.argument).toBe("<room>");
    expect(parseProblem(purge, "30d")?.expected).toMatch(/--matching, --space, --empty, --all/);
    expect(parseProblem(purge, "--all --matching spam 30d")).toMatchObject({ argument: "--all" });
    expect(parseProblem(purge, "--matching x 30d")).toMatchObject({ argument: "--matching" });
    expect(parseProblem(purge, "not-a-room 30d")).toMatchObject({ argument: "<room>", given: "not-a-room" });
  });

  it("always preview a wave, even when confirmBefore leaves purges out; never a single purge without --local", () => {
    const fakes = commandFakes();
    const purge = command(fakes, "purge");
    expect(purge.confirmation?.always?.(parsed(purge, "!a:example.org !b:example.org 30d"))).toBe(true);
    expect(purge.confirmation?.always?.(parsed(purge, "--matching spam 30d"))).toBe(true);
    expect(purge.confirmation?.always?.(parsed(purge, "!a:example.org 30d"))).toBe(false);
  });

  it("refuse a selection that finds no room, naming what was left out, and start nothing", async () => {
    const fakes = commandFakes();
    fakes.selector.answer = ok({ rooms: [], leftOut: [{ label: "#p:example.org", why: "listed in protectedRooms" }] });

    const outcome = await runCommand(command(fakes, "purge"), "#p:example.org #q:example.org 30d");

    expect(outcome).toMatchObject({ kind: "refused" });
    expect(outcome.kind === "refused" ? outcome.reason : "").toMatch(/no room was selected.*#p:example.org \(listed in protectedRooms\)/);
    expect(fakes.waves.requests).toHaveLength(0);
  });

  it("run the rooms the preview showed, even if the selection would differ by the time it is confirmed", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);
    const purge = command(fakes, "purge");
    const args = parsed(purge, "--matching spam 30d");
    const preview = await purge.confirmation?.preview(args, CONTEXT);
    expect(preview?.ok).toBe(true);
    withRooms(fakes, 5);

    await purge.execute(args, CONTEXT);

    expect(fakes.selector.requests).toHaveLength(1);
    expect(fakes.waves.requests[0]?.rooms).toHaveLength(2);
  });
});

describe("a wave's preview and its confirmation", () => {
  // confirmWindow may be up to 24 h: a plan dropped sooner would let a late confirmation run
  // rooms nobody was shown.
  it("run the rooms the preview showed when confirmed hours later, within the longest confirmation window", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);
    const purge = command(fakes, "purge");
    const args = parsed(purge, "--matching spam 30d");
    expect((await purge.confirmation?.preview(args, CONTEXT))?.ok).toBe(true);
    fakes.clock.advance(23 * 3_600_000);
    withRooms(fakes, 5);

    await purge.execute(args, CONTEXT);

    expect(fakes.selector.requests).toHaveLength(1);
    expect(fakes.waves.requests[0]?.rooms).toHaveLength(2);
  });
});

describe("!shutdown over several rooms", () => {
  it("by default, empty the rooms now without purging, and purge each once its kicked members' clients have seen the leave", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);

    await runCommand(command(fakes, "shutdown"), "#one:example.org #two:example.org --block");

    expect(fakes.waves.requests[0]).toMatchObject({
      kind: "shutdown",
      parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000 },
    });
    // A wave of several rooms has its board.
    expect(fakes.waves.requests[0]?.board).toBeUndefined();
  });

  it("with --purge-now, purge with the shutdown: no purge phase", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);

    await runCommand(command(fakes, "shutdown"), "#one:example.org #two:example.org --purge-now");

    expect(fakes.waves.requests[0]?.parameters).toEqual({ block: false, purge: true, forcePurge: false });
  });

  it("with --purge-after, empty the rooms now without purging and keep the cooldown for the purge phase", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);

    await runCommand(command(fakes, "shutdown"), "#one:example.org #two:example.org --block --purge-after 7d");

    expect(fakes.waves.requests[0]).toMatchObject({
      kind: "shutdown",
      parameters: { block: true, purge: false, forcePurge: false, purgeAfterMs: 7 * 86_400_000, purgeAfter: "7d" },
    });
    expect(fakes.selector.requests[0]).toMatchObject({ unknownRooms: "keep" });
  });

  it("block the rooms with --purge-after even without --block: nobody may rejoin before the purge", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);

    await runCommand(command(fakes, "shutdown"), "#one:example.org #two:example.org --purge-after 1min");

    expect(fakes.waves.requests[0]?.parameters).toMatchObject({ block: true, purge: false, purgeAfterMs: 60_000 });
  });

  it("leave out unknown rooms without --block, and take a space", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 3);

    await runCommand(command(fakes, "shutdown"), "--space #hostile:example.org");

    expect(fakes.selector.requests).toEqual([{ listed: [], space: { kind: "alias", alias: "#hostile:example.org" }, unknownRooms: "leave-out" }]);
    expect(fakes.waves.requests[0]?.parameters).toMatchObject({ block: false, purge: false, purgeWhen: "members-seen" });
  });

  it("refuse a bad --purge-after, and --purge-after with --no-purge, naming the flag", () => {
    const fakes = commandFakes();
    const shutdown = command(fakes, "shutdown");
    expect(parseProblem(shutdown, "!a:example.org --purge-after 7m")).toMatchObject({ argument: "--purge-after", given: "7m" });
    expect(parseProblem(shutdown, "!a:example.org --purge-after 10s")).toMatchObject({ argument: "--purge-after" });
    expect(parseProblem(shutdown, "!a:example.org --purge-after 7d --no-purge")).toMatchObject({ argument: "--purge-after" });
    expect(parseProblem(shutdown, "--all")).toMatchObject({ argument: "--all" });
  });
});

describe("!block and !unblock over several rooms", () => {
  it("start a block wave that keeps rooms the homeserver does not know, and an unblock wave", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);

    await runCommand(command(fakes, "block"), "!a:example.org !b:example.org");
    await runCommand(command(fakes, "unblock"), "--matching spam", { ...CONTEXT, commandEventId: "$second" });

    expect(fakes.waves.requests.map((wave) => wave.kind)).toEqual(["block", "unblock"]);
    expect(fakes.selector.requests.map((request) => request.unknownRooms)).toEqual(["keep", "keep"]);
  });
});

describe("the most rooms one wave takes", () => {
  const shortIds = (count: number): string => Array.from({ length: count }, (_, index) => `!r${index}:e.org`).join(" ");

  it("refuse a list of more rooms, with the count and the limit, and take one at the limit", () => {
    const fakes = commandFakes();
    const limit = MAX_WAVE_ROOMS;

    expect(parseProblem(command(fakes, "purge"), `${shortIds(limit + 1)} 30d`)).toEqual({
      argument: "<room>",
      expected: `at most ${limit} rooms in one wave (${limit + 1} were listed): send them as several commands`,
    });
    expect(parseProblem(command(fakes, "block"), shortIds(limit + 1))).toMatchObject({ argument: "<room>" });
    expect(parseProblem(command(fakes, "shutdown"), shortIds(limit))).toBeUndefined();
    // The same room twice is one room of the wave.
    expect(parseProblem(command(fakes, "unblock"), `${shortIds(limit)} !r0:e.org`)).toBeUndefined();
  });

  it("refuse a selection that finds more rooms, before any preview, with the count and the limit", async () => {
    const fakes = commandFakes();
    withRooms(fakes, MAX_WAVE_ROOMS + 1);
    const purge = command(fakes, "purge");
    const args = parsed(purge, "--all 180d");

    const preview = await purge.confirmation?.preview(args, CONTEXT);
    const outcome = await purge.execute(args, { ...CONTEXT, commandEventId: "$second" });

    const refusal = {
      kind: "refused",
      reason: `the selection found ${MAX_WAVE_ROOMS + 1} rooms, and one wave takes at most ${MAX_WAVE_ROOMS}; nothing was done.`,
      hint: "Narrow it (--matching, --space, --empty) or list the rooms in several commands.",
    };
    expect(preview).toEqual({ ok: false, error: refusal });
    expect(outcome).toEqual(refusal);
    expect(fakes.waves.requests).toHaveLength(0);
  });

  it("take a selection of exactly that many rooms", async () => {
    const fakes = commandFakes();
    withRooms(fakes, MAX_WAVE_ROOMS);

    await runCommand(command(fakes, "block"), "--matching spam");

    expect(fakes.waves.requests.map((wave) => wave.rooms.length)).toEqual([MAX_WAVE_ROOMS]);
  });
});

describe("--empty and --matching: Synapse forgets the name of a room it has left", () => {
  it("say in !help of every wave command that --matching cannot find a room without local members by name", () => {
    const fakes = commandFakes();
    for (const name of ["purge", "shutdown", "block", "unblock"]) {
      const help = renderHelpOne(command(fakes, name), "!").plain;
      const empty = help.split("\n").find((line) => line.startsWith("  --empty:")) ?? "";
      expect(empty).toMatch(/--matching cannot find .*by (its )?name/);
      expect(empty).toMatch(/Synapse clears .*name and alias/);
    }
  });

  it("say so when --matching with --empty selects nothing, and not otherwise", async () => {
    const fakes = commandFakes();
    fakes.selector.answer = ok({ rooms: [], leftOut: [] });

    const both = await runCommand(command(fakes, "block"), "--matching spam --empty");
    const matching = await runCommand(command(fakes, "block"), "--matching spam", { ...CONTEXT, commandEventId: "$second" });

    expect(both).toMatchObject({ kind: "refused", reason: "no room was selected, so nothing was done." });
    expect(both.kind === "refused" && both.hint).toMatch(/^--matching cannot find a room with no local members by name: Synapse clears the name and alias of a room once no local member is left/);
    expect(matching).toEqual({ kind: "refused", reason: "no room was selected, so nothing was done." });
  });
});

describe("!cancel and !status of a wave", () => {
  it("cancel a wave by its id, as the requester", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);
    await runCommand(command(fakes, "purge"), "--matching spam 30d");
    const id = fakes.waves.active()[0]?.id ?? "";

    const outcome = await runCommand(command(fakes, "cancel"), id);

    expect(outcome.kind).toBe("wave-cancelled");
    expect(fakes.waves.cancelled).toEqual([{ waveId: id, by: CONTEXT.requester }]);
    const again = await runCommand(command(fakes, "cancel"), "w-abcdef");
    expect(again).toMatchObject({ kind: "refused", reason: "there is no wave w-abcdef." });
  });

  it("refuse anything but a wave id, naming what it takes", () => {
    const fakes = commandFakes();
    expect(parseProblem(command(fakes, "cancel"), "p-3f9a2c")).toMatchObject({ argument: "<wave-id>", given: "p-3f9a2c" });
    expect(parseProblem(command(fakes, "cancel"), "")).toMatchObject({ argument: "<wave-id>" });
  });

  it("show a wave with !status <wave-id>, paged", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 1);
    await runCommand(command(fakes, "purge"), "--matching spam 30d");
    const id = fakes.waves.active()[0]?.id ?? "";

    expect(await runCommand(command(fakes, "status"), `${id} --page 2`)).toMatchObject({ kind: "wave-status", page: 2, view: { wave: { id } } });
    expect(await runCommand(command(fakes, "status"), "w-ffffff")).toMatchObject({ kind: "refused" });
  });

  it("list a running wave as one line in !status, and leave its rooms' tasks out of the task lists", async () => {
    const fakes = commandFakes();
    withRooms(fakes, 2);
    await runCommand(command(fakes, "purge"), "--matching spam 30d");
    const id = fakes.waves.active()[0]?.id ?? "";
    fakes.store.tasks.push(sampleTask({ id: "p-00000a", status: "active", parameters: { waveId: id } }), sampleTask({ id: "p-00000b", status: "active" }));

    const outcome = await runCommand(command(fakes, "status"), "");

    expect(outcome).toMatchObject({ kind: "status-list", inFlight: [{ id: "p-00000b" }], waves: [{ wave: { id } }] });
    const shown = renderOutcome(outcome, "!", 0)?.plain ?? "";
    expect(shown).toMatch(new RegExp(`Waves running \\(1\\):\\n.*Wave ${id} \\(purge before`));
    expect(shown).not.toContain("p-00000a");
  });
});

describe("--quarantine-media on the wave commands that delete no room", () => {
  it("purge, block and unblock refuse it, naming the commands that take it", () => {
    const fakes = commandFakes();
    const expected =
      "no --quarantine-media here: the shutdown command takes it (each room's media is quarantined right before the room is deleted), and the quarantine command quarantines a room's media on its own";
    expect(parseProblem(command(fakes, "purge"), "!a:example.org 7d --quarantine-media")).toEqual({ argument: "--quarantine-media", expected });
    expect(parseProblem(command(fakes, "block"), "--matching spam --quarantine-media")).toEqual({ argument: "--quarantine-media", expected });
    expect(parseProblem(command(fakes, "unblock"), "!a:example.org --quarantine-media=yes")).toEqual({ argument: "--quarantine-media", expected });
    // Any other unknown option is still answered with the command's own options.
    expect(parseProblem(command(fakes, "block"), "!a:example.org --purge-now")).toMatchObject({ argument: "--purge-now", expected: expect.stringMatching(/^one of the options --matching/) as string });
  });
});
