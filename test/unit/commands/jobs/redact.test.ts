import { describe, expect, it } from "vitest";
import { redactCommand } from "../../../../src/commands/jobs/redact.js";
import type { Command } from "../../../../src/commands/spec.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import type { RoomId, UserId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { CONTEXT, parseProblem, REQUESTER, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";

const SPAMMER = "@spammer:example.org" as UserId;
const LOBBY = "!lobby:example.org" as RoomId;
const GARDEN = "!garden:example.org" as RoomId;
const BANNED = "!banned:example.org" as RoomId;
const LEFT = "!left:example.org" as RoomId;

const USER_EXPECTED = "a full user ID such as @abuse:example.org";
const LIMIT_EXPECTED = "a whole number of events per room from 1 to 10000";

function redactSetup(): { fakes: CommandFakes; redact: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(LOBBY, "Lobby");
  fakes.admin.addRoom(GARDEN, null);
  fakes.directory.add("#lobby:example.org", LOBBY);
  fakes.admin.memberships.set(SPAMMER, { [LOBBY]: "join", [GARDEN]: "join", [BANNED]: "ban", [LEFT]: "leave", "!invited:example.org": "invite" });
  return { fakes, redact: redactCommand(fakes.dependencies) };
}

function parsed(command: Command, text: string): unknown {
  const words = splitWords(text, command);
  const args = words.ok ? command.parse(words.value) : words;
  if (!args.ok) throw new Error(`test text does not parse: ${JSON.stringify(args.error)}`);
  return args.value;
}

async function preview(command: Command, text: string) {
  if (command.confirmation === undefined) throw new Error(`${command.name} has no preview`);
  return command.confirmation.preview(parsed(command, text), CONTEXT);
}

describe("!redact: what it launches", () => {
  it("without --room: launches a redact of the user over Synapse's default rooms, counted now, and submits rooms: []", async () => {
    const { fakes, redact } = redactSetup();

    const outcome = await runCommand(redact, `${SPAMMER} --reason "spam wave" --limit 250`);

    expect(outcome.kind).toBe("task-started");
    expect(outcome.kind === "task-started" && outcome.task.id).toBe("r-000001");
    const request = fakes.launcher.requests[0];
    expect(request).toMatchObject({
      kind: "redact",
      roomId: SPAMMER,
      roomLabel: SPAMMER,
      requester: REQUESTER,
      managementRoomId: MANAGEMENT_ROOM,
      commandEventId: CONTEXT.commandEventId,
    });
    expect(request?.parameters).toEqual({ rooms: [], joinedRooms: 2, bannedRooms: 1, limit: 250, reason: "spam wave" });
    expect(fakes.admin.userCalls).toEqual([{ method: "userMemberships", userId: SPAMMER }]);

    expect(await request?.submit()).toEqual({ ok: true, value: "redact-1" });
    expect(fakes.admin.userCalls.at(-1)).toEqual({ method: "startRedact", userId: SPAMMER, options: { rooms: [], reason: "spam wave", limit: 250 } });
  });

  it("leaves out reason and limit when they were not given, so Synapse's default limit applies", async () => {
    const { fakes, redact } = redactSetup();
    await runCommand(redact, SPAMMER);
    expect(fakes.launcher.requests[0]?.parameters).toEqual({ rooms: [], joinedRooms: 2, bannedRooms: 1 });
    await fakes.launcher.requests[0]?.submit();
    expect(fakes.admin.userCalls.at(-1)).toEqual({ method: "startRedact", userId: SPAMMER, options: { rooms: [] } });
  });

  it("with --room: resolves a room ID, an alias and a matrix.to link, drops repeats, and submits only those rooms", async () => {
    const { fakes, redact } = redactSetup();

    const outcome = await runCommand(
      redact,
      `${SPAMMER} --room #lobby:example.org --room ${GARDEN} --room https://matrix.to/#/${encodeURIComponent(GARDEN)}?via=example.org --room ${LOBBY}`,
    );

    expect(outcome.kind).toBe("task-started");
    expect(fakes.directory.lookups).toEqual(["#lobby:example.org"]);
    expect(fakes.launcher.requests[0]?.parameters).toEqual({ rooms: [LOBBY, GARDEN], roomLabels: [`#lobby:example.org (${LOBBY})`, GARDEN] });
    // The rooms are checked to exist; the user's memberships are not needed.
    expect(fakes.admin.calls).toEqual([
      { method: "roomDetails", roomId: LOBBY },
      { method: "roomDetails", roomId: GARDEN },
    ]);
    expect(fakes.admin.userCalls).toEqual([]);

    await fakes.launcher.requests[0]?.submit();
    expect(fakes.admin.userCalls).toEqual([{ method: "startRedact", userId: SPAMMER, options: { rooms: [LOBBY, GARDEN] } }]);
  });

  it("may cover a protected room: cleaning up after a spammer there is the point", async () => {
    const { fakes, redact } = redactSetup();
    fakes.admin.addRoom(PROTECTED_ROOM);
    expect((await runCommand(redact, `${SPAMMER} --room ${PROTECTED_ROOM}`)).kind).toBe("task-started");
    expect(fakes.launcher.requests[0]?.parameters["rooms"]).toEqual([PROTECTED_ROOM]);
  });

  it("joins a redaction of the same user already in flight", async () => {
    const { fakes, redact } = redactSetup();
    const existing = sampleTask({ id: "r-bbbbbb", kind: "redact", roomId: SPAMMER, roomLabel: SPAMMER });
    fakes.launcher.joinExisting = existing;
    expect(await runCommand(redact, SPAMMER)).toEqual({ kind: "task-joined", task: existing });
  });

  it("turns Synapse's 400 'Redact already in progress' into a clear reason, keeping what Synapse said", async () => {
    const { fakes, redact } = redactSetup();
    fakes.admin.activeRedactions.add(SPAMMER);
    await runCommand(redact, SPAMMER);

    const submitted = await fakes.launcher.requests[0]?.submit();

    expect(submitted).toEqual({
      ok: false,
      error: {
        kind: "bad-request",
        status: 400,
        detail: `Redact already in progress for user ${SPAMMER}`,
        userMessage: "a redaction of this user is already running on the homeserver",
      },
    });
  });

  it("passes any other refusal from Synapse on unchanged", async () => {
    const { fakes, redact } = redactSetup();
    const refusal = adminError("bad-request", 400, "If limit is provided it must be a non-negative integer greater than 0.");
    fakes.admin.userFailures.set("startRedact", refusal);
    await runCommand(redact, SPAMMER);
    expect(await fakes.launcher.requests[0]?.submit()).toEqual({ ok: false, error: refusal });
  });
});

describe("!redact: refusals", () => {
  it("refuses the management room named with --room, by ID or alias, before anything is asked", async () => {
    const { fakes, redact } = redactSetup();
    fakes.directory.add("#mgmt:example.org", MANAGEMENT_ROOM);
    const byId = await runCommand(redact, `${SPAMMER} --room ${LOBBY} --room ${MANAGEMENT_ROOM}`);
    const byAlias = await runCommand(redact, `${SPAMMER} --room #mgmt:example.org`);
    expect(byId).toEqual({
      kind: "refused",
      reason: `${MANAGEMENT_ROOM} is Warden's own management room; its history is Warden's audit trail and is never redacted.`,
    });
    expect(byAlias.kind === "refused" && byAlias.reason).toBe(
      `#mgmt:example.org (${MANAGEMENT_ROOM}) is Warden's own management room; its history is Warden's audit trail and is never redacted.`,
    );
    expect(fakes.launcher.requests).toEqual([]);
  });

  it.each(["join", "ban"])("without --room, refuses a user whose membership in the management room is %s", async (membership) => {
    const { fakes, redact } = redactSetup();
    fakes.admin.memberships.set(SPAMMER, { [LOBBY]: "join", [MANAGEMENT_ROOM]: membership });
    expect(await runCommand(redact, SPAMMER)).toEqual({
      kind: "refused",
      reason: `${SPAMMER} is joined to or banned from Warden's management room, whose history is Warden's audit trail: a redaction of all their rooms would reach it.`,
      hint: "Name the rooms to cover with --room.",
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("without --room, refuses a user in no room and banned from none, pointing to --room for rooms they left", async () => {
    const { fakes, redact } = redactSetup();
    fakes.admin.memberships.set(SPAMMER, { [LEFT]: "leave" });
    expect(await runCommand(redact, SPAMMER)).toEqual({
      kind: "refused",
      reason: `${SPAMMER} is joined to no room and banned from none on this homeserver, so a redaction without --room would do nothing.`,
      hint: "Rooms they left are not covered by default: name them with --room.",
    });
    expect(await runCommand(redact, "@nobody:example.org")).toMatchObject({ kind: "refused" });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses when the user's rooms cannot be read", async () => {
    const { fakes, redact } = redactSetup();
    fakes.admin.userFailures.set("userMemberships", adminError("server-error", 502));
    expect(await runCommand(redact, SPAMMER)).toEqual({
      kind: "refused",
      reason: `could not look up the rooms of ${SPAMMER}: the homeserver failed with HTTP 502`,
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses a named room the homeserver does not know (Synapse would fail the job there) and one it cannot look up", async () => {
    const { fakes, redact } = redactSetup();
    const unknown = await runCommand(redact, `${SPAMMER} --room ${LOBBY} --room !gone:example.org`);
    expect(unknown).toEqual({ kind: "refused", reason: "!gone:example.org is not a room this homeserver knows, so it holds no messages to redact." });
    fakes.admin.roomDetailsFailure = adminError("timeout");
    const failing = await runCommand(redact, `${SPAMMER} --room ${LOBBY}`);
    expect(failing).toEqual({ kind: "refused", reason: `could not look up ${LOBBY}: the homeserver did not answer in time` });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses an alias that does not resolve", async () => {
    const { fakes, redact } = redactSetup();
    const outcome = await runCommand(redact, `${SPAMMER} --room #nowhere:example.org`);
    expect(outcome).toEqual({ kind: "refused", reason: "the alias #nowhere:example.org could not be resolved: the room directory has no such alias" });
    expect(fakes.launcher.requests).toEqual([]);
  });
});

describe("!redact: arguments", () => {
  it.each(["spammer", "@spammer", "spammer:example.org", "#spammer:example.org", "!spammer:example.org"])("names <user> for %j", (word) => {
    const { redact } = redactSetup();
    expect(parseProblem(redact, word)).toEqual({ argument: "<user>", given: word, expected: USER_EXPECTED });
  });

  it("names a missing <user>, and refuses a second user", () => {
    const { redact } = redactSetup();
    expect(parseProblem(redact, "--room #lobby:example.org")?.argument).toBe("<user>");
    expect(parseProblem(redact, `${SPAMMER} @other:example.org`)).toMatchObject({ argument: "arguments", given: "@other:example.org" });
  });

  it.each(["lobby", "@spammer:example.org", "https://matrix.to/#/@spammer:example.org"])("names --room for %j", (word) => {
    const { redact } = redactSetup();
    const problem = parseProblem(redact, `${SPAMMER} --room #lobby:example.org --room ${word}`);
    expect(problem).toMatchObject({ argument: "--room", given: word });
    expect(problem?.expected).toContain("a room ID");
  });

  it.each(["0", "10001", "-1", "1.5", "1e3", "0x10", "ten", "9999999"])("refuses --limit %s", (limit) => {
    const { redact } = redactSetup();
    expect(parseProblem(redact, `${SPAMMER} --limit ${limit}`)).toEqual({ argument: "--limit", given: limit, expected: LIMIT_EXPECTED });
  });

  it.each([
    ["1", 1],
    ["10000", 10_000],
    ["0250", 250],
  ])("accepts --limit %s as %d", async (text, limit) => {
    const { fakes, redact } = redactSetup();
    await runCommand(redact, `${SPAMMER} --limit ${text}`);
    expect(fakes.launcher.requests[0]?.parameters["limit"]).toBe(limit);
  });

  it("refuses --limit and --reason without a value", () => {
    const { redact } = redactSetup();
    expect(parseProblem(redact, `${SPAMMER} --limit`)?.argument).toBe("--limit");
    expect(parseProblem(redact, `${SPAMMER} --reason`)?.argument).toBe("--reason");
  });
});

describe("!redact: preview", () => {
  it("always asks under the 'redact' setting", () => {
    const { redact } = redactSetup();
    expect(redact.confirmation?.kind(parsed(redact, SPAMMER))).toBe("redact");
    expect(redact.confirmation?.kind(parsed(redact, `${SPAMMER} --room ${LOBBY}`))).toBe("redact");
  });

  it("without --room: the rooms joined and banned from now, and that rooms left are not covered", async () => {
    const { fakes, redact } = redactSetup();
    const shown = await preview(redact, `${SPAMMER} --reason spam`);
    expect(shown).toEqual({
      ok: true,
      value: {
        title: `redact the messages of ${SPAMMER}`,
        lines: [
          { label: "User", value: SPAMMER },
          { label: "Rooms", value: "the rooms the user is joined to or banned from (not rooms they left), as Synapse reads them when the job starts" },
          { label: "Joined now (2)", value: `${GARDEN}, ${LOBBY}` },
          { label: "Banned from now (1)", value: BANNED },
          { label: "Not covered", value: "rooms the user left (1 now); name such rooms with --room" },
          { label: "Redacts", value: "the user's messages (m.room.message, m.room.encrypted) and join events" },
          { label: "Limit", value: "at most 1000 of the user's events per room (Synapse's default)" },
          { label: "Reason", value: "spam" },
        ],
      },
    });
    expect(fakes.launcher.requests).toEqual([]);
    expect(fakes.admin.userCalls).toEqual([{ method: "userMemberships", userId: SPAMMER }]);
  });

  it("with --room: the rooms named, with their names, and the limit", async () => {
    const { redact } = redactSetup();
    const shown = await preview(redact, `${SPAMMER} --room #lobby:example.org --room ${GARDEN} --limit 50`);
    expect(shown.ok && shown.value.lines).toEqual([
      { label: "User", value: SPAMMER },
      { label: "Rooms (2, named with --room)", value: `"Lobby" #lobby:example.org (${LOBBY}), ${GARDEN}` },
      { label: "Redacts", value: "the user's messages (m.room.message, m.room.encrypted) and join events" },
      { label: "Limit", value: "at most 50 of the user's events per room" },
    ]);
  });

  it("lists 20 rooms and counts the rest", async () => {
    const { fakes, redact } = redactSetup();
    const many = Array.from({ length: 23 }, (_, index) => `!room${String(index).padStart(2, "0")}:example.org`);
    fakes.admin.memberships.set(SPAMMER, Object.fromEntries(many.map((roomId) => [roomId, "join"])));
    const shown = await preview(redact, SPAMMER);
    const joined = shown.ok ? shown.value.lines.find((line) => line.label === "Joined now (23)") : undefined;
    expect(joined?.value).toBe(`${many.slice(0, 20).join(", ")}, and 3 more`);
    expect(shown.ok && shown.value.lines.find((line) => line.label.startsWith("Banned"))).toEqual({ label: "Banned from now (0)", value: "none" });
  });

  it("is refused for the same reasons as the command itself", async () => {
    const { fakes, redact } = redactSetup();
    fakes.admin.memberships.set(SPAMMER, { [MANAGEMENT_ROOM]: "join" });
    expect(await preview(redact, SPAMMER)).toMatchObject({ ok: false, error: { kind: "refused", hint: "Name the rooms to cover with --room." } });
    expect(await preview(redact, `${SPAMMER} --room !gone:example.org`)).toMatchObject({ ok: false, error: { kind: "refused" } });
  });
});
