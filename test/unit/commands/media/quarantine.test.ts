import { describe, expect, it } from "vitest";
import { quarantineCommand } from "../../../../src/commands/media/quarantine.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { mediaActionAudit, QUARANTINE_WRITER_HINT, SAME_CONTENT_NOTE, UNDO_SAME_CONTENT_NOTE, type MediaActionOutcome } from "../../../../src/model/mediaActions.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { MEDIA_NOT_SERVED } from "../../../../src/synapse/adminClient.js";
import { commandFakes, MANAGEMENT_ROOM, PROTECTED_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { WARDEN_USER } from "../../../fakes/fakeRoomAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const ROOM = "!abuse:example.org" as RoomId;
const OTHER_ROOM = "!other:example.org" as RoomId;
const SPAMMER = "@spammer:example.org";

function setup(): { fakes: CommandFakes; quarantine: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(ROOM, "Abuse");
  fakes.admin.addRoom(OTHER_ROOM, "Elsewhere");
  fakes.directory.add("#abuse:example.org", ROOM);
  return { fakes, quarantine: quarantineCommand(fakes.dependencies) };
}

function media(outcome: CommandOutcome): MediaActionOutcome {
  if (outcome.kind !== "media-action") throw new Error(`expected a media action, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function replyOf(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", 0)?.plain ?? "";
}

/** What was sent to change anything: lookups are not changes. */
function changes(fakes: CommandFakes): string[] {
  return fakes.admin.mediaCalls.filter((call) => call.method.startsWith("quarantine") || call.method === "unquarantineMedia").map((call) => call.method);
}

describe("!quarantine <room>", () => {
  it("quarantines every file the room's messages name, with its duplicates by content, and says Synapse's count and what it means", async () => {
    const { fakes, quarantine } = setup();
    const image = fakes.admin.upload(SPAMMER, { content: "porn" });
    const sameElsewhere = fakes.admin.upload("@other:example.org", { content: "porn" });
    const remote = fakes.admin.cache("remote.example", { content: "gore" });
    const served = fakes.admin.upload("@other:example.org", { content: "cat" });
    fakes.admin.post(ROOM, image, image, remote, "mxc://remote.example/neverCached");
    fakes.admin.post(OTHER_ROOM, served);

    const outcome = media(await runCommand(quarantine, "#abuse:example.org"));

    expect(outcome.entries).toEqual([{ kind: "room", label: `#abuse:example.org (${ROOM})`, result: { status: "done", count: 3 } }]);
    expect(changes(fakes)).toEqual(["quarantineRoomMedia"]);
    expect([image, sameElsewhere, remote].map((uri) => fakes.admin.file(uri)?.quarantinedBy)).toEqual([WARDEN_USER, WARDEN_USER, WARDEN_USER]);
    expect(fakes.admin.file(served)?.quarantinedBy).toBeUndefined();
    const reply = replyOf(outcome);
    expect(reply).toContain("Quarantine of 1 target: 1 done.");
    expect(reply).toContain(`- #abuse:example.org (${ROOM}): 3 files quarantined`);
    expect(reply).toContain("counts a file already quarantined again");
    expect(reply).toContain(SAME_CONTENT_NOTE);
    expect(reply).toContain("a room or user quarantine leaves them out");
    expect(reply).toContain("Undo one file at a time with !quarantine --undo <mxc>; Synapse has no undo for a whole room or user.");
  });

  it("refuses Warden's management room and protectedRooms as a whole, naming the file form, and changes nothing", async () => {
    const { fakes, quarantine } = setup();
    fakes.admin.addRoom(MANAGEMENT_ROOM, "Warden");
    for (const room of [MANAGEMENT_ROOM, PROTECTED_ROOM]) {
      const outcome = await runCommand(quarantine, `mxc://example.org/x ${room}`);
      expect(outcome).toMatchObject({ kind: "refused", reason: expect.stringContaining(`${room} is `) as unknown, hint: "Name its files by their mxc URIs instead." });
    }
    expect(changes(fakes)).toEqual([]);
  });

  it("says a room the homeserver does not know was left as it was, and still acts on the other targets", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);

    const outcome = media(await runCommand(quarantine, `!nowhere:example.org ${file}`));

    expect(outcome.entries.map((entry) => entry.result)).toEqual([{ status: "unchanged", unchanged: { why: "unknown-room" } }, { status: "done" }]);
    expect(replyOf(outcome)).toContain("- !nowhere:example.org: not a room this homeserver knows; nothing changed");
    expect(changes(fakes)).toEqual(["quarantineMedia"]);
  });
});

describe("!quarantine <user>", () => {
  it("quarantines a local user's uploads but their protected ones", async () => {
    const { fakes, quarantine } = setup();
    const uploads = [fakes.admin.upload(SPAMMER, { content: "a" }), fakes.admin.upload(SPAMMER, { content: "b" }), fakes.admin.upload(SPAMMER, { content: "logo" })];
    fakes.admin.change(uploads[2] ?? "", { protected: true });

    const outcome = media(await runCommand(quarantine, SPAMMER));

    expect(outcome.entries).toEqual([{ kind: "user", label: SPAMMER, result: { status: "done", count: 2 } }]);
    expect(uploads.map((uri) => fakes.admin.file(uri)?.quarantinedBy)).toEqual([WARDEN_USER, WARDEN_USER, undefined]);
    expect(replyOf(outcome)).toContain(`- ${SPAMMER}: 2 files quarantined`);
  });

  it("says a user the homeserver does not know was left as it was", async () => {
    const { fakes, quarantine } = setup();
    const outcome = media(await runCommand(quarantine, "@ghost:example.org"));
    expect(replyOf(outcome)).toContain("- @ghost:example.org: not a user of this homeserver; nothing changed");
    expect(changes(fakes)).toEqual([]);
  });

  it("refuses another server's user before asking anything, naming the word and the forms that work", () => {
    const { fakes, quarantine } = setup();
    expect(parseProblem(quarantine, "#abuse:example.org @spammer:remote.example")).toEqual({
      argument: "<target>",
      given: "@spammer:remote.example",
      expected:
        "a user of this server (@abuse:example.org): Synapse keeps uploads by user only for its own users; name another server's files by their mxc URI, or the rooms they were sent to",
    });
    expect(fakes.admin.mediaCalls).toEqual([]);
  });
});

describe("!quarantine <mxc>", () => {
  it("looks the file up, then quarantines it and every file with the same content", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER, { content: "same" });
    const twin = fakes.admin.cache("remote.example", { content: "same" });

    const outcome = media(await runCommand(quarantine, file));

    expect(fakes.admin.mediaCalls.map((call) => call.method)).toEqual(["mediaInfo", "quarantineMedia"]);
    expect(outcome.entries).toEqual([{ kind: "file", label: file, result: { status: "done" } }]);
    expect(fakes.admin.file(twin)?.quarantinedBy).toBe(WARDEN_USER);
    expect(replyOf(outcome)).toContain(`- ${file}: quarantined`);
    // Counting notes are for rooms and users; a file alone says only what reached beyond it.
    expect(replyOf(outcome)).not.toContain("counts a file already quarantined again");
    expect(replyOf(outcome)).toContain(SAME_CONTENT_NOTE);
  });

  it("answers a remote file this server never cached, and one it does not hold, without sending a quarantine", async () => {
    const { fakes, quarantine } = setup();
    const outcome = media(await runCommand(quarantine, "mxc://remote.example/neverCached mxc://example.org/noSuchFile"));
    expect(changes(fakes)).toEqual([]);
    const reply = replyOf(outcome);
    expect(reply).toContain("Quarantine of 2 targets: 0 done, 2 left as they were.");
    expect(reply).toContain("- mxc://remote.example/neverCached: this server holds no such file (it has no cached copy of that server's file); nothing changed");
    expect(reply).toContain("- mxc://example.org/noSuchFile: this server holds no such file; nothing changed");
  });

  it("answers a file already quarantined with who did it, and a protected file with why it stays served", async () => {
    const { fakes, quarantine } = setup();
    const done = fakes.admin.upload(SPAMMER, { content: "x" });
    fakes.admin.change(done, { quarantinedBy: "@othermod:example.org" });
    const safe = fakes.admin.upload(SPAMMER, { content: "y" });
    fakes.admin.change(safe, { protected: true });

    const reply = replyOf(await runCommand(quarantine, `${done} ${safe}`));

    expect(changes(fakes)).toEqual([]);
    expect(reply).toContain(`- ${done}: already quarantined (by @othermod:example.org); nothing changed`);
    expect(reply).toContain(`- ${safe}: protected from quarantine, and Synapse leaves a protected file served even when it is named alone; nothing changed (!unprotect it first)`);
  });

  it("names the same target once however often it is typed", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    const outcome = media(await runCommand(quarantine, `${file} ${file} ${ROOM} ${ROOM}`));
    expect(outcome.entries.map((entry) => entry.label)).toEqual([file, ROOM]);
  });
});

describe("!quarantine of several targets", () => {
  it("looks every target up before changing any: a lookup that fails changes nothing and names the target", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.mediaFailures.set("userMedia", adminError("server-error", 502, "Bad gateway"));

    const outcome = await runCommand(quarantine, `${ROOM} ${file} ${SPAMMER}`);

    expect(outcome).toEqual({ kind: "refused", reason: `could not look up the uploads of ${SPAMMER}, so nothing was changed: the homeserver failed with HTTP 502: Bad gateway` });
    expect(changes(fakes)).toEqual([]);
  });

  it("goes on after a failure and says what failed and why, with the stream-writer hint for a 500", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.mediaFailures.set("quarantineRoomMedia", adminError("server-error", 500, "Internal server error"));

    const outcome = media(await runCommand(quarantine, `${ROOM} ${file}`));

    expect(outcome.entries.map((entry) => entry.result.status)).toEqual(["failed", "done"]);
    const reply = replyOf(outcome);
    expect(reply).toContain("Quarantine of 2 targets: 1 done, 1 failed.");
    expect(reply).toContain(`Failed, not changed (1): ${ROOM}: the homeserver failed with HTTP 500: Internal server error`);
    expect(reply).toContain(QUARANTINE_WRITER_HINT);
  });

  it("stops when the process that answered does not serve the media admin API, and says which targets were not tried and where to route", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.mediaFailures.set("quarantineRoomMedia", { kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED", userMessage: MEDIA_NOT_SERVED });

    const outcome = media(await runCommand(quarantine, `${ROOM} ${file} ${SPAMMER}`));

    expect(outcome.entries.map((entry) => entry.result.status)).toEqual(["failed", "not-tried", "not-tried"]);
    expect(changes(fakes)).toEqual(["quarantineRoomMedia"]);
    const reply = replyOf(outcome);
    expect(reply).toContain(`Failed, not changed (1): ${ROOM}: ${MEDIA_NOT_SERVED}`);
    expect(reply).toContain(`Not tried, not changed (2): ${file}, ${SPAMMER}: the homeserver process that answered does not serve Synapse's media admin API.`);
  });

  it("refuses the whole command when the lookups cannot reach the media admin API, naming the routes", async () => {
    const { fakes, quarantine } = setup();
    fakes.admin.notServed = true;
    const outcome = await runCommand(quarantine, "mxc://example.org/abc");
    expect(outcome).toEqual({ kind: "refused", reason: `could not look up mxc://example.org/abc, so nothing was changed: ${MEDIA_NOT_SERVED}` });
  });

  it("writes the targets and what became of them to the audit log", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.post(ROOM, file);
    const outcome = media(await runCommand(quarantine, `${ROOM} mxc://example.org/gone`));
    expect(mediaActionAudit(outcome)).toEqual({ target: `${ROOM}, mxc://example.org/gone`, detail: "quarantine: 1 done (1 file by Synapse's count), 1 unchanged" });
  });
});

describe("!quarantine's words", () => {
  it("names the bad word and the forms it takes", () => {
    const { quarantine } = setup();
    expect(parseProblem(quarantine, "")).toMatchObject({ argument: "<target>", expected: expect.stringContaining("a user ID (@abuse:example.org), or a content URI mxc://") as unknown });
    expect(parseProblem(quarantine, `${ROOM} mxc://example.org/a.png`)).toEqual({
      argument: "<target>",
      given: "mxc://example.org/a.png",
      expected: "a content URI mxc://<server>/<media id> (letters, digits, - and _ only)",
    });
    const many = Array.from({ length: 101 }, (_, index) => `mxc://example.org/f${index}`).join(" ");
    expect(parseProblem(quarantine, many)).toEqual({
      argument: "<target>...",
      given: "101 targets",
      expected: "at most 100 in one command; send the rest in another, or name the room or the user they belong to",
    });
  });

  it("refuses a room or a user with --undo, naming the form it takes", () => {
    const { quarantine } = setup();
    for (const word of [ROOM, SPAMMER, "#abuse:example.org", "spam"]) {
      expect(parseProblem(quarantine, `--undo mxc://example.org/a ${word}`)).toEqual({
        argument: "<target>",
        given: word,
        expected:
          "with --undo, a content URI mxc://<server>/<media id> (letters, digits, - and _ only): Synapse has no undo for a room's or a user's quarantine, only for one file at a time",
      });
    }
  });
});

describe("!quarantine --undo", () => {
  it("serves a quarantined file again, and its duplicates by content with it, with no preview", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER, { content: "same" });
    const twin = fakes.admin.upload("@other:example.org", { content: "same" });
    for (const uri of [file, twin]) fakes.admin.change(uri, { quarantinedBy: WARDEN_USER });

    const outcome = media(await runCommand(quarantine, `--undo ${file}`));

    expect(quarantine.confirmation?.kind({ targets: [], undo: true })).toBeUndefined();
    expect(fakes.admin.mediaCalls.map((call) => call.method)).toEqual(["mediaInfo", "unquarantineMedia"]);
    expect([file, twin].map((uri) => fakes.admin.file(uri)?.quarantinedBy)).toEqual([undefined, undefined]);
    expect(replyOf(outcome)).toContain(`Quarantine undone of 1 target: 1 done.\n- ${file}: served again\n${UNDO_SAME_CONTENT_NOTE}`);
  });

  it("answers a file that is not quarantined, and one this server does not hold, and changes nothing", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    const reply = replyOf(await runCommand(quarantine, `--undo ${file} mxc://example.org/unknown`));
    expect(changes(fakes)).toEqual([]);
    expect(reply).toContain(`- ${file}: not quarantined; nothing changed`);
    expect(reply).toContain("- mxc://example.org/unknown: this server holds no such file; nothing changed");
  });
});
