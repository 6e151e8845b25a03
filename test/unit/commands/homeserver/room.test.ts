import { describe, expect, it } from "vitest";
import { roomCommand } from "../../../../src/commands/homeserver/room.js";
import type { Command } from "../../../../src/commands/spec.js";
import { ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAM = "!spam:example.org" as RoomId;

function roomSetup(): { fakes: CommandFakes; room: Command } {
  const fakes = commandFakes();
  fakes.admin.rooms.set(SPAM, {
    room_id: SPAM,
    name: "Spam central",
    canonical_alias: "#spam:example.org",
    topic: "cheap <b>pills</b>",
    creator: "@spammer:example.org",
    version: "10",
    joined_members: 40,
    joined_local_members: 3,
    encryption: null,
    public: true,
    join_rules: "public",
    history_visibility: "shared",
    state_events: 57,
    room_type: null,
    forgotten: false,
  });
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, room: roomCommand(fakes.dependencies) };
}

describe("!room", () => {
  it("reports every fact of a known room, found by alias, with its block status; Synapse's nulls are left out", async () => {
    const { fakes, room } = roomSetup();
    fakes.admin.blocked.set(SPAM, "@othermod:example.org");

    const outcome = await runCommand(room, "#spam:example.org");

    expect(outcome).toEqual({
      kind: "room-info",
      roomId: SPAM,
      label: `#spam:example.org (${SPAM})`,
      room: {
        name: "Spam central",
        canonicalAlias: "#spam:example.org",
        topic: "cheap <b>pills</b>",
        creator: "@spammer:example.org",
        version: "10",
        joinedMembers: 40,
        joinedLocalMembers: 3,
        public: true,
        joinRules: "public",
        historyVisibility: "shared",
        stateEvents: 57,
      },
      block: { read: true, blocked: true, blockedBy: "@othermod:example.org" },
    });
    expect(fakes.directory.lookups).toEqual(["#spam:example.org"]);
    expect(fakes.admin.calls).toEqual([{ method: "roomDetails", roomId: SPAM }]);
    expect(fakes.admin.roomCalls).toEqual([{ method: "blockStatus", roomId: SPAM }]);
  });

  it("says a room is unknown and still reports whether it is blocked", async () => {
    const { fakes, room } = roomSetup();
    fakes.admin.blocked.set("!gone:remote.example", "@mod:example.org");
    const outcome = await runCommand(room, "!gone:remote.example");
    expect(outcome).toEqual({
      kind: "room-info",
      roomId: "!gone:remote.example",
      label: "!gone:remote.example",
      block: { read: true, blocked: true, blockedBy: "@mod:example.org" },
    });
  });

  it("reads a matrix.to link, and reports an unblocked room as such", async () => {
    const { room } = roomSetup();
    const outcome = await runCommand(room, `https://matrix.to/#/${encodeURIComponent(SPAM)}`);
    expect(outcome.kind === "room-info" && outcome.block).toEqual({ read: true, blocked: false });
  });

  it("still answers when the block status cannot be read, saying why", async () => {
    const { fakes, room } = roomSetup();
    fakes.admin.failures.set("blockStatus", adminError("server-error", 500));
    const outcome = await runCommand(room, SPAM);
    expect(outcome.kind === "room-info" && outcome.block).toEqual({ read: false, problem: "the homeserver failed with HTTP 500" });
    expect(outcome.kind === "room-info" && outcome.room?.name).toBe("Spam central");
  });

  it("refuses when the room lookup fails for another reason than not-found", async () => {
    const { fakes, room } = roomSetup();
    fakes.admin.roomDetailsFailure = adminError("forbidden", 403, "You are not a server admin");
    expect(await runCommand(room, SPAM)).toEqual({
      kind: "refused",
      reason: `could not look up ${SPAM}: the homeserver refused: Warden's account is not allowed to do this: You are not a server admin`,
    });
  });

  it("refuses an alias that does not resolve, asking the homeserver nothing", async () => {
    const { fakes, room } = roomSetup();
    const outcome = await runCommand(room, "#nowhere:example.org");
    expect(outcome).toEqual({
      kind: "refused",
      reason: "the alias #nowhere:example.org could not be resolved: the room directory has no such alias",
    });
    expect(fakes.admin.calls).toEqual([]);
    expect(fakes.admin.roomCalls).toEqual([]);
  });

  it("looks up the management room too: reading is harmless", async () => {
    const { fakes, room } = roomSetup();
    fakes.admin.addRoom(MANAGEMENT_ROOM, "Warden management");
    const outcome = await runCommand(room, MANAGEMENT_ROOM);
    expect(outcome.kind === "room-info" && outcome.room?.name).toBe("Warden management");
  });

  it.each([
    ["", { argument: "<room>", expected: ROOM_EXPECTED }],
    ["spam", { argument: "<room>", given: "spam", expected: ROOM_EXPECTED }],
    ["@alice:example.org", { argument: "<room>", given: "@alice:example.org", expected: ROOM_EXPECTED }],
    [`${SPAM} extra`, { argument: "arguments", given: "extra", expected: "at most 1 argument; quote text that contains spaces" }],
    [`${SPAM} --block`, { argument: "--block", expected: "no options: this command takes none" }],
  ])("rejects %j", (text, problem) => {
    const { room } = roomSetup();
    expect(parseProblem(room, text)).toEqual(problem);
  });
});
