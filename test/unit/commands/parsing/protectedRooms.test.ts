import { describe, expect, it } from "vitest";
import { purgeCommand } from "../../../../src/commands/jobs/purge.js";
import { shutdownCommand } from "../../../../src/commands/jobs/shutdown.js";
import { blockCommand } from "../../../../src/commands/homeserver/block.js";
import { ProtectedRooms } from "../../../../src/commands/parsing/protectedRooms.js";
import type { RoomAlias, RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { runCommand } from "../../../fakes/runCommand.js";

const LOBBY = "!lobby:example.org" as RoomId;
const LOBBY_ALIAS = "#lobby:example.org" as RoomAlias;
const STAFF = "!staff:example.org" as RoomId;
const SPAM = "!spam:example.org" as RoomId;

/** Command fakes whose config protects the lobby by alias and the staff room by ID. */
function withProtectedAlias(): { fakes: CommandFakes; rooms: ProtectedRooms } {
  const fakes = commandFakes();
  const rooms = new ProtectedRooms([LOBBY_ALIAS, STAFF], fakes.directory, fakes.clock);
  for (const room of [LOBBY, SPAM]) {
    fakes.admin.addRoom(room, "A room");
    fakes.admin.addEvent(`$old-${room}`, room, FIXED_NOW - 90 * 86_400_000);
    fakes.admin.addEvent(`$new-${room}`, room, FIXED_NOW - 60_000);
  }
  return { fakes, rooms };
}

function dependencies(fakes: CommandFakes, rooms: ProtectedRooms) {
  return { ...fakes.dependencies, targets: { directory: fakes.directory, managementRoomId: MANAGEMENT_ROOM, protectedRooms: rooms } };
}

describe("ProtectedRooms", () => {
  it("resolves an alias that did not resolve at first once it does, and from then on protects its room", async () => {
    const { fakes, rooms } = withProtectedAlias();
    const first = await rooms.current();
    fakes.directory.add(LOBBY_ALIAS, LOBBY);
    const later = await rooms.current();

    expect(first.ok).toBe(false);
    expect(later).toEqual({ ok: true, value: new Set([LOBBY, STAFF]) });
  });

  it("names every alias it could not resolve, with the directory's reason", async () => {
    const { fakes } = withProtectedAlias();
    const rooms = new ProtectedRooms([LOBBY_ALIAS, "#help:example.org" as RoomAlias], fakes.directory, fakes.clock);

    const result = await rooms.current();

    expect(result).toEqual({
      ok: false,
      error:
        "the protected room aliases #lobby:example.org (the room directory has no such alias), #help:example.org (the room directory has no such alias) could not be resolved, " +
        "so Warden cannot tell whether this room is protected; it refuses destructive commands until the alias resolves again or is removed from protectedRooms in its config.",
    });
  });

  it("keeps a resolution for a minute, then asks the directory again", async () => {
    const { fakes, rooms } = withProtectedAlias();
    fakes.directory.add(LOBBY_ALIAS, LOBBY);
    await rooms.current();
    fakes.clock.advance(59_000);
    await rooms.current();
    expect(fakes.directory.lookups).toEqual([LOBBY_ALIAS]);

    fakes.directory.add(LOBBY_ALIAS, SPAM);
    fakes.clock.advance(1_000);
    expect(await rooms.current()).toEqual({ ok: true, value: new Set([SPAM, STAFF]) });
    expect(fakes.directory.lookups).toEqual([LOBBY_ALIAS, LOBBY_ALIAS]);
  });
});

describe("destructive commands and a protected alias", () => {
  it("refuse every target while a protected alias cannot be resolved, saying why", async () => {
    const { fakes, rooms } = withProtectedAlias();
    const deps = dependencies(fakes, rooms);

    const outcomes = [
      await runCommand(purgeCommand(deps), `${SPAM} 30d`),
      await runCommand(shutdownCommand(deps), `${SPAM} --block`),
      await runCommand(blockCommand(deps), SPAM),
    ];

    for (const outcome of outcomes) {
      expect(outcome.kind).toBe("refused");
      expect(outcome.kind === "refused" && outcome.reason).toContain("#lobby:example.org (the room directory has no such alias) could not be resolved");
    }
    expect(fakes.launcher.requests).toEqual([]);
    expect(fakes.admin.blocked.size).toBe(0);
  });

  it("refuse the room once its alias resolves, though it did not at start", async () => {
    const { fakes, rooms } = withProtectedAlias();
    const deps = dependencies(fakes, rooms);
    await rooms.current(); // start-up: the alias does not resolve yet
    fakes.directory.add(LOBBY_ALIAS, LOBBY);

    const purge = await runCommand(purgeCommand(deps), `${LOBBY} 30d`);
    const other = await runCommand(purgeCommand(deps), `${SPAM} 30d`);

    expect(purge).toEqual({ kind: "refused", reason: `${LOBBY} is listed in protectedRooms in Warden's config; Warden will not purge or shut it down.` });
    expect(other.kind).toBe("task-started");
  });
});
