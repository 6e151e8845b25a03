import { describe, expect, it } from "vitest";
import { mediaCommand } from "../../../../src/commands/media/media.js";
import { MEDIA_PAGE_SIZE, SIZE_READS } from "../../../../src/commands/media/look.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { MEDIA_NOT_SERVED } from "../../../../src/synapse/adminClient.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { NOT_SERVED } from "../../../fakes/media/fakeMediaAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const SPAM = "!spam:example.org" as RoomId;
const ABUSER = "@abuser:example.org";

function setup(): { fakes: CommandFakes; media: Command } {
  const fakes = commandFakes();
  return { fakes, media: mediaCommand(fakes.dependencies) };
}

function reply(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", FIXED_NOW)?.plain ?? "";
}

describe("!media <room>", () => {
  it("counts the room's files, local and remote, adds up their sizes and lists them with their facts, newest message first", async () => {
    const { fakes, media } = setup();
    const older = fakes.admin.upload(ABUSER, { bytes: 1000, type: "image/png" });
    const newer = fakes.admin.upload(ABUSER, { bytes: 3000, type: "image/gif", protected: true });
    const remote = fakes.admin.cache("elsewhere.example", { mediaId: "far", bytes: 500 });
    fakes.admin.post(SPAM, older);
    fakes.admin.post(SPAM, newer, remote);
    // The same image posted again is one file.
    fakes.admin.post(SPAM, older);
    const file = fakes.admin.file(newer);
    if (file !== undefined) file.quarantinedBy = "@mod:example.org";

    const outcome = await runCommand(media, SPAM);

    expect(outcome).toMatchObject({ kind: "media-room", label: SPAM, local: 2, remote: 1, size: { read: true, bytes: 4500, unknown: 0 } });
    expect(outcome.kind === "media-room" && outcome.listing.entries.map((entry) => entry.uri)).toEqual([older, newer, remote]);
    expect(outcome.kind === "media-room" && "boundedAt" in outcome.size).toBe(false);
    const text = reply(outcome);
    expect(text).toContain(`Media of ${SPAM}: 3 files (2 of this server, 1 of other servers), 4.4 KiB.`);
    expect(text).toContain("Files 1-3 of 3 (page 1 of 1), this server's first, then other servers', each newest message first:");
    expect(text).toContain(`- ${newer} · 2.9 KiB · image/gif · ${ABUSER} · `);
    expect(text).toContain(" · quarantined by @mod:example.org · protected");
    expect(text).toContain(`- ${remote} · 500 B · image/jpeg · `);
    expect(text).not.toContain("Next page");
  });

  it("resolves an alias and says so in the heading", async () => {
    const { fakes, media } = setup();
    fakes.directory.add("#spam:example.org", SPAM);
    fakes.admin.post(SPAM, fakes.admin.upload(ABUSER));
    expect(await runCommand(media, "#spam:example.org")).toMatchObject({ kind: "media-room", label: `#spam:example.org (${SPAM})`, local: 1 });
  });

  it("pages the list: --page 2 shows files 21-40 and names the next page; a page past the last says how many there are", async () => {
    const { fakes, media } = setup();
    const uris = Array.from({ length: 45 }, () => fakes.admin.upload(ABUSER, { bytes: 10 }));
    fakes.admin.post(SPAM, ...uris);
    const newestFirst = [...uris].reverse();

    const second = await runCommand(media, `${SPAM} --page 2`);
    expect(second.kind === "media-room" && second.listing.entries.map((entry) => entry.uri)).toEqual(newestFirst.slice(MEDIA_PAGE_SIZE, 2 * MEDIA_PAGE_SIZE));
    expect(reply(second)).toContain("Files 21-40 of 45 (page 2 of 3), this server's first, then other servers', each newest message first:");
    expect(reply(second)).toContain(`Next page: !media ${SPAM} --page 3`);
    expect(reply(await runCommand(media, `${SPAM} --page 3`))).toContain("That is the last page.");
    expect(await runCommand(media, `${SPAM} --page 4`)).toEqual({
      kind: "refused",
      reason: "there is no page 4: the 45 files of !spam:example.org make 3 pages of 20.",
      hint: `!media ${SPAM} --page 3 shows the last.`,
    });
  });

  it(`adds up the sizes of the first ${SIZE_READS} files only, says so, and still shows a page beyond them`, async () => {
    const { fakes, media } = setup();
    const uris = Array.from({ length: SIZE_READS + 30 }, () => fakes.admin.upload(ABUSER, { bytes: 2 }));
    fakes.admin.post(SPAM, ...uris);

    const outcome = await runCommand(media, `${SPAM} --page 27`);

    expect(outcome).toMatchObject({ kind: "media-room", local: SIZE_READS + 30, size: { read: true, bytes: 2 * SIZE_READS, unknown: 0, boundedAt: SIZE_READS } });
    expect(outcome.kind === "media-room" && outcome.listing.entries.map((entry) => entry.uri)).toEqual([...uris].reverse().slice(520, 530));
    // The first 500 for the size and the 10 of page 27: nothing read twice, nothing more.
    expect(fakes.admin.mediaCallsOf("mediaInfo")).toHaveLength(SIZE_READS + 10);
    expect(reply(outcome)).toContain(`1000 B in the first ${SIZE_READS} (Warden adds up at most ${SIZE_READS} files' sizes)`);
  });

  it("lists a file the server no longer holds by URI, with why, and leaves it out of the size", async () => {
    const { fakes, media } = setup();
    const held = fakes.admin.upload(ABUSER, { bytes: 100 });
    fakes.admin.post(SPAM, held, "mxc://example.org/deleted", "mxc://elsewhere.example/never");

    const outcome = await runCommand(media, SPAM);

    expect(outcome).toMatchObject({ kind: "media-room", size: { read: true, bytes: 100, unknown: 2 } });
    const text = reply(outcome);
    expect(text).toContain("- mxc://example.org/deleted · details not read: this server no longer holds it (deleted)");
    expect(text).toContain("- mxc://elsewhere.example/never · details not read: never cached here (or its cached copy was purged)");
    expect(text).toContain("100 B, not counting 2 files whose size could not be read");
  });

  it("lists URIs only when the homeserver has no media info (before Synapse 1.140), says why, and stops asking", async () => {
    const { fakes, media } = setup();
    const uris = Array.from({ length: 30 }, () => fakes.admin.upload(ABUSER));
    fakes.admin.post(SPAM, ...uris);
    fakes.admin.mediaFailures.set("mediaInfo", NOT_SERVED);

    const outcome = await runCommand(media, SPAM);

    expect(outcome).toMatchObject({ kind: "media-room", local: 30, size: { read: false, why: MEDIA_NOT_SERVED } });
    expect(outcome.kind === "media-room" && outcome.listing.entries.slice(0, 2)).toEqual([{ uri: uris[29] }, { uri: uris[28] }]);
    // The first few were already on their way; no more were asked once one answered M_UNRECOGNIZED.
    expect(fakes.admin.mediaCallsOf("mediaInfo").length).toBeLessThanOrEqual(4);
    expect(reply(outcome)).toContain("Synapse before 1.140 has no media info endpoint");
  });

  it("says a room the homeserver does not know is not one, and a known room without files has none", async () => {
    const { fakes, media } = setup();
    expect(await runCommand(media, "!unknown:example.org")).toEqual({
      kind: "refused",
      reason: "!unknown:example.org is not a room this homeserver knows (a room deleted from its database has no media list any more).",
    });
    fakes.admin.addRoom(SPAM);
    const empty = await runCommand(media, SPAM);
    expect(reply(empty)).toBe(`Media of ${SPAM}: no files (no message of the room names one).`);
    expect(await runCommand(media, `${SPAM} --page 2`)).toEqual({ kind: "refused", reason: `there is no page 2: ${SPAM} has no media files.` });
  });

  it("refuses with the homeserver's words when the list cannot be read, naming the media worker", async () => {
    const { fakes, media } = setup();
    fakes.admin.mediaFailures.set("roomMedia", NOT_SERVED);
    expect(await runCommand(media, SPAM)).toEqual({ kind: "refused", reason: `could not list the media of ${SPAM}: ${MEDIA_NOT_SERVED}` });
  });
});

describe("!media @user", () => {
  it("counts a user's uploads, adds up their sizes and lists the newest first", async () => {
    const { fakes, media } = setup();
    const uris = [fakes.admin.upload(ABUSER, { bytes: 1024 }), fakes.admin.upload(ABUSER, { bytes: 2048, protected: true })];
    fakes.admin.upload("@someone-else:example.org");

    const outcome = await runCommand(media, ABUSER);

    expect(outcome).toMatchObject({ kind: "media-user", userId: ABUSER, uploads: 2, size: { read: true, bytes: 3072, unknown: 0 } });
    expect(outcome.kind === "media-user" && outcome.listing.entries.map((entry) => [entry.uri, entry.protected === true])).toEqual([
      [uris[1], true],
      [uris[0], false],
    ]);
    expect(fakes.admin.mediaCallsOf("userMedia")).toEqual([{ method: "userMedia", userId: ABUSER, from: 0, limit: 100 }]);
    const text = reply(outcome);
    expect(text).toContain(`Uploads of ${ABUSER}: 2 files, 3.0 KiB.`);
    // The heading names the uploader: the lines do not repeat it.
    expect(text).toContain(`- ${uris[1]} · 2.0 KiB · image/png · `);
    expect(text).not.toContain(`· ${ABUSER} ·`);
  });

  it(`reads at most ${SIZE_READS} uploads for the size, 100 a request, says so, and reads a later page on its own`, async () => {
    const { fakes, media } = setup();
    for (let index = 0; index < 650; index++) fakes.admin.upload(ABUSER, { bytes: 4 });

    const outcome = await runCommand(media, `${ABUSER} --page 33`);

    expect(outcome).toMatchObject({ kind: "media-user", uploads: 650, size: { read: true, bytes: 4 * SIZE_READS, boundedAt: SIZE_READS } });
    expect(outcome.kind === "media-user" && outcome.listing.entries).toHaveLength(10);
    expect(fakes.admin.mediaCallsOf("userMedia").map((call) => [call.from, call.limit])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
      [300, 100],
      [400, 100],
      [640, MEDIA_PAGE_SIZE],
    ]);
    expect(reply(outcome)).toContain("Files 641-650 of 650 (page 33 of 33), newest first:");
  });

  it("says Warden lists only local users' uploads for a remote user, and points to the room", async () => {
    const { media } = setup();
    expect(await runCommand(media, "@spammer:elsewhere.example")).toEqual({
      kind: "refused",
      reason: "Warden can list only local users' uploads, and @spammer:elsewhere.example is a user of another server.",
      hint: "Their files in a room can be looked at by room: !media <room>.",
    });
  });

  it("says an unknown user is unknown; a user without uploads has none; a page past the last says so", async () => {
    const { fakes, media } = setup();
    expect(await runCommand(media, "@nobody:example.org")).toEqual({ kind: "refused", reason: "@nobody:example.org is not a user this homeserver knows." });
    fakes.admin.localUsers.add("@quiet:example.org");
    expect(reply(await runCommand(media, "@quiet:example.org"))).toBe("Uploads of @quiet:example.org: none.");
    fakes.admin.upload(ABUSER);
    expect(await runCommand(media, `${ABUSER} --page 2`)).toEqual({
      kind: "refused",
      reason: `there is no page 2: the 1 file of ${ABUSER} makes 1 page of 20.`,
      hint: `!media ${ABUSER} --page 1 shows the last.`,
    });
  });
});

describe("!media mxc://…", () => {
  it("shows one local file in full", async () => {
    const { fakes, media } = setup();
    const uri = fakes.admin.upload(ABUSER, { bytes: 5_000_000, type: "video/mp4", protected: true });

    const outcome = await runCommand(media, uri);

    expect(outcome).toMatchObject({ kind: "media-file", local: true, file: { uri, bytes: 5_000_000, type: "video/mp4", uploader: ABUSER, protected: true } });
    const text = reply(outcome);
    expect(text).toContain(`File ${uri} (uploaded to this server)`);
    expect(text).toContain("Size: 4.8 MiB (5000000 bytes)");
    expect(text).toContain(`Uploaded by: ${ABUSER}`);
    expect(text).toContain("Quarantined: no");
    expect(text).toContain("Protected from quarantine: yes (Warden never deletes it)");
  });

  it("shows a cached remote file without the local-only facts", async () => {
    const { fakes, media } = setup();
    const uri = fakes.admin.cache("elsewhere.example", { mediaId: "abc" });
    const text = reply(await runCommand(media, uri));
    expect(text).toContain(`File ${uri} (a file of elsewhere.example, cached here)`);
    expect(text).toContain("Cached: ");
    expect(text).not.toContain("Protected");
    expect(text).not.toContain("Uploaded by");
  });

  it("does not take a main process's 404 M_UNRECOGNIZED (media API not served) for a file it does not hold", async () => {
    const { fakes, media } = setup();
    const uri = fakes.admin.upload(ABUSER);
    fakes.admin.notServed = true;
    expect(await runCommand(media, uri)).toEqual({ kind: "refused", reason: `could not look up ${uri}: ${MEDIA_NOT_SERVED}` });
  });

  it("says the server holds no such file, and for a remote one that it was never cached here", async () => {
    const { media } = setup();
    expect(await runCommand(media, "mxc://example.org/missing")).toEqual({ kind: "refused", reason: "this server holds no file mxc://example.org/missing." });
    expect(await runCommand(media, "mxc://elsewhere.example/missing")).toEqual({
      kind: "refused",
      reason: "this server holds no file mxc://elsewhere.example/missing: it was never cached here (or its cached copy was purged).",
    });
  });

  it("refuses with the homeserver's words when media info is not served", async () => {
    const { fakes, media } = setup();
    fakes.admin.mediaFailures.set("mediaInfo", NOT_SERVED);
    expect(await runCommand(media, "mxc://example.org/abc")).toEqual({ kind: "refused", reason: `could not look up mxc://example.org/abc: ${MEDIA_NOT_SERVED}` });
  });
});

describe("!media: bad input names the word and the form", () => {
  it("refuses a missing target, a second target, an mxc of another form, --page with a file, a bad page, --dry-run and --yes", () => {
    const { media } = setup();
    expect(parseProblem(media, "")).toMatchObject({ argument: "<target>" });
    expect(parseProblem(media, `${SPAM} ${ABUSER}`)).toEqual({
      argument: "arguments",
      given: ABUSER,
      expected: "one room, user or mxc URI to look at (to delete, start with the word delete)",
    });
    expect(parseProblem(media, "mxc://example.org/a.b")).toMatchObject({ argument: "<target>", given: "mxc://example.org/a.b", expected: expect.stringContaining("mxc://<server>/<media id>") as string });
    expect(parseProblem(media, "https://example.org/a.png")).toMatchObject({ argument: "<target>", given: "https://example.org/a.png" });
    expect(parseProblem(media, "mxc://example.org/abc --page 2")).toMatchObject({ argument: "--page", expected: "a room or a user before it: one file has no pages" });
    for (const page of ["0", "-1", "1.5", "two", "99999999"]) {
      expect(parseProblem(media, `${SPAM} --page ${page}`), page).toMatchObject({ argument: "--page", given: page, expected: "a page number: a whole number, 1 or more" });
    }
    expect(parseProblem(media, `${SPAM} --dry-run`)).toMatchObject({ argument: "--dry-run" });
    expect(parseProblem(media, `${ABUSER} --yes`)).toMatchObject({ argument: "--yes" });
  });
});

describe("!media: a failing size read", () => {
  it("refuses when a later page of a user's uploads cannot be read, rather than give a wrong size", async () => {
    const { fakes, media } = setup();
    for (let index = 0; index < 150; index++) fakes.admin.upload(ABUSER);
    const userMedia = fakes.admin.userMedia.bind(fakes.admin);
    fakes.admin.userMedia = (userId, query) => (query?.from === 100 ? Promise.resolve({ ok: false as const, error: adminError("server-error", 502) }) : userMedia(userId, query));
    expect(await runCommand(media, ABUSER)).toEqual({ kind: "refused", reason: `could not read all the uploads of ${ABUSER}: the homeserver failed with HTTP 502` });
  });
});
