import { describe, expect, it } from "vitest";
import { ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import { blockCommand } from "../../../../src/commands/homeserver/block.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { WARDEN_USER } from "../../../fakes/fakeRoomAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAM = "!spam:example.org" as RoomId;

function blockSetup(): { fakes: CommandFakes; block: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central");
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, block: blockCommand(fakes.dependencies) };
}

describe("!block", () => {
  it("blocks a known room found by alias", async () => {
    const { fakes, block } = blockSetup();
    const outcome = await runCommand(block, "#spam:example.org");
    expect(outcome).toEqual({
      kind: "room-block",
      action: "block",
      roomId: SPAM,
      label: `#spam:example.org (${SPAM})`,
      roomName: "Spam central",
      knownRoom: true,
      changed: true,
    });
    expect(fakes.admin.roomCalls).toEqual([
      { method: "blockStatus", roomId: SPAM },
      { method: "setBlocked", roomId: SPAM, block: true },
    ]);
    expect(fakes.admin.blocked.get(SPAM)).toBe(WARDEN_USER);
  });

  it("blocks a room the homeserver does not know, in advance", async () => {
    const { fakes, block } = blockSetup();
    const outcome = await runCommand(block, "!future:remote.example");
    expect(outcome).toEqual({
      kind: "room-block",
      action: "block",
      roomId: "!future:remote.example",
      label: "!future:remote.example",
      knownRoom: false,
      changed: true,
    });
    expect(fakes.admin.blocked.has("!future:remote.example")).toBe(true);
  });

  it("leaves an already blocked room alone and says who blocked it", async () => {
    const { fakes, block } = blockSetup();
    fakes.admin.blocked.set(SPAM, "@othermod:example.org");
    const outcome = await runCommand(block, SPAM);
    expect(outcome).toMatchObject({ kind: "room-block", action: "block", changed: false, blockedBy: "@othermod:example.org" });
    expect(fakes.admin.roomCalls.map((call) => call.method)).toEqual(["blockStatus"]);
    expect(fakes.admin.blocked.get(SPAM)).toBe("@othermod:example.org");
  });

  it("refuses the management room and a protected room, changing nothing", async () => {
    const { fakes, block } = blockSetup();
    fakes.directory.add("#protected:example.org", PROTECTED_ROOM);
    const management = await runCommand(block, MANAGEMENT_ROOM);
    const protectedByAlias = await runCommand(block, "#protected:example.org");
    expect(management).toEqual({
      kind: "refused",
      reason: `${MANAGEMENT_ROOM} is Warden's own management room; blocking it would lock the moderators out.`,
    });
    expect(protectedByAlias).toEqual({
      kind: "refused",
      reason: `#protected:example.org (${PROTECTED_ROOM}) is listed in protectedRooms in Warden's config; Warden will not block it.`,
    });
    expect(fakes.admin.roomCalls).toEqual([]);
    expect(fakes.admin.blocked.size).toBe(0);
  });

  it("refuses when the block status cannot be read, and sends no block", async () => {
    const { fakes, block } = blockSetup();
    fakes.admin.failures.set("blockStatus", adminError("server-error", 503));
    expect(await runCommand(block, SPAM)).toEqual({
      kind: "refused",
      reason: `could not read whether ${SPAM} is blocked: the homeserver failed with HTTP 503`,
    });
    expect(fakes.admin.roomCalls.map((call) => call.method)).toEqual(["blockStatus"]);
  });

  it("refuses when the room lookup fails for another reason than not-found", async () => {
    const { fakes, block } = blockSetup();
    fakes.admin.roomDetailsFailure = adminError("unreachable", undefined, "ECONNREFUSED");
    expect(await runCommand(block, SPAM)).toEqual({
      kind: "refused",
      reason: `could not look up ${SPAM}: the homeserver could not be reached: ECONNREFUSED`,
    });
    expect(fakes.admin.blocked.size).toBe(0);
  });

  it("reports a failed block with the homeserver's reason", async () => {
    const { fakes, block } = blockSetup();
    fakes.admin.failures.set("setBlocked", adminError("bad-request", 400, "!spam is not a legal room ID"));
    expect(await runCommand(block, SPAM)).toEqual({
      kind: "refused",
      reason: `could not block ${SPAM}: the homeserver refused the request: !spam is not a legal room ID`,
    });
  });

  it("refuses an alias that does not resolve", async () => {
    const { fakes, block } = blockSetup();
    expect((await runCommand(block, "#nowhere:example.org")).kind).toBe("refused");
    expect(fakes.admin.roomCalls).toEqual([]);
  });

  it.each([
    ["", { argument: "<room>", expected: "at least one room (a room ID, alias or matrix.to link), or a selection: --matching, --space, --empty" }],
    ["#not-an-alias", { argument: "<room>", given: "#not-an-alias", expected: ROOM_EXPECTED }],
    // Several rooms make a wave, so every word must be a room.
    [`${SPAM} now`, { argument: "<room>", given: "now", expected: ROOM_EXPECTED }],
  ])("rejects %j", (text, problem) => {
    expect(parseProblem(blockSetup().block, text)).toEqual(problem);
  });

  it("takes --yes and --dry-run through the table, and names a flag it does not take (--all is for purges only)", () => {
    const block = commandFakes().table.find((command) => command.name === "block");
    if (block === undefined) throw new Error("no !block in the table");
    expect(parseProblem(block, `${SPAM} --yes`)).toBeUndefined();
    expect(parseProblem(block, `${SPAM} !other:example.org --dry-run`)).toBeUndefined();
    expect(parseProblem(block, "--all")).toEqual({ argument: "--all", expected: "one of the options --matching, --space, --empty, --yes, --dry-run" });
  });
});
