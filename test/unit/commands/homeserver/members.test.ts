import { describe, expect, it } from "vitest";
import { ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import { membersCommand } from "../../../../src/commands/homeserver/members.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAM = "!spam:example.org" as RoomId;

function membersSetup(): { fakes: CommandFakes; members: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central");
  fakes.admin.members.set(SPAM, ["@zed:remote.example", "@alice:example.org", "@spammer:example.org"]);
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, members: membersCommand(fakes.dependencies) };
}

describe("!members", () => {
  it("lists every joined member, sorted, with the room's name, found by alias", async () => {
    const { fakes, members } = membersSetup();
    expect(await runCommand(members, "#spam:example.org")).toEqual({
      kind: "room-members",
      roomId: SPAM,
      label: `#spam:example.org (${SPAM})`,
      roomName: "Spam central",
      members: ["@alice:example.org", "@spammer:example.org", "@zed:remote.example"],
    });
    expect(fakes.admin.roomCalls).toEqual([{ method: "roomMembers", roomId: SPAM }]);
  });

  it("keeps every member in the outcome however many there are (the reply shortens the list)", async () => {
    const { fakes, members } = membersSetup();
    const many = Array.from({ length: 250 }, (_, index) => `@user${String(index).padStart(3, "0")}:example.org`);
    fakes.admin.members.set(SPAM, many);
    const outcome = await runCommand(members, SPAM);
    expect(outcome.kind === "room-members" && outcome.members).toEqual(many);
  });

  it("lists the members even when the room's name cannot be read", async () => {
    const { fakes, members } = membersSetup();
    fakes.admin.roomDetailsFailure = adminError("server-error", 502);
    const outcome = await runCommand(members, SPAM);
    expect(outcome).toMatchObject({ kind: "room-members", members: ["@alice:example.org", "@spammer:example.org", "@zed:remote.example"] });
    expect(outcome.kind === "room-members" && "roomName" in outcome).toBe(false);
  });

  it("says an unknown room has no members to list", async () => {
    const { members } = membersSetup();
    expect(await runCommand(members, "!unknown:remote.example")).toEqual({
      kind: "refused",
      reason: "!unknown:remote.example is not a room this homeserver knows, so it has no members to list.",
    });
  });

  it("refuses with the homeserver's reason on other failures", async () => {
    const { fakes, members } = membersSetup();
    fakes.admin.failures.set("roomMembers", adminError("timeout"));
    expect(await runCommand(members, SPAM)).toEqual({
      kind: "refused",
      reason: `could not list the members of ${SPAM}: the homeserver did not answer in time`,
    });
  });

  it("refuses an alias that does not resolve, asking the homeserver nothing", async () => {
    const { fakes, members } = membersSetup();
    expect((await runCommand(members, "#nowhere:example.org")).kind).toBe("refused");
    expect(fakes.admin.roomCalls).toEqual([]);
  });

  it.each([
    ["", { argument: "<room>", expected: ROOM_EXPECTED }],
    ["spam", { argument: "<room>", given: "spam", expected: ROOM_EXPECTED }],
    [`${SPAM} ${SPAM}`, { argument: "arguments", given: SPAM, expected: "at most 1 argument; quote text that contains spaces" }],
    [`${SPAM} --limit 5`, { argument: "--limit", expected: "no options: this command takes none" }],
  ])("rejects %j", (text, problem) => {
    expect(parseProblem(membersSetup().members, text)).toEqual(problem);
  });
});
