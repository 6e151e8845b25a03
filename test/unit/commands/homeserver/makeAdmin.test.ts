import { describe, expect, it } from "vitest";
import { ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import { makeAdminCommand } from "../../../../src/commands/homeserver/makeAdmin.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { WARDEN_USER } from "../../../fakes/fakeRoomAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const HIJACKED = "!hijacked:example.org" as RoomId;

function makeAdminSetup(): { fakes: CommandFakes; makeAdmin: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(HIJACKED, "Hijacked");
  fakes.directory.add("#hijacked:example.org", HIJACKED);
  return { fakes, makeAdmin: makeAdminCommand(fakes.dependencies) };
}

describe("!make-admin", () => {
  it("without a user: asks Synapse for its default, Warden's own account", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    const outcome = await runCommand(makeAdmin, "#hijacked:example.org");
    expect(outcome).toEqual({
      kind: "room-admin-granted",
      roomId: HIJACKED,
      label: `#hijacked:example.org (${HIJACKED})`,
      roomName: "Hijacked",
    });
    expect(fakes.admin.roomCalls).toEqual([{ method: "makeRoomAdmin", roomId: HIJACKED }]);
    expect(fakes.admin.grants.get(HIJACKED)).toEqual([WARDEN_USER]);
  });

  it("with a user: gives that user the power", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    const outcome = await runCommand(makeAdmin, `${HIJACKED} @alice:example.org`);
    expect(outcome).toMatchObject({ kind: "room-admin-granted", roomId: HIJACKED, user: "@alice:example.org" });
    expect(fakes.admin.roomCalls).toEqual([{ method: "makeRoomAdmin", roomId: HIJACKED, userId: "@alice:example.org" }]);
    expect(fakes.admin.grants.get(HIJACKED)).toEqual(["@alice:example.org"]);
  });

  it("explains the 400 of a room where no local user with power is still joined", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    fakes.admin.withoutLocalAdmin.add(HIJACKED);
    expect(await runCommand(makeAdmin, HIJACKED)).toEqual({
      kind: "refused",
      reason: `no user of this homeserver who is still joined to ${HIJACKED} holds power there, so there is nobody to grant power through (the homeserver said: No local admin user in room).`,
      hint: "make-admin only takes back rooms where a local user still has power; a room run from other servers cannot be taken over this way.",
    });
    expect(fakes.admin.grants.size).toBe(0);
  });

  it("explains a local admin who may not change the power levels", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    fakes.admin.failures.set("makeRoomAdmin", adminError("bad-request", 400, "No local admin user in room with power to update power levels."));
    const outcome = await runCommand(makeAdmin, `${HIJACKED} @alice:example.org`);
    expect(outcome.kind === "refused" && outcome.reason).toBe(
      `the most powerful user of this homeserver in ${HIJACKED} may not change its power levels, so @alice:example.org could not be given power (the homeserver said: No local admin user in room with power to update power levels.).`,
    );
  });

  it("explains a room this server has left", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    fakes.admin.failures.set("makeRoomAdmin", adminError("bad-request", 400, "Server not in room"));
    const outcome = await runCommand(makeAdmin, HIJACKED);
    expect(outcome.kind === "refused" && outcome.reason).toBe(
      `this homeserver is not in ${HIJACKED} any more, so it cannot change its power levels (the homeserver said: Server not in room).`,
    );
  });

  it("passes on any other failure with the homeserver's words", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    fakes.admin.failures.set("makeRoomAdmin", adminError("server-error", 500, "Internal error"));
    expect(await runCommand(makeAdmin, HIJACKED)).toEqual({
      kind: "refused",
      reason: `could not make Warden's account an admin of ${HIJACKED}: the homeserver failed with HTTP 500: Internal error`,
    });
  });

  it("refuses a room the homeserver does not know without asking for power", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    expect(await runCommand(makeAdmin, "!remote:elsewhere.example")).toEqual({
      kind: "refused",
      reason: "!remote:elsewhere.example is not a room this homeserver knows, so it has no local user to take power from.",
    });
    expect(fakes.admin.roomCalls).toEqual([]);
  });

  it("refuses when the room lookup fails for another reason", async () => {
    const { fakes, makeAdmin } = makeAdminSetup();
    fakes.admin.roomDetailsFailure = adminError("timeout");
    expect(await runCommand(makeAdmin, HIJACKED)).toEqual({
      kind: "refused",
      reason: `could not look up ${HIJACKED}: the homeserver did not answer in time`,
    });
    expect(fakes.admin.roomCalls).toEqual([]);
  });

  it.each([
    ["", { argument: "<room>", expected: ROOM_EXPECTED }],
    ["@alice:example.org", { argument: "<room>", given: "@alice:example.org", expected: ROOM_EXPECTED }],
    [`${HIJACKED} alice`, { argument: "[user]", given: "alice", expected: "a full user ID such as @abuse:example.org" }],
    [`${HIJACKED} #room:example.org`, { argument: "[user]", given: "#room:example.org", expected: "a full user ID such as @abuse:example.org" }],
    [`${HIJACKED} @a:example.org @b:example.org`, { argument: "arguments", given: "@b:example.org", expected: "at most 2 arguments; quote text that contains spaces" }],
    [`${HIJACKED} --user @a:example.org`, { argument: "--user", expected: "no options: this command takes none" }],
  ])("rejects %j", (text, problem) => {
    expect(parseProblem(makeAdminSetup().makeAdmin, text)).toEqual(problem);
  });
});
