import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { takedownCommand } from "../../../../src/commands/users/takedown.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { CONTEXT, parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAMMER = "@spammer:example.org";
const REMOTE = "@troll:remote.example";
const LOBBY = "!lobby:example.org";
const LEFT = "!left:example.org";
const OWN = "!own:example.org";
const SHARED = "!shared:example.org";

function setup(): { fakes: CommandFakes; takedown: Command } {
  const fakes = commandFakes();
  fakes.admin.addAccount(SPAMMER, { displayname: "Spam King" });
  fakes.admin.addAccount("@boss:example.org", { admin: true });
  fakes.admin.addRoom(LOBBY, "Lobby", 10, 5);
  fakes.admin.addRoom(LEFT, "Left", 3, 2);
  // Rooms the spammer created: one only they (of the local users) are in, one shared with a local user.
  fakes.admin.rooms.set(OWN, { ...roomOf(fakes, OWN), creator: SPAMMER, joined_local_members: 1 });
  fakes.admin.rooms.set(SHARED, { ...roomOf(fakes, SHARED), creator: SPAMMER, joined_local_members: 2 });
  fakes.admin.rooms.set(PROTECTED_ROOM, { ...roomOf(fakes, PROTECTED_ROOM), creator: SPAMMER, joined_local_members: 1 });
  fakes.admin.memberships.set(SPAMMER, { [LOBBY]: "join", [LEFT]: "leave", [OWN]: "join", [SHARED]: "join", [PROTECTED_ROOM]: "join", [MANAGEMENT_ROOM]: "join", "!invited:example.org": "invite" });
  fakes.admin.sentEvents.set(LOBBY, [
    { eventId: "$1", sender: SPAMMER, content: { body: "buy" } },
    { eventId: "$2", sender: SPAMMER, content: { body: "now" } },
  ]);
  fakes.admin.upload(SPAMMER);
  return { fakes, takedown: takedownCommand(fakes.dependencies) };
}

function roomOf(fakes: CommandFakes, roomId: string) {
  fakes.admin.addRoom(roomId, "A room", 4, 1);
  const room = fakes.admin.rooms.get(roomId);
  if (room === undefined) throw new Error("no room");
  return room;
}

function parsed(command: Command, text: string): unknown {
  const words = splitWords(text, command);
  const args = words.ok ? command.parse(words.value) : words;
  if (!args.ok) throw new Error(`test text does not parse: ${JSON.stringify(args.error)}`);
  return args.value;
}

describe("!takedown: parsing", () => {
  it("names the bad part and the right form", () => {
    const { takedown } = setup();
    expect(parseProblem(takedown, "")).toEqual({ argument: "<user>", expected: "at least one full user ID such as @abuse:example.org" });
    expect(parseProblem(takedown, "spammer")).toMatchObject({ argument: "<user>", given: "spammer" });
    expect(parseProblem(takedown, `${SPAMMER} --erase`)).toEqual({ argument: "--erase", expected: "--deactivate as well: only a deactivated account is erased" });
    expect(parseProblem(takedown, `${SPAMMER} --quarantine-media --no-quarantine-media`)).toMatchObject({ argument: "--no-quarantine-media" });
    expect(parseProblem(takedown, `${SPAMMER} --deactivate --erase --rooms --reason spam`)).toBeUndefined();
  });

  it("asks first under the takedown kind, with --yes and --dry-run", () => {
    const { fakes } = setup();
    const command = fakes.table.find((entry) => entry.name === "takedown");
    expect(command?.confirmation?.kind(parsed(command, SPAMMER))).toBe("takedown");
    expect(command?.flags.map((flag) => flag.name)).toEqual(expect.arrayContaining(["yes", "dry-run", "deactivate", "erase", "rooms", "no-quarantine-media"]));
  });
});

describe("!takedown: the plan it starts", () => {
  it("records each user's rooms (memberships but invites and the management room) and the rooms only they hold, then starts the runner", async () => {
    const { fakes, takedown } = setup();

    const outcome = await runCommand(takedown, `${SPAMMER} --rooms --deactivate --erase --reason spam`);

    expect(outcome.kind).toBe("takedown-started");
    expect(fakes.takedowns.started).toHaveLength(1);
    const [record] = fakes.takedowns.started;
    expect(record).toMatchObject({
      requester: CONTEXT.requester,
      commandEventId: CONTEXT.commandEventId,
      options: { deactivate: true, erase: true, rooms: true, quarantineMedia: true, reason: "spam" },
      status: "running",
      leftOut: [],
      finalNotificationSent: false,
    });
    expect(record?.users).toEqual([
      {
        userId: SPAMMER,
        local: true,
        rooms: [LEFT, LOBBY, OWN, PROTECTED_ROOM, SHARED].sort(),
        ownRooms: [OWN],
        steps: [
          { name: "restrict", state: "pending" },
          { name: "media", state: "pending" },
          { name: "redact", state: "pending" },
          { name: "rooms", state: "pending" },
          { name: "deactivate", state: "pending" },
        ],
      },
    ]);
  });

  it("never takes down Warden, a moderator, a server admin or a protected user, naming them as left out", async () => {
    const { fakes, takedown } = setup();

    const outcome = await runCommand(takedown, `${SPAMMER} @mod:example.org @warden:example.org @boss:example.org @ghost:example.org`);

    expect(outcome.kind).toBe("takedown-started");
    expect(fakes.takedowns.started[0]?.users.map((user) => user.userId)).toEqual([SPAMMER]);
    expect(fakes.takedowns.started[0]?.leftOut).toEqual([
      { userId: "@mod:example.org", why: "a moderator on Warden's allowlist" },
      { userId: "@warden:example.org", why: "Warden's own account" },
      { userId: "@boss:example.org", why: "a server admin" },
      { userId: "@ghost:example.org", why: "no such account on this homeserver" },
    ]);
  });

  it("is refused when nobody is left to take down", async () => {
    const { fakes, takedown } = setup();

    const outcome = await runCommand(takedown, "@mod:example.org @boss:example.org");

    expect(outcome).toEqual({ kind: "refused", reason: "Nobody to take down: @mod:example.org is a moderator on Warden's allowlist; @boss:example.org is a server admin." });
    expect(fakes.takedowns.started).toEqual([]);
  });

  it("plans a remote user's steps that apply here, and skips the rest", async () => {
    const { fakes, takedown } = setup();
    fakes.admin.memberships.set(REMOTE, { [LOBBY]: "join" });

    await runCommand(takedown, `${REMOTE} --deactivate`);

    const user = fakes.takedowns.started[0]?.users[0];
    expect(user).toMatchObject({ userId: REMOTE, local: false, rooms: [LOBBY] });
    expect(user?.steps.find((step) => step.name === "restrict")?.state).toBe("skipped");
    expect(user?.steps.find((step) => step.name === "deactivate")?.state).toBe("skipped");
    expect(user?.steps.find((step) => step.name === "redact")?.state).toBe("pending");
    expect(fakes.admin.accountCalls).toEqual([]);
  });

  it("covers only the joined rooms on a homeserver without the memberships endpoint, and says so", async () => {
    const { fakes, takedown } = setup();
    fakes.homeserverVersion.set("1.140.0");

    const preview = await takedown.confirmation?.preview(parsed(takedown, SPAMMER), CONTEXT);
    await runCommand(takedown, SPAMMER);

    expect(fakes.takedowns.started[0]?.users[0]?.rooms).toEqual([LOBBY, MANAGEMENT_ROOM, OWN, PROTECTED_ROOM, SHARED].filter((room) => room !== MANAGEMENT_ROOM).sort());
    expect(JSON.stringify(preview)).toContain("rooms they left are not covered: the membership history of a user needs Synapse 1.145 or later (this homeserver runs 1.140.0)");
  });

  it("skips the redaction on a homeserver without the user-redact API", async () => {
    const { fakes, takedown } = setup();
    fakes.homeserverVersion.set("1.110.0");

    await runCommand(takedown, SPAMMER);

    expect(fakes.takedowns.started[0]?.users[0]?.steps.find((step) => step.name === "redact")).toEqual({
      name: "redact",
      state: "skipped",
      detail: "the user-redact API needs Synapse 1.116 or later (this homeserver runs 1.110.0)",
    });
  });
});

describe("!takedown: the preview", () => {
  it("says per user what each step will touch before anything happens", async () => {
    const { fakes, takedown } = setup();

    const preview = await takedown.confirmation?.preview(parsed(takedown, `${SPAMMER} @mod:example.org --rooms --deactivate --erase`), CONTEXT);

    expect(preview?.ok).toBe(true);
    if (preview?.ok !== true) return;
    expect(preview.value.title).toBe("take down 1 user");
    const lines = Object.fromEntries(preview.value.lines.map((line) => [line.label, line.value]));
    expect(lines["Plan, per user"]).toBe("suspend, then quarantine media, then redact, then shut down their rooms, then deactivate and erase; each step is stored and followed to its end");
    expect(lines[`${SPAMMER} ("Spam King")`]).toBe(
      `suspended first; 1 file quarantined; redacted in 5 rooms (4 joined, 1 left or banned), about 2 of their events: ${[LEFT, LOBBY, OWN, PROTECTED_ROOM, SHARED].sort().join(", ")}; 1 room of theirs shut down: ${OWN}; deactivated and erased after the redaction`,
    );
    expect(lines["Left out (1)"]).toBe("@mod:example.org (a moderator on Warden's allowlist)");
    // A preview changes nothing.
    expect(fakes.takedowns.started).toEqual([]);
    expect(fakes.admin.changesSent()).toEqual([]);
  });
});
