import { afterEach, describe, expect, it } from "vitest";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { DRY_RUN_ROOMS } from "../../../../src/commands/retention/retention.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { SelectedRoom } from "../../../../src/model/waves.js";
import { err, ok } from "../../../../src/util/result.js";
import { commandFakes, MANAGEMENT_ROOM } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";
import { policy } from "../../../fakes/retention.js";
import { CONTEXT, parseProblem, runCommand } from "../../../fakes/runCommand.js";

const D = 86_400_000;
const flows: ConfirmationFlow[] = [];

afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

function setup() {
  const fakes = commandFakes([policy(), policy({ name: "bridges", local: true, selection: { kind: "matching", words: "bridge" } })]);
  const command = fakes.table.find((candidate) => candidate.name === "retention") as Command;
  return { ...fakes, waves: fakes.retentionWaves, selector: fakes.retentionSelector, command };
}

function rooms(count: number): SelectedRoom[] {
  return Array.from({ length: count }, (_, index) => ({ roomId: `!r${index}:example.org`, label: `!r${index}:example.org` }));
}

async function previewOf(command: Command, text: string, context = CONTEXT) {
  const words = splitWords(text, command);
  if (!words.ok || command.confirmation === undefined) throw new Error("words");
  const args = command.parse(words.value);
  if (!args.ok) throw new Error("parse");
  return command.confirmation.preview(args.value, context);
}

describe("!retention: parsing", () => {
  it.each([
    ["stop old-history", { argument: "[action]", given: "stop", expected: "run, pause or resume (or nothing, for the list)" }],
    ["run", { argument: "[name]", expected: "the name of the policy to run (retention without words lists them)" }],
    ["pause old-history --dry-run", { argument: "--dry-run", expected: "nothing after pause: --dry-run goes with run <name>" }],
    ["--dry-run", { argument: "--dry-run", expected: "run <name> before it: --dry-run estimates what a run would purge" }],
  ])("answers %j with the bad argument", (text, problem) => {
    expect(parseProblem(setup().command, text)).toEqual(problem);
  });

  it("takes the action in any case and declares --yes and --dry-run through the table", () => {
    const { command } = setup();
    expect(parseProblem(command, "RUN old-history --yes")).toBeUndefined();
    expect(command.flags.map((flag) => flag.name)).toEqual(["yes", "dry-run"]);
  });
});

describe("!retention: list, pause, resume", () => {
  it("lists every policy with its state", async () => {
    const { command, retention } = setup();
    await retention.pause("bridges");

    const outcome = await runCommand(command, "");

    expect(outcome).toEqual({ kind: "retention-list", policies: retention.states(), now: FIXED_NOW });
    expect(outcome.kind === "retention-list" && outcome.policies.map((state) => [state.policy.name, state.paused])).toEqual([
      ["old-history", false],
      ["bridges", true],
    ]);
  });

  it("pauses and resumes, with the next run after resuming", async () => {
    const { command } = setup();

    expect(await runCommand(command, "pause old-history")).toEqual({ kind: "retention-changed", policy: "old-history", paused: true });
    expect(await runCommand(command, "resume old-history")).toEqual({ kind: "retention-changed", policy: "old-history", paused: false, nextRunAt: FIXED_NOW + D });
  });

  it.each(["pause old", "resume old", "run old", "run old --dry-run"])("refuses %j, naming the policies there are", async (text) => {
    expect(await runCommand(setup().command, text)).toEqual({
      kind: "refused",
      reason: "there is no retention policy old; the policies are old-history, bridges",
      hint: "!retention lists them with their next run.",
    });
  });
});

describe("!retention run", () => {
  it("starts a purge wave for the requester, answered by the wave's board", async () => {
    const { command, waves } = setup();

    const outcome = await runCommand(command, "run bridges --yes");

    expect(outcome).toMatchObject({ kind: "wave-started", wave: { id: "w-000001", policy: "bridges" } });
    expect(waves.requests[0]).toMatchObject({
      kind: "purge",
      requester: CONTEXT.requester,
      commandEventId: CONTEXT.commandEventId,
      selection: { listed: [], matching: "bridge" },
      parameters: { cutoffTs: FIXED_NOW - 180 * D, deleteLocalEvents: true, reason: "retention policy bridges" },
    });
  });

  it("refuses, with the reason, a run that would start no wave", async () => {
    const { command, selector } = setup();
    selector.answer = ok({ rooms: [], leftOut: [] });

    expect(await runCommand(command, "run old-history")).toEqual({ kind: "refused", reason: "no run of old-history was started: it selected no room" });
  });

  it("is always previewed: rooms (the first 20), rooms left out and why, the point and the schedule", async () => {
    const { command, selector, retention } = setup();
    await retention.start();
    selector.answer = ok({ rooms: rooms(23), leftOut: [{ label: "#dm:example.org", why: "a direct-message room (exclude.dm)" }] });

    const shown = await previewOf(command, "run old-history");

    expect(shown.ok && shown.value.title).toBe('purge the history of 23 rooms (retention policy "old-history")');
    const lines = shown.ok ? shown.value.lines.map((line) => `${line.label}: ${line.value}`) : [];
    expect(lines).toContain("Rooms: 23, chosen as every room");
    expect(lines).toContain("Removes history before: 2024-07-19 12:00:00 UTC");
    // A policy's preview does not suggest --local: the config decides.
    expect(lines).toContain("Local users' messages: kept");
    const roomLines = lines.filter((line) => line.startsWith("Room: "));
    expect(roomLines).toEqual([...rooms(20).map((room) => `Room: ${room.roomId}: members not known`), "Room: and 3 more"]);
    expect(lines).toContain("Left out: 1 room, listed below with why");
    expect(lines).toContain("Left out: #dm:example.org: a direct-message room (exclude.dm)");
    expect(lines).toContain("Rooms with nothing to purge: skipped, no job sent: nothing was sent before the point, or only the room's newest event, which Synapse always keeps");
    expect(lines).toContain("Schedule: unchanged; next scheduled run 2025-01-16 12:00:00 UTC");
  });

  it("runs the rooms and the cut-off its preview showed, even when the selection and the clock moved before the confirmation", async () => {
    const { command, selector, waves, clock } = setup();
    selector.answer = ok({ rooms: rooms(2), leftOut: [] });
    expect((await previewOf(command, "run old-history")).ok).toBe(true);
    clock.advance(4 * 60_000);
    selector.answer = ok({ rooms: rooms(5), leftOut: [{ label: "!p:example.org", why: "protected" }] });

    const outcome = await runCommand(command, "run old-history");

    expect(outcome).toMatchObject({ kind: "wave-started" });
    expect(waves.requests[0]).toMatchObject({ rooms: rooms(2), leftOut: [], parameters: { cutoffTs: FIXED_NOW - 180 * D, cutoff: "2024-07-19 12:00:00 UTC" } });
    expect(selector.requests).toHaveLength(1);
  });

  it("selects once for a run with --yes, and afresh for another command", async () => {
    const { command, selector, waves, clock } = setup();

    await runCommand(command, "run old-history --yes");
    expect(selector.requests).toHaveLength(1);
    waves.finish("w-000001", ["done", "done"]);
    clock.advance(60_000);
    selector.answer = ok({ rooms: rooms(3), leftOut: [] });
    await runCommand(command, "run old-history --yes", { ...CONTEXT, commandEventId: "$another-command" });

    expect(selector.requests).toHaveLength(2);
    expect(waves.requests[1]).toMatchObject({ rooms: rooms(3), parameters: { cutoffTs: FIXED_NOW + 60_000 - 180 * D } });
  });

  it("refuses the preview when nothing is selected or the selection fails", async () => {
    const { command, selector } = setup();
    selector.answer = ok({ rooms: [], leftOut: [{ label: "!p:example.org", why: "protected" }] });
    expect(await previewOf(command, "run old-history")).toEqual(
      err({ kind: "refused", reason: "old-history selects no room today (1 left out: !p:example.org (protected)), so a run would do nothing." }),
    );
    selector.answer = err("the homeserver did not answer");
    expect(await previewOf(command, "run old-history", { ...CONTEXT, commandEventId: "$another-command" })).toEqual(err({ kind: "refused", reason: "the rooms of old-history could not be selected: the homeserver did not answer" }));
  });

  it("asks before a run whatever confirmBefore says, runs at once with --yes, and answers --dry-run itself", async () => {
    const { command } = setup();
    const gate = async (text: string) => {
      const chat = new RecordingChat();
      const flow = new ConfirmationFlow(new ConfirmationBook(commandFakes().clock, 300_000), new Set(), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
      flows.push(flow);
      const words = splitWords(text, command);
      const args = words.ok ? command.parse(words.value) : words;
      if (!words.ok || !args.ok) throw new Error("parse");
      return flow.gate(command, args.value, words.value, CONTEXT);
    };

    expect(await gate("run old-history")).toBe("shown");
    expect(await gate("run old-history --yes")).toBeUndefined();
    expect(await gate("run old-history --dry-run")).toBeUndefined();
    expect(await gate("pause old-history")).toBeUndefined();
    expect(await gate("")).toBeUndefined();
  });
});

describe("!retention run --dry-run", () => {
  it("estimates per room what would go, and marks rooms with nothing before the point", async () => {
    const { command, selector, admin, waves } = setup();
    selector.answer = ok({ rooms: rooms(2), leftOut: [{ label: "!p:example.org", why: "protected" }] });
    admin.messages.set("!r0:example.org", [
      { event_id: "$create", type: "m.room.create", sender: "@a:x", origin_server_ts: FIXED_NOW - 400 * D, state_key: "" },
      { event_id: "$a", type: "m.room.message", sender: "@a:x", origin_server_ts: FIXED_NOW - 300 * D },
      { event_id: "$b", type: "m.room.message", sender: "@a:x", origin_server_ts: FIXED_NOW - 200 * D },
      { event_id: "$c", type: "m.room.message", sender: "@a:x", origin_server_ts: FIXED_NOW - D },
    ]);

    const outcome = await runCommand(command, "run old-history --dry-run");

    expect(outcome).toEqual({
      kind: "retention-dry-run",
      policy: policy(),
      history: {
        cutoffTs: FIXED_NOW - 180 * D,
        estimates: [
          { roomId: "!r0:example.org", label: "!r0:example.org", events: 2, capped: false },
          { roomId: "!r1:example.org", label: "!r1:example.org", events: 0, capped: false, skip: "nothing was sent before the cut-off" },
        ],
        leftOut: [{ label: "!p:example.org", why: "protected" }],
      },
    });
    expect(waves.requests).toEqual([]);
  });

  it(`estimates the first ${DRY_RUN_ROOMS} rooms and counts the rest`, async () => {
    const { command, selector } = setup();
    selector.answer = ok({ rooms: rooms(DRY_RUN_ROOMS + 7), leftOut: [] });

    const outcome = await runCommand(command, "run old-history --dry-run");

    expect(outcome.kind === "retention-dry-run" && [outcome.history?.estimates.length, outcome.history?.notEstimated]).toEqual([DRY_RUN_ROOMS, 7]);
  });
});

describe("!retention with media", () => {
  const MEDIA = { local: { ms: 365 * D, text: "365d" }, remote: { ms: 30 * D, text: "30d" }, keepProfiles: true, sizeOver: 1024 };
  const MEDIA_PLAN = { local: FIXED_NOW - 365 * D, remote: FIXED_NOW - 30 * D, keepProfiles: true, sizeOver: 1024 };

  function mediaSetup() {
    const fakes = commandFakes([policy({ name: "media", history: undefined, media: MEDIA }), policy({ name: "both", media: MEDIA })]);
    const command = fakes.table.find((candidate) => candidate.name === "retention") as Command;
    return { ...fakes, command };
  }

  it("runs a media-only policy and answers with what its media step removed, starting no wave", async () => {
    const { command, retentionMedia, retentionWaves, retentionSelector } = mediaSetup();

    const outcome = await runCommand(command, "run media --yes");

    expect(outcome).toEqual({
      kind: "retention-media-run",
      policy: "media",
      media: {
        at: FIXED_NOW,
        local: { beforeTs: FIXED_NOW - 365 * D, files: ok(2) },
        remote: { beforeTs: FIXED_NOW - 30 * D, files: ok(5) },
        keepProfiles: true,
        sizeOver: 1024,
      },
    });
    expect(retentionMedia.localCalls).toEqual([{ beforeTs: FIXED_NOW - 365 * D, sizeGt: 1024, keepProfiles: true }]);
    expect(retentionWaves.requests).toEqual([]);
    expect(retentionSelector.requests).toEqual([]);
  });

  it("previews a media-only run by its rule: what goes, server-wide, and that Synapse counts only as it deletes", async () => {
    const { command } = mediaSetup();

    const shown = await previewOf(command, "run media");

    expect(shown.ok && shown.value.title).toBe('delete old media (retention policy "media")');
    expect(shown.ok ? shown.value.lines.map((line) => `${line.label}: ${line.value}`) : []).toEqual([
      "Local media: files uploaded to this server, last used before 2024-01-16 12:00:00 UTC, larger than 1024 bytes; profile pictures and room avatars kept; protected and quarantined files kept",
      "Remote media: this server's cached copies of other servers' files, last used before 2024-12-16 12:00:00 UTC (their servers keep the originals)",
      "Media: deleted server-wide, whatever rooms the policy selects; used means downloaded, or uploaded if never downloaded. Synapse gives no count in advance: the run's report says how many files went",
      "Schedule: unchanged",
    ]);
  });

  it("previews a policy with rooms and media as a wave with the media lines, and still runs its media when no room is selected", async () => {
    const { command, retentionSelector, retentionMedia } = mediaSetup();
    const both = await previewOf(command, "run both");
    expect(both.ok && both.value.title).toBe('purge the history of 2 rooms (retention policy "both")');
    expect(both.ok && both.value.lines.map((line) => line.label)).toEqual(expect.arrayContaining(["Local media", "Remote media", "Media", "Keeps"]));

    retentionSelector.answer = ok({ rooms: [], leftOut: [{ label: "!p:example.org", why: "protected" }] });
    const context = { ...CONTEXT, commandEventId: "$none-selected" };
    const none = await previewOf(command, "run both", context);
    expect(none.ok && none.value.lines[0]).toEqual({ label: "Rooms", value: "none selected today (1 left out: !p:example.org (protected)): no purge wave" });
    const outcome = await runCommand(command, "run both", context);

    expect(outcome).toMatchObject({ kind: "retention-media-run", policy: "both", noWave: "it selected no room (1 left out)" });
    expect(retentionMedia.localCalls).toHaveLength(1);
  });

  it("dry-runs media by its rule with the times it would use, asking Synapse nothing", async () => {
    const { command, retentionMedia } = mediaSetup();

    expect(await runCommand(command, "run media --dry-run")).toEqual({ kind: "retention-dry-run", policy: policy({ name: "media", history: undefined, media: MEDIA }), media: MEDIA_PLAN });
    const both = await runCommand(command, "run both --dry-run");
    expect(both).toMatchObject({ kind: "retention-dry-run", history: { cutoffTs: FIXED_NOW - 180 * D }, media: MEDIA_PLAN });
    expect(retentionMedia.localCalls).toEqual([]);
    expect(retentionMedia.remoteCalls).toEqual([]);
  });
});
