import { describe, expect, it } from "vitest";
import { DEFAULT_SHUTDOWN_PURGE_AFTER_MS, shutdownCommand } from "../../../../src/commands/jobs/shutdown.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { CONTEXT, parseProblem, REQUESTER, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";

const SPAM = "!spam:example.org" as RoomId;

function shutdownSetup(): { fakes: CommandFakes; shutdown: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central", 40, 3);
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, shutdown: shutdownCommand(fakes.dependencies) };
}

describe("!shutdown: what it launches", () => {
  it("by default empties the room now and purges it once the members' clients have seen the leave: a one-room wave without a board", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const outcome = await runCommand(
      shutdown,
      '#spam:example.org --block --notify-as @abuse:example.org --room-name "Closed" --message "This room was closed."',
    );

    expect(outcome.kind).toBe("wave-started");
    expect(fakes.launcher.requests).toEqual([]);
    expect(fakes.waves.requests).toEqual([
      {
        kind: "shutdown",
        requester: REQUESTER,
        managementRoomId: MANAGEMENT_ROOM,
        commandEventId: CONTEXT.commandEventId,
        selection: { listed: ["#spam:example.org"] },
        // The first delete keeps the data (purge: false) so the leaves reach the clients; the purge phase follows.
        parameters: {
          block: true,
          purge: false,
          forcePurge: false,
          purgeWhen: "members-seen",
          purgeDeadlineMs: DEFAULT_SHUTDOWN_PURGE_AFTER_MS,
          notifyAs: "@abuse:example.org",
          newRoomName: "Closed",
          message: "This room was closed.",
        },
        rooms: [{ roomId: SPAM, label: `#spam:example.org (${SPAM})`, name: "Spam central", joinedMembers: 40, joinedLocalMembers: 3 }],
        leftOut: [],
        board: false,
      },
    ]);
  });

  it("bounds the wait for members' clients by shutdownPurgeAfter", async () => {
    const fakes = commandFakes();
    fakes.admin.addRoom(SPAM, "Spam central", 40, 3);
    const shutdown = shutdownCommand({ ...fakes.dependencies, shutdownPurgeAfterMs: 3_600_000 });
    await runCommand(shutdown, SPAM);
    expect(fakes.waves.requests[0]?.parameters).toMatchObject({ purgeWhen: "members-seen", purgeDeadlineMs: 3_600_000 });
  });

  it("with --purge-after, a one-room wave too: blocked, emptied now, purged after the cooldown", async () => {
    const { fakes, shutdown } = shutdownSetup();
    await runCommand(shutdown, `${SPAM} --purge-after 2h`);
    expect(fakes.waves.requests[0]).toMatchObject({ board: false, parameters: { block: true, purge: false, forcePurge: false, purgeAfterMs: 7_200_000, purgeAfter: "2h" } });
    expect(fakes.waves.requests[0]?.parameters["purgeWhen"]).toBeUndefined();
  });

  it("with --purge-now, one task deletes the room at once, the options submitted as given", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const outcome = await runCommand(
      shutdown,
      '#spam:example.org --block --purge-now --notify-as @abuse:example.org --room-name "Closed" --message "This room was closed."',
    );

    expect(outcome.kind).toBe("task-started");
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.directory.lookups).toEqual(["#spam:example.org"]);
    const request = fakes.launcher.requests[0];
    expect(request).toMatchObject({
      kind: "shutdown",
      roomId: SPAM,
      roomLabel: `#spam:example.org (${SPAM})`,
      requester: REQUESTER,
      managementRoomId: MANAGEMENT_ROOM,
      commandEventId: CONTEXT.commandEventId,
    });
    expect(request?.parameters).toEqual({
      knownRoom: true,
      roomName: "Spam central",
      joinedMembers: 40,
      joinedLocalMembers: 3,
      block: true,
      purge: true,
      forcePurge: false,
      notifyAs: "@abuse:example.org",
      newRoomName: "Closed",
      message: "This room was closed.",
    });
    expect(fakes.admin.calls.filter((call) => call.method === "startDelete")).toEqual([]);

    expect(await request?.submit()).toEqual({ ok: true, value: "delete-1" });
    expect(fakes.admin.calls.at(-1)).toEqual({
      method: "startDelete",
      roomId: SPAM,
      options: {
        block: true,
        purge: true,
        forcePurge: false,
        newRoomUserId: "@abuse:example.org",
        roomName: "Closed",
        message: "This room was closed.",
      },
    });
  });

  it("passes --no-purge and --force-purge through", async () => {
    const { fakes, shutdown } = shutdownSetup();
    await runCommand(shutdown, `${SPAM} --no-purge`);
    await runCommand(shutdown, `${SPAM} --force-purge --purge-now`);
    await runCommand(shutdown, `${SPAM} --force-purge`);
    expect(fakes.launcher.requests.map((request) => [request.parameters["purge"], request.parameters["forcePurge"]])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(fakes.waves.requests.map((request) => [request.parameters["purge"], request.parameters["forcePurge"]])).toEqual([[false, true]]);
    await fakes.launcher.requests[0]?.submit();
    expect(fakes.admin.calls.at(-1)).toEqual({ method: "startDelete", roomId: SPAM, options: { block: false, purge: false, forcePurge: false } });
  });

  it("launches a block-only shutdown of an unknown room with --block, marked knownRoom=false: no data, so no purge step", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const outcome = await runCommand(shutdown, "!unknown:remote.example --block");
    expect(outcome.kind).toBe("task-started");
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.launcher.requests[0]?.parameters).toEqual({
      knownRoom: false,
      roomName: "",
      joinedMembers: 0,
      joinedLocalMembers: 0,
      block: true,
      purge: true,
      forcePurge: false,
    });
  });

  it("joins a shutdown of the same room already in flight that does as much, without starting a wave", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const existing = sampleTask({ id: "s-bbbbbb", kind: "shutdown", roomId: SPAM });
    fakes.launcher.joinExisting = existing;
    expect(await runCommand(shutdown, SPAM)).toEqual({ kind: "task-joined", task: existing });
    expect(await runCommand(shutdown, `${SPAM} --purge-now`)).toEqual({ kind: "task-joined", task: existing });
    expect(fakes.waves.requests).toEqual([]);
  });

  it("refuses while a shutdown of the room that does less runs, naming it, and starts nothing", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const existing = sampleTask({ id: "s-bbbbbb", kind: "shutdown", roomId: SPAM, roomLabel: SPAM, parameters: { block: false, purge: false, forcePurge: false } });
    fakes.launcher.busyWith = existing;
    const outcome = await runCommand(shutdown, `${SPAM} --block`);
    expect(outcome).toEqual({
      kind: "refused",
      reason: `shutdown s-bbbbbb of ${SPAM} is still running and does less than this command asks (block: no, delete from database: no); the homeserver runs one such job per target at a time, so nothing was sent.`,
      hint: "Send the command again once s-bbbbbb has ended (!status s-bbbbbb).",
    });
    expect(fakes.waves.requests).toEqual([]);
  });

  it.each([
    ["--purge-now --no-purge", "--purge-now", "not together with --no-purge: --purge-now purges at once, --no-purge never"],
    ["--purge-now --purge-after 7d", "--purge-after", "not together with --purge-now: --purge-after purges later, --purge-now at once"],
    ["--purge-after 7d --no-purge", "--purge-after", "not together with --no-purge: --purge-after purges later, --no-purge never"],
  ])("refuses %s, naming the flag", (flags, argument, expected) => {
    const { fakes, shutdown } = shutdownSetup();
    expect(parseProblem(shutdown, `${SPAM} ${flags}`)).toEqual({ argument, expected });
    expect(fakes.waves.requests).toEqual([]);
    expect(fakes.launcher.requests).toEqual([]);
  });
});

describe("!shutdown: refusals", () => {
  it("refuses an unknown room without --block, with a hint to add it", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const outcome = await runCommand(shutdown, "!unknown:remote.example");
    expect(outcome).toEqual({
      kind: "refused",
      reason: "!unknown:remote.example is not a room this homeserver knows: there is nothing to shut down.",
      hint: "Add --block to block it anyway, so nobody on this server can create or join it.",
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses when the room lookup fails for another reason than not-found, even with --block", async () => {
    const { fakes, shutdown } = shutdownSetup();
    fakes.admin.roomDetailsFailure = adminError("server-error", 502);
    const outcome = await runCommand(shutdown, `${SPAM} --block`);
    expect(outcome).toEqual({ kind: "refused", reason: `could not look up ${SPAM}: the homeserver failed with HTTP 502` });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses the management room and a protected room, even with --block", async () => {
    const { fakes, shutdown } = shutdownSetup();
    fakes.admin.addRoom(MANAGEMENT_ROOM);
    fakes.admin.addRoom(PROTECTED_ROOM);
    fakes.directory.add("#protected:example.org", PROTECTED_ROOM);
    const management = await runCommand(shutdown, `${MANAGEMENT_ROOM} --block`);
    const protectedByAlias = await runCommand(shutdown, "#protected:example.org --block");
    expect(management.kind === "refused" && management.reason).toBe(
      `${MANAGEMENT_ROOM} is Warden's own management room; Warden never purges or shuts it down.`,
    );
    expect(protectedByAlias.kind === "refused" && protectedByAlias.reason).toBe(
      `#protected:example.org (${PROTECTED_ROOM}) is listed in protectedRooms in Warden's config; Warden will not purge or shut it down.`,
    );
    expect(fakes.launcher.requests).toEqual([]);
    expect(fakes.admin.calls).toEqual([]);
  });

  it("refuses an alias that does not resolve", async () => {
    const { fakes, shutdown } = shutdownSetup();
    const outcome = await runCommand(shutdown, "#nowhere:example.org --block");
    expect(outcome.kind).toBe("refused");
    expect(fakes.launcher.requests).toEqual([]);
  });
});

describe("!shutdown: arguments", () => {
  it("rejects --message without --notify-as", () => {
    const { shutdown } = shutdownSetup();
    expect(parseProblem(shutdown, `${SPAM} --message "Closed."`)).toEqual({
      argument: "--message",
      expected: "--notify-as USER as well: the new room is created by that user",
    });
  });

  it("rejects --room-name without --notify-as", () => {
    const { shutdown } = shutdownSetup();
    expect(parseProblem(shutdown, `${SPAM} --room-name Closed`)?.argument).toBe("--room-name");
    expect(parseProblem(shutdown, `${SPAM} --room-name Closed --message Bye`)?.argument).toBe("--room-name");
  });

  it("rejects --no-purge together with --force-purge", () => {
    const { shutdown } = shutdownSetup();
    const problem = parseProblem(shutdown, `${SPAM} --no-purge --force-purge`);
    expect(problem?.argument).toBe("--force-purge");
    expect(problem?.expected).toContain("not together with --no-purge");
  });

  it("rejects a --notify-as that is not a user ID", () => {
    const { shutdown } = shutdownSetup();
    const problem = parseProblem(shutdown, `${SPAM} --notify-as abuse`);
    expect(problem).toEqual({ argument: "--notify-as", given: "abuse", expected: "a full user ID such as @abuse:example.org" });
  });

  it("names <room> for something that is not a room", () => {
    const { shutdown } = shutdownSetup();
    expect(parseProblem(shutdown, "@alice:example.org --block")?.argument).toBe("<room>");
  });
});
