import { describe, expect, it } from "vitest";
import { ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import type { Command } from "../../../../src/commands/spec.js";
import { unblockCommand } from "../../../../src/commands/homeserver/unblock.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { AdminRoomSelector } from "../../../../src/commands/selection/roomSelector.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { WavePlanner } from "../../../../src/commands/waves/waves.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { FakeSelectionAdmin } from "../../../fakes/fakeSelectionAdmin.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAM = "!spam:example.org" as RoomId;

function unblockSetup(): { fakes: CommandFakes; unblock: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central");
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, unblock: unblockCommand(fakes.dependencies) };
}

describe("!unblock", () => {
  it("lifts the block of a known room found by alias", async () => {
    const { fakes, unblock } = unblockSetup();
    fakes.admin.blocked.set(SPAM, "@mod:example.org");
    const outcome = await runCommand(unblock, "#spam:example.org");
    expect(outcome).toEqual({
      kind: "room-block",
      action: "unblock",
      roomId: SPAM,
      label: `#spam:example.org (${SPAM})`,
      roomName: "Spam central",
      knownRoom: true,
      changed: true,
    });
    expect(fakes.admin.roomCalls).toEqual([
      { method: "blockStatus", roomId: SPAM },
      { method: "setBlocked", roomId: SPAM, block: false },
    ]);
    expect(fakes.admin.blocked.has(SPAM)).toBe(false);
  });

  it("unblocks a room the homeserver does not know", async () => {
    const { fakes, unblock } = unblockSetup();
    fakes.admin.blocked.set("!future:remote.example", "@mod:example.org");
    const outcome = await runCommand(unblock, "!future:remote.example");
    expect(outcome).toMatchObject({ kind: "room-block", action: "unblock", knownRoom: false, changed: true });
    expect(fakes.admin.blocked.size).toBe(0);
  });

  it("leaves a room that is not blocked alone", async () => {
    const { fakes, unblock } = unblockSetup();
    const outcome = await runCommand(unblock, SPAM);
    expect(outcome).toMatchObject({ kind: "room-block", action: "unblock", changed: false });
    expect(fakes.admin.roomCalls.map((call) => call.method)).toEqual(["blockStatus"]);
  });

  it("unblocks a protected room: lifting a block cannot lock anybody out", async () => {
    const { fakes, unblock } = unblockSetup();
    fakes.admin.blocked.set(PROTECTED_ROOM, "@mod:example.org");
    expect(await runCommand(unblock, PROTECTED_ROOM)).toMatchObject({ kind: "room-block", changed: true });
    expect(fakes.admin.blocked.size).toBe(0);
  });

  it("reports a failed unblock with the homeserver's reason", async () => {
    const { fakes, unblock } = unblockSetup();
    fakes.admin.blocked.set(SPAM, "@mod:example.org");
    fakes.admin.failures.set("setBlocked", adminError("forbidden", 403));
    expect(await runCommand(unblock, SPAM)).toEqual({
      kind: "refused",
      reason: `could not unblock ${SPAM}: the homeserver refused: Warden's account is not allowed to do this`,
    });
    expect(fakes.admin.blocked.has(SPAM)).toBe(true);
  });

  it.each([
    ["", { argument: "<room>", expected: "at least one room (a room ID, alias or matrix.to link), or a selection: --matching, --space, --empty" }],
    ["spam", { argument: "<room>", given: "spam", expected: ROOM_EXPECTED }],
    [`${SPAM} spam`, { argument: "<room>", given: "spam", expected: ROOM_EXPECTED }],
  ])("rejects %j", (text, problem) => {
    expect(parseProblem(unblockSetup().unblock, text)).toEqual(problem);
  });

  it("takes a room listed twice as a wave, always previewed, of that one room: the selector keeps each room once", async () => {
    const fakes = commandFakes();
    const admin = new FakeSelectionAdmin().addRoom(SPAM);
    const selector = new AdminRoomSelector({ admin, directory: fakes.directory, managementRoomId: MANAGEMENT_ROOM, protectedRooms: fakes.targets.protectedRooms });
    const unblock = unblockCommand({ ...fakes.dependencies, planner: new WavePlanner(selector, fakes.clock) });
    const words = splitWords(`${SPAM} ${SPAM}`, unblock);
    const args = words.ok ? unblock.parse(words.value) : words;
    if (!args.ok) throw new Error("parse");

    expect(unblock.confirmation?.always?.(args.value)).toBe(true);
    expect(await runCommand(unblock, `${SPAM} ${SPAM}`)).toMatchObject({ kind: "wave-started", wave: { kind: "unblock" } });
    expect(fakes.waves.requests[0]?.rooms.map((room) => room.roomId)).toEqual([SPAM]);
    expect(fakes.waves.requests[0]?.selection.listed).toEqual([SPAM, SPAM]);
    // The wave unblocks the room when the engine sends it, not the command.
    expect(fakes.admin.roomCalls).toEqual([]);
  });
});
