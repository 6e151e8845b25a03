import { afterEach, describe, expect, it } from "vitest";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import type { Command, CommandContext } from "../../../../src/commands/spec.js";
import { usageLine, type ConfirmationKind, type Words } from "../../../../src/model/commandSpec.js";
import { MEDIA_DELETE_LIMIT } from "../../../../src/model/media.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { MEDIA_NOT_SERVED } from "../../../../src/synapse/adminClient.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { NOT_SERVED } from "../../../fakes/media/fakeMediaAdmin.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";
import { CONTEXT, parseProblem, REQUESTER } from "../../../fakes/runCommand.js";

const ABUSER = "@abuser:example.org";
const flows: ConfirmationFlow[] = [];

afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

/**
 * !media from the command table behind a real confirmation flow, as the dispatcher runs it:
 * split, parse, gate (the preview), then !confirm by the requester.
 */
class Moderator {
  readonly fakes: CommandFakes = commandFakes();
  readonly chat = new RecordingChat();
  readonly flow: ConfirmationFlow;
  readonly media: Command;
  private commands = 0;

  constructor(confirmBefore: readonly ConfirmationKind[] = []) {
    this.flow = new ConfirmationFlow(new ConfirmationBook(this.fakes.clock, 300_000), new Set(confirmBefore), this.chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
    flows.push(this.flow);
    const media = this.fakes.table.find((command) => command.name === "media");
    if (media === undefined) throw new Error("the table has no !media");
    this.media = media;
  }

  /** Sends `!media <text>`; "shown" when a preview waits (or was shown as a dry run), else the outcome. */
  async send(text: string, words?: Words): Promise<"shown" | CommandOutcome> {
    const split = words === undefined ? splitWords(text, this.media) : { ok: true as const, value: words };
    if (!split.ok) throw new Error(`test text does not split: ${JSON.stringify(split.error)}`);
    const parsed = this.media.parse(split.value);
    if (!parsed.ok) throw new Error(`test text does not parse: ${JSON.stringify(parsed.error)}`);
    this.commands++;
    const context: CommandContext = { ...CONTEXT, commandEventId: `$media-${this.commands}` };
    return (await this.flow.gate(this.media, parsed.value, split.value, context)) ?? this.media.execute(parsed.value, context);
  }

  lastPreview(): string {
    return this.chat.plainBodies().at(-1) ?? "";
  }

  /** Confirms the last preview as its requester would. */
  confirm(): Promise<CommandOutcome> {
    const id = /c-[0-9a-f]{6}/.exec(this.lastPreview())?.[0];
    if (id === undefined) throw new Error(`no confirmation id in: ${this.lastPreview()}`);
    return this.flow.confirm(id, REQUESTER);
  }
}

function reply(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", FIXED_NOW)?.plain ?? "";
}

describe("!media delete: always previewed", () => {
  it("shows the count and size first even when confirmBefore names nothing, deletes nothing until confirmed, then deletes the files by id", async () => {
    const moderator = new Moderator([]);
    const media = moderator.fakes.admin;
    const uris = [media.upload(ABUSER, { bytes: 1024 }), media.upload(ABUSER, { bytes: 2048 })];

    expect(await moderator.send(`delete ${ABUSER}`)).toBe("shown");

    const preview = moderator.lastPreview();
    expect(preview).toContain("Preview: delete 2 files (3.0 KiB) of this homeserver");
    expect(preview).toContain("Deletes: 2 files, 3.0 KiB, from this homeserver's disk, for good");
    expect(preview).toContain(`Uploads of: ${ABUSER} (2 files)`);
    expect(preview).toContain(`Files: ${uris[1] ?? ""} (2.0 KiB), ${uris[0] ?? ""} (1.0 KiB)`);
    expect(preview).toContain("Nothing is done yet.");
    expect(media.mediaCallsOf("deleteMedia")).toEqual([]);

    const done = await moderator.confirm();

    expect(done).toMatchObject({ kind: "media-deleted", bytes: 3072, protectedFiles: [], gone: [], failed: [] });
    expect(media.mediaCallsOf("deleteMedia").map((call) => call.uri).sort()).toEqual([...uris].sort());
    expect(uris.map((uri) => media.file(uri))).toEqual([undefined, undefined]);
    expect(reply(done)).toContain("Deleted 2 files (3.0 KiB).");
  });

  it("offers no --yes: the usage leaves it out, and it is refused as an option", () => {
    const moderator = new Moderator();
    expect(usageLine(moderator.media, "!")).toBe("!media [delete] <target>... [--page N] [--dry-run]");
    expect(parseProblem(moderator.media, `delete ${ABUSER} --yes`)).toEqual({ argument: "--yes", expected: "one of the options --page, --dry-run" });
  });

  it("is previewed even if --yes reached the confirmation gate", async () => {
    const moderator = new Moderator(["shutdown", "purge", "purge-local", "redact", "extremities"]);
    moderator.fakes.admin.upload(ABUSER);
    const words: Words = { positionals: ["delete", ABUSER], flags: new Map([["yes", true]]) };

    expect(await moderator.send("", words)).toBe("shown");
    expect(moderator.fakes.admin.mediaCallsOf("deleteMedia")).toEqual([]);
  });

  it("--dry-run shows the preview and deletes nothing", async () => {
    const moderator = new Moderator();
    const uri = moderator.fakes.admin.upload(ABUSER);
    expect(await moderator.send(`delete ${uri} --dry-run`)).toBe("shown");
    expect(moderator.lastPreview()).toContain("Dry run: nothing was done.");
    expect(moderator.fakes.admin.file(uri)).toBeDefined();
  });
});

describe("!media delete: exactly what the preview showed", () => {
  it("keeps a file uploaded after the preview", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    const before = media.upload(ABUSER);
    await moderator.send(`delete ${ABUSER}`);
    const after = media.upload(ABUSER);

    const done = await moderator.confirm();

    expect(done).toMatchObject({ kind: "media-deleted", deleted: [{ uri: before }] });
    expect(media.file(after)).toBeDefined();
    expect(media.mediaCallsOf("deleteMedia")).toEqual([{ method: "deleteMedia", uri: before }]);
  });

  it("never deletes protected media: those protected at the preview are listed as kept, one protected since is checked again and kept", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    const logo = media.upload(ABUSER, { protected: true });
    const later = media.upload(ABUSER);
    const spam = media.upload(ABUSER);
    await moderator.send(`delete ${ABUSER}`);
    expect(moderator.lastPreview()).toContain(`Kept, protected: 1 file: ${logo}`);
    expect(moderator.lastPreview()).toContain("Preview: delete 2 files");
    const protectedLater = media.file(later);
    if (protectedLater !== undefined) protectedLater.protected = true;

    const done = await moderator.confirm();

    expect(done).toMatchObject({
      kind: "media-deleted",
      deleted: [{ uri: spam }],
      protectedFiles: [
        { uri: logo, why: "protected at the preview" },
        { uri: later, why: "protected since the preview" },
      ],
    });
    expect(media.mediaCallsOf("deleteMedia")).toEqual([{ method: "deleteMedia", uri: spam }]);
    expect(media.file(logo)).toBeDefined();
    expect(media.file(later)).toBeDefined();
    expect(reply(done)).toContain(`Kept, protected since the preview (1): ${later}`);
  });

  it("takes several targets at once: a user, a file of theirs named again, another file, a file the server does not hold", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    const theirs = media.upload(ABUSER, { bytes: 100 });
    const other = media.upload("@other:example.org", { bytes: 50 });
    await moderator.send(`delete ${ABUSER} ${theirs} ${other} mxc://example.org/missing ${ABUSER}`);
    expect(moderator.lastPreview()).toContain("Preview: delete 2 files (150 B) of this homeserver");
    expect(moderator.lastPreview()).toContain("Not on this server: mxc://example.org/missing");

    const done = await moderator.confirm();

    expect(done).toMatchObject({ kind: "media-deleted", bytes: 150, gone: [{ uri: "mxc://example.org/missing", why: "this server holds no such file" }] });
    expect(media.mediaCallsOf("deleteMedia").map((call) => call.uri)).toEqual([theirs, other]);
    expect(media.mediaCallsOf("userMedia")).toHaveLength(1);
  });

  it(`looks at the newest ${MEDIA_DELETE_LIMIT} files per command and says the older ones stay`, async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    const uris = Array.from({ length: MEDIA_DELETE_LIMIT + 5 }, () => media.upload(ABUSER, { bytes: 1 }));
    await moderator.send(`delete ${ABUSER}`);
    expect(moderator.lastPreview()).toContain(`Left for later: 5 older uploads of ${ABUSER}: not in this deletion (at most ${MEDIA_DELETE_LIMIT} files per command)`);

    const done = await moderator.confirm();

    expect(done.kind === "media-deleted" && done.deleted).toHaveLength(MEDIA_DELETE_LIMIT);
    expect(uris.filter((uri) => media.file(uri) !== undefined)).toEqual(uris.slice(0, 5));
    expect(reply(done)).toContain(`Left for later: 5 older uploads of ${ABUSER}`);
  });
});

describe("!media delete: what was not deleted, and why", () => {
  it("reports a file gone since the preview, and a failed deletion with the homeserver's reason", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    const gone = media.upload(ABUSER);
    const failing = media.upload(ABUSER);
    const fine = media.upload(ABUSER, { bytes: 10 });
    await moderator.send(`delete ${ABUSER}`);
    media.files.delete(gone);
    media.fileFailures.set(failing, { method: "deleteMedia", error: adminError("server-error", 500) });

    const done = await moderator.confirm();

    expect(done).toMatchObject({
      kind: "media-deleted",
      deleted: [{ uri: fine, bytes: 10 }],
      gone: [{ uri: gone, why: "gone since the preview" }],
      failed: [{ uri: failing, why: "the homeserver failed with HTTP 500" }],
    });
    const text = reply(done);
    expect(text).toContain("Deleted 1 file (10 B).");
    expect(text).toContain(`Not deleted, gone since the preview (1): ${gone}`);
    expect(text).toContain(`Failed (1): the homeserver failed with HTTP 500: ${failing}`);
    expect(moderator.fakes.logger.withMessage("media deleted")).toEqual([
      expect.objectContaining({ commandEventId: "$media-1", deleted: 1, gone: 1, failed: 1, deletedMedia: [fine] }),
    ]);
    expect(moderator.fakes.logger.withMessage("media files not deleted")).toHaveLength(1);
  });

  it("deletes nothing, and stops asking, when files can no longer be checked (media info not served)", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    for (let index = 0; index < 12; index++) media.upload(ABUSER);
    await moderator.send(`delete ${ABUSER}`);
    media.mediaFailures.set("mediaInfo", NOT_SERVED);

    const done = await moderator.confirm();

    expect(done.kind === "media-deleted" && done.failed).toHaveLength(12);
    expect(done.kind === "media-deleted" && done.deleted).toEqual([]);
    expect(media.mediaCallsOf("deleteMedia")).toEqual([]);
    // The first ones were on their way together; the rest were not tried.
    expect(media.mediaCallsOf("mediaInfo").length).toBeLessThanOrEqual(4);
    const text = reply(done);
    expect(text).toContain("Deleted no file.");
    expect(text).toContain(`could not check that it is still unprotected: ${MEDIA_NOT_SERVED}`);
    expect(text).toMatch(/Failed \(\d+\): not tried: the homeserver process/);
  });

  it("refuses at the preview, rather than call a file not held, when a main process does not serve the media API (404 M_UNRECOGNIZED)", async () => {
    const moderator = new Moderator();
    const uri = moderator.fakes.admin.upload(ABUSER);
    moderator.fakes.admin.notServed = true;
    expect(await moderator.send(`delete ${uri}`)).toEqual({ kind: "refused", reason: `could not look up ${uri}, so nothing was deleted: ${MEDIA_NOT_SERVED}` });
    expect(moderator.fakes.admin.mediaCallsOf("deleteMedia")).toEqual([]);
  });

  it("refuses at the preview when there is nothing to delete, and nothing waits for confirmation", async () => {
    const moderator = new Moderator();
    const media = moderator.fakes.admin;
    media.localUsers.add("@quiet:example.org");
    const logo = media.upload(ABUSER, { protected: true });

    expect(await moderator.send("delete @quiet:example.org")).toEqual({ kind: "refused", reason: "nothing to delete: @quiet:example.org has no uploads." });
    expect(await moderator.send(`delete ${ABUSER} mxc://example.org/missing`)).toEqual({
      kind: "refused",
      reason: `nothing to delete: 1 file is protected, and Warden never deletes protected media (${logo}); this server holds no file mxc://example.org/missing.`,
    });
    expect(moderator.chat.sent).toEqual([]);
  });

  it("refuses at the preview for an unknown user, or a file that cannot be looked up", async () => {
    const moderator = new Moderator();
    expect(await moderator.send("delete @nobody:example.org")).toEqual({ kind: "refused", reason: "@nobody:example.org is not a user this homeserver knows." });
    moderator.fakes.admin.mediaFailures.set("mediaInfo", NOT_SERVED);
    expect(await moderator.send("delete mxc://example.org/abc")).toEqual({
      kind: "refused",
      reason: `could not look up mxc://example.org/abc, so nothing was deleted: ${MEDIA_NOT_SERVED}`,
    });
  });
});

describe("!media delete: bad input", () => {
  it("refuses remote media and remote users with the reason, a room, and no target at all", () => {
    const { media } = new Moderator();
    const remote = "a user or file of this homeserver (example.org): only local media can be deleted; quarantine remote media instead";
    expect(parseProblem(media, "delete mxc://elsewhere.example/abc")).toEqual({ argument: "<target>", given: "mxc://elsewhere.example/abc", expected: remote });
    expect(parseProblem(media, `delete ${ABUSER} @spammer:elsewhere.example`)).toEqual({ argument: "<target>", given: "@spammer:elsewhere.example", expected: remote });
    expect(parseProblem(media, "delete !room:example.org")).toMatchObject({ argument: "<target>", given: "!room:example.org", expected: expect.stringMatching(/^a user ID .*, or a content URI/) as string });
    expect(parseProblem(media, "delete")).toMatchObject({ argument: "<target>", expected: expect.stringContaining("after delete, one or more users of this homeserver") as string });
    expect(parseProblem(media, `delete ${ABUSER} --page 2`)).toMatchObject({ argument: "--page" });
    const tooMany = Array.from({ length: MEDIA_DELETE_LIMIT + 1 }, (_, index) => `mxc://example.org/f${index}`).join(" ");
    expect(parseProblem(media, `delete ${tooMany}`)).toEqual({ argument: "<target>...", given: `${MEDIA_DELETE_LIMIT + 1} targets`, expected: `at most ${MEDIA_DELETE_LIMIT} in one command; send the rest in another` });
  });

  it("help comes from the table and says a deletion is always previewed", () => {
    const { media } = new Moderator();
    expect(media.details.join(" ")).toContain("always previewed");
    expect(media.flags.map((flag) => flag.name)).toEqual(["page", "dry-run"]);
  });
});
