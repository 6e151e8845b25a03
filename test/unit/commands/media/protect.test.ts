import { describe, expect, it } from "vitest";
import { protectCommand, unprotectCommand } from "../../../../src/commands/media/protect.js";
import { quarantineCommand } from "../../../../src/commands/media/quarantine.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { WARDEN_USER } from "../../../fakes/fakeRoomAdmin.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";

const ROOM = "!abuse:example.org" as RoomId;
const SPAMMER = "@spammer:example.org";

function setup() {
  const fakes = commandFakes();
  return { fakes, protect: protectCommand(fakes.dependencies), unprotect: unprotectCommand(fakes.dependencies) };
}

function replyOf(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", 0)?.plain ?? "";
}

describe("!protect", () => {
  it("looks the file up, protects it, and a room quarantine then leaves it served while the room's other file goes", async () => {
    const { fakes, protect } = setup();
    const logo = fakes.admin.upload("@admin:example.org", { content: "logo" });
    const spam = fakes.admin.upload(SPAMMER, { content: "spam" });
    fakes.admin.addRoom(ROOM);
    fakes.admin.post(ROOM, logo, spam);

    const reply = replyOf(await runCommand(protect, logo));

    expect(fakes.admin.mediaCalls).toEqual([
      { method: "mediaInfo", uri: logo },
      { method: "setMediaProtected", mediaId: fakes.admin.file(logo)?.mediaId, protect: true },
    ]);
    expect(reply).toBe(`Protect of 1 target: 1 done.\n- ${logo}: protected from quarantine`);
    await runCommand(quarantineCommand(fakes.dependencies), ROOM);
    expect([logo, spam].map((uri) => fakes.admin.file(uri)?.quarantinedBy)).toEqual([undefined, WARDEN_USER]);
  });

  it("refuses another server's file before asking anything: Synapse protects only its own", () => {
    const { fakes, protect, unprotect } = setup();
    for (const command of [protect, unprotect]) {
      expect(parseProblem(command, "mxc://example.org/a mxc://remote.example/b")).toEqual({
        argument: "<mxc>",
        given: "mxc://remote.example/b",
        expected: "a file of this server, mxc://example.org/<media id>: Synapse protects only this server's own files",
      });
    }
    expect(fakes.admin.mediaCalls).toEqual([]);
  });

  it("refuses a room or a user, naming the one form it takes", () => {
    const { protect } = setup();
    for (const word of [ROOM, SPAMMER, "logo.png"]) {
      expect(parseProblem(protect, word)).toEqual({
        argument: "<mxc>",
        given: word,
        expected: "a content URI of this server, mxc://example.org/<media id>: Synapse protects one file at a time, not a room or a user",
      });
    }
    expect(parseProblem(protect, "")).toEqual({ argument: "<mxc>", expected: "a content URI mxc://<server>/<media id> (letters, digits, - and _ only)" });
    expect(parseProblem(protect, "mxc://example.org/logo.png")).toMatchObject({ given: "mxc://example.org/logo.png", expected: "a content URI mxc://<server>/<media id> (letters, digits, - and _ only)" });
  });

  it("answers an id this server does not hold, and a file already protected, without sending anything", async () => {
    const { fakes, protect } = setup();
    const logo = fakes.admin.upload("@admin:example.org");
    fakes.admin.change(logo, { protected: true });

    const reply = replyOf(await runCommand(protect, `mxc://example.org/noSuchId ${logo}`));

    expect(fakes.admin.mediaCalls.map((call) => call.method)).toEqual(["mediaInfo", "mediaInfo"]);
    expect(reply).toBe(
      [
        "Protect of 2 targets: 0 done, 2 left as they were.",
        "- mxc://example.org/noSuchId: this server holds no such file; nothing changed",
        `- ${logo}: already protected; nothing changed`,
      ].join("\n"),
    );
  });

  it("says a quarantined file it protects stays quarantined until --undo", async () => {
    const { fakes, protect } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.change(file, { quarantinedBy: WARDEN_USER });
    const reply = replyOf(await runCommand(protect, file));
    expect(fakes.admin.file(file)?.protected).toBe(true);
    expect(reply).toContain(`- ${file}: protected; it is quarantined and stays so until !quarantine --undo`);
  });

  it("changes nothing when a lookup fails, and says which", async () => {
    const { fakes, protect } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.mediaFailures.set("mediaInfo", adminError("timeout"));
    expect(await runCommand(protect, file)).toEqual({ kind: "refused", reason: `could not look up ${file}, so nothing was changed: the homeserver did not answer in time` });
    expect(fakes.admin.file(file)?.protected).toBe(false);
  });

  it("says what failed when Synapse refuses to protect", async () => {
    const { fakes, protect } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.mediaFailures.set("setMediaProtected", adminError("forbidden", 403, "You are not a server admin"));
    const reply = replyOf(await runCommand(protect, file));
    expect(reply).toContain(`Protect of 1 target: 0 done, 1 failed.\nFailed, not changed (1): ${file}: the homeserver refused: Warden's account is not allowed to do this: You are not a server admin`);
  });
});

describe("!unprotect", () => {
  it("lets quarantines reach a protected file again, and answers one that is not protected", async () => {
    const { fakes, unprotect } = setup();
    const logo = fakes.admin.upload("@admin:example.org");
    fakes.admin.change(logo, { protected: true });
    const plain = fakes.admin.upload(SPAMMER);

    const reply = replyOf(await runCommand(unprotect, `${logo} ${plain}`));

    expect(fakes.admin.mediaCalls.filter((call) => call.method === "setMediaProtected")).toEqual([
      { method: "setMediaProtected", mediaId: fakes.admin.file(logo)?.mediaId, protect: false },
    ]);
    expect(fakes.admin.file(logo)?.protected).toBe(false);
    expect(reply).toContain(`- ${logo}: no longer protected: a room or user quarantine can reach it now`);
    expect(reply).toContain(`- ${plain}: not protected; nothing changed`);
  });
});
