import { describe, expect, it } from "vitest";
import { purgeCommand } from "../../../../src/commands/jobs/purge.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { CONTEXT, parseProblem, REQUESTER, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";

const SPAM = "!spam:example.org" as RoomId;
const DAY = 86_400_000;

/** The room's first and newest events: every time point in these tests falls between them. */
const FIRST_SENT = Date.UTC(2024, 0, 1);
const LATEST_SENT = FIXED_NOW - 60_000;

function purgeSetup(): { fakes: CommandFakes; purge: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(SPAM, "Spam central");
  fakes.admin.addEvent("$first", SPAM, FIRST_SENT);
  fakes.admin.addEvent("$latest", SPAM, LATEST_SENT);
  fakes.directory.add("#spam:example.org", SPAM);
  return { fakes, purge: purgeCommand(fakes.dependencies) };
}

describe("!purge: what it launches", () => {
  it("launches a purge up to a time, with the cut-off in UTC and the event it resolves to, and submits that event", async () => {
    const { fakes, purge } = purgeSetup();
    const outcome = await runCommand(purge, `${SPAM} 2024-05-01T12:00`);

    expect(outcome.kind).toBe("task-started");
    expect(fakes.launcher.requests).toHaveLength(1);
    const request = fakes.launcher.requests[0];
    expect(request).toMatchObject({
      kind: "purge",
      roomId: SPAM,
      roomLabel: SPAM,
      requester: REQUESTER,
      managementRoomId: MANAGEMENT_ROOM,
      commandEventId: CONTEXT.commandEventId,
    });
    expect(request?.parameters).toEqual({
      roomName: "Spam central",
      deleteLocalEvents: false,
      cutoffTs: Date.UTC(2024, 4, 1, 12, 0),
      cutoff: "2024-05-01 12:00:00 UTC",
      eventId: "$latest",
    });
    // Nothing reaches the homeserver until the launcher submits.
    expect(fakes.admin.calls.filter((call) => call.method === "startPurge")).toEqual([]);

    const submitted = await request?.submit();
    expect(submitted).toEqual({ ok: true, value: "purge-1" });
    expect(fakes.admin.calls.at(-1)).toEqual({
      method: "startPurge",
      roomId: SPAM,
      point: { eventId: "$latest" },
      deleteLocalEvents: false,
    });
  });

  // Synapse's purge_up_to_ts takes the first event received after the time on the whole server,
  // then this room's newest event before that one, and keeps it: on a busy server the room's
  // last event before the time survives. Warden purges up to this room's own boundary instead.
  it("purges a time point up to this room's first event at or after the time, so its last event before the time goes", async () => {
    const { fakes, purge } = purgeSetup();
    const point = Date.UTC(2024, 4, 1, 12, 0);
    fakes.admin.addEvent("$last-before", SPAM, point - 1_000);
    fakes.admin.addEvent("$other-room-after", "!busy:example.org", point + 1_000);
    fakes.admin.addEvent("$first-after", SPAM, point + 5_000);
    fakes.admin.addEvent("$at-the-time", "!busy:example.org", point);

    await runCommand(purge, `${SPAM} 2024-05-01T12:00`);
    await fakes.launcher.requests[0]?.submit();

    expect(fakes.launcher.requests[0]?.parameters).toMatchObject({ cutoffTs: point, cutoff: "2024-05-01 12:00:00 UTC", eventId: "$first-after" });
    expect(fakes.admin.calls.at(-1)).toEqual({ method: "startPurge", roomId: SPAM, point: { eventId: "$first-after" }, deleteLocalEvents: false });
  });

  it("keeps an event sent exactly at the time point", async () => {
    const { fakes, purge } = purgeSetup();
    const point = Date.UTC(2024, 4, 1, 12, 0);
    fakes.admin.addEvent("$exactly", SPAM, point);

    await runCommand(purge, `${SPAM} 2024-05-01T12:00`);

    expect(fakes.launcher.requests[0]?.parameters["eventId"]).toBe("$exactly");
  });

  it("says when nothing of the room lies after the time point: its newest event stays", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.events.delete("$latest");
    fakes.admin.addEvent("$newest", SPAM, Date.UTC(2024, 3, 1));

    await runCommand(purge, `${SPAM} 2024-05-01T12:00`);
    await fakes.launcher.requests[0]?.submit();

    const parameters = fakes.launcher.requests[0]?.parameters;
    expect(parameters?.["eventId"]).toBe("$newest");
    expect(parameters?.["cutoff"]).toBe(
      "2024-05-01 12:00:00 UTC (nothing in this room was sent after it: its newest event stays, as Synapse always keeps a room's newest event)",
    );
    expect(fakes.admin.calls.at(-1)).toMatchObject({ method: "startPurge", point: { eventId: "$newest" } });
  });

  it("answers 'nothing to purge' without starting a job when no event of the room was sent before the time", async () => {
    const { fakes, purge } = purgeSetup();

    const outcome = await runCommand(purge, `${SPAM} 2023-12-31T23:59`);

    expect(outcome).toEqual({ kind: "refused", reason: `nothing to purge: no event of ${SPAM} was sent before 2023-12-31 23:59:00 UTC.` });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("answers 'nothing to purge' without starting a job when the room's only event before the time is its newest, which Synapse keeps", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.events.delete("$latest");

    const outcome = await runCommand(purge, `${SPAM} 2024-05-01T12:00`);

    expect(outcome).toEqual({
      kind: "refused",
      reason: `nothing to purge: only the newest event of ${SPAM} ($first, sent 2024-01-01 00:00:00 UTC), which Synapse always keeps, lies before 2024-05-01 12:00:00 UTC.`,
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses when it cannot find where the time falls in the room, saying why", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.timestampFailure = adminError("timeout");

    const outcome = await runCommand(purge, `${SPAM} 2024-05-01T12:00`);

    expect(outcome).toEqual({
      kind: "refused",
      reason: `could not find where 2024-05-01 12:00:00 UTC falls in ${SPAM}: the homeserver did not answer in time`,
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("launches a purge up to an age, with --local and a reason", async () => {
    const { fakes, purge } = purgeSetup();
    await runCommand(purge, `${SPAM} 90d --local --reason "spam wave"`);
    expect(fakes.launcher.requests[0]?.parameters).toMatchObject({
      deleteLocalEvents: true,
      reason: "spam wave",
      cutoffTs: FIXED_NOW - 90 * DAY,
      eventId: "$latest",
    });
    await fakes.launcher.requests[0]?.submit();
    expect(fakes.admin.calls.at(-1)).toEqual({
      method: "startPurge",
      roomId: SPAM,
      point: { eventId: "$latest" },
      deleteLocalEvents: true,
    });
  });

  it("checks an event point against the room and purges up to that event", async () => {
    const { fakes, purge } = purgeSetup();
    const sentAt = Date.UTC(2024, 10, 3, 8, 30, 5);
    fakes.admin.addEvent("$keep:example.org", SPAM, sentAt);
    await runCommand(purge, `${SPAM} https://matrix.to/#/%21spam%3Aexample.org/%24keep%3Aexample.org?via=example.org`);

    expect(fakes.admin.calls).toContainEqual({ method: "fetchEvent", eventId: "$keep:example.org" });
    expect(fakes.launcher.requests[0]?.parameters).toMatchObject({
      eventId: "$keep:example.org",
      cutoffTs: sentAt,
      cutoff: "2024-11-03 08:30:05 UTC (the event's own time; it is kept)",
    });
    await fakes.launcher.requests[0]?.submit();
    expect(fakes.admin.calls.at(-1)).toEqual({
      method: "startPurge",
      roomId: SPAM,
      point: { eventId: "$keep:example.org" },
      deleteLocalEvents: false,
    });
  });

  it("explains Synapse's 404 'no event to be purged' as nothing before the cut-off", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.startFailure = adminError("not-found", 404, "There is no event to be purged");
    await runCommand(purge, `${SPAM} 2024-05-01`);
    const submitted = await fakes.launcher.requests[0]?.submit();
    expect(submitted?.ok).toBe(false);
    expect(submitted?.ok === false && submitted.error.userMessage).toBe(
      "nothing to purge: no event of this room lies before 2024-05-01 00:00:00 UTC",
    );
    expect(submitted?.ok === false && submitted.error.kind).toBe("not-found");
  });

  it("passes other start failures through unchanged", async () => {
    const { fakes, purge } = purgeSetup();
    const failure = adminError("forbidden", 403);
    fakes.admin.startFailure = failure;
    await runCommand(purge, `${SPAM} 2024-05-01`);
    expect(await fakes.launcher.requests[0]?.submit()).toEqual({ ok: false, error: failure });
  });

  it("resolves an alias through the directory and labels the room with both", async () => {
    const { fakes, purge } = purgeSetup();
    await runCommand(purge, "#spam:example.org 30d");
    expect(fakes.directory.lookups).toEqual(["#spam:example.org"]);
    expect(fakes.admin.calls[0]).toEqual({ method: "roomDetails", roomId: SPAM });
    expect(fakes.launcher.requests[0]?.roomId).toBe(SPAM);
    expect(fakes.launcher.requests[0]?.roomLabel).toBe(`#spam:example.org (${SPAM})`);
  });

  it("resolves a permalink to an alias through the directory", async () => {
    const { fakes, purge } = purgeSetup();
    await runCommand(purge, "https://matrix.to/#/%23spam%3Aexample.org 30d");
    expect(fakes.directory.lookups).toEqual(["#spam:example.org"]);
    expect(fakes.launcher.requests[0]?.roomId).toBe(SPAM);
  });

  it("joins a purge of the same room already in flight", async () => {
    const { fakes, purge } = purgeSetup();
    const existing = sampleTask({ id: "p-aaaaaa", roomId: SPAM });
    fakes.launcher.joinExisting = existing;
    expect(await runCommand(purge, `${SPAM} 30d`)).toEqual({ kind: "task-joined", task: existing });
  });

  it("records an empty room name for a room without one", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.addRoom("!noname:example.org", null);
    fakes.admin.addEvent("$early", "!noname:example.org", FIRST_SENT);
    fakes.admin.addEvent("$late", "!noname:example.org", LATEST_SENT);
    await runCommand(purge, "!noname:example.org 30d");
    expect(fakes.launcher.requests[0]?.parameters["roomName"]).toBe("");
  });
});

describe("!purge: refusals", () => {
  it("refuses a room this homeserver does not know", async () => {
    const { fakes, purge } = purgeSetup();
    const outcome = await runCommand(purge, "!unknown:example.org 30d");
    expect(outcome).toEqual({
      kind: "refused",
      reason: "!unknown:example.org is not a room this homeserver knows, so it has no history to purge.",
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses when the room cannot be looked up, saying why", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.roomDetailsFailure = adminError("forbidden", 403, "You are not a server admin");
    const outcome = await runCommand(purge, `${SPAM} 30d`);
    expect(outcome).toEqual({
      kind: "refused",
      reason: `could not look up ${SPAM}: the homeserver refused: Warden's account is not allowed to do this: You are not a server admin`,
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses an event of another room, naming both rooms", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.addEvent("$elsewhere", "!other:example.org", FIXED_NOW - DAY);
    const outcome = await runCommand(purge, `${SPAM} $elsewhere`);
    expect(outcome).toEqual({
      kind: "refused",
      reason: `the event $elsewhere belongs to !other:example.org, not to ${SPAM}.`,
      hint: "Give an event of the room being purged.",
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses a permalink whose event belongs to another room than the one named", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.addEvent("$elsewhere", "!other:example.org", FIXED_NOW - DAY);
    const outcome = await runCommand(purge, "#spam:example.org https://matrix.to/#/!other:example.org/$elsewhere");
    expect(outcome.kind).toBe("refused");
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses an event the homeserver does not know", async () => {
    const { fakes, purge } = purgeSetup();
    const outcome = await runCommand(purge, `${SPAM} $gone`);
    expect(outcome).toEqual({ kind: "refused", reason: "the event $gone is not known to this homeserver (or was already purged)." });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses when the event cannot be looked up", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.fetchEventFailure = adminError("timeout");
    const outcome = await runCommand(purge, `${SPAM} $slow`);
    expect(outcome).toEqual({ kind: "refused", reason: "could not look up the event $slow: the homeserver did not answer in time" });
  });

  it("refuses Warden's management room, by ID and by an alias of it", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.directory.add("#mgmt:example.org", MANAGEMENT_ROOM);
    fakes.admin.addRoom(MANAGEMENT_ROOM);
    const byId = await runCommand(purge, `${MANAGEMENT_ROOM} 30d`);
    const byAlias = await runCommand(purge, "#mgmt:example.org 30d");
    expect(byId).toEqual({
      kind: "refused",
      reason: `${MANAGEMENT_ROOM} is Warden's own management room; Warden never purges or shuts it down.`,
    });
    expect(byAlias.kind === "refused" && byAlias.reason).toContain("management room");
    expect(fakes.launcher.requests).toEqual([]);
    expect(fakes.admin.calls).toEqual([]);
  });

  it("refuses a protected room", async () => {
    const { fakes, purge } = purgeSetup();
    fakes.admin.addRoom(PROTECTED_ROOM);
    const outcome = await runCommand(purge, `${PROTECTED_ROOM} 30d`);
    expect(outcome).toEqual({
      kind: "refused",
      reason: `${PROTECTED_ROOM} is listed in protectedRooms in Warden's config; Warden will not purge or shut it down.`,
    });
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("refuses an alias that does not resolve", async () => {
    const { fakes, purge } = purgeSetup();
    const outcome = await runCommand(purge, "#nowhere:example.org 30d");
    expect(outcome).toEqual({
      kind: "refused",
      reason: "the alias #nowhere:example.org could not be resolved: the room directory has no such alias",
    });
    expect(fakes.admin.calls).toEqual([]);
  });
});

describe("!purge: arguments", () => {
  it("names <room> when the room is not a room", () => {
    const { purge } = purgeSetup();
    expect(parseProblem(purge, "spam 30d")?.argument).toBe("<room>");
  });

  it("names <point> for a future time, using the clock of its dependencies", () => {
    const { fakes, purge } = purgeSetup();
    expect(parseProblem(purge, `${SPAM} 2025-01-16`)?.argument).toBe("<point>");
    fakes.clock.set(Date.UTC(2025, 0, 17));
    expect(parseProblem(purge, `${SPAM} 2025-01-16`)).toBeUndefined();
  });

  it("names <point> for a room-only link", () => {
    const { purge } = purgeSetup();
    const problem = parseProblem(purge, `${SPAM} https://matrix.to/#/${SPAM}`);
    expect(problem?.argument).toBe("<point>");
    expect(problem?.expected).toContain("not to a room");
  });
});
