import { afterEach, describe, expect, it } from "vitest";
import { ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import type { Command } from "../../../../src/commands/spec.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { DEFAULT_CONFIRM_BEFORE, type Preview, type Words } from "../../../../src/model/commandSpec.js";
import { SAME_CONTENT_NOTE, UNDO_SAME_CONTENT_NOTE } from "../../../../src/model/mediaActions.js";
import type { Refusal } from "../../../../src/model/outcomes.js";
import type { Result } from "../../../../src/util/result.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { WARDEN_USER } from "../../../fakes/fakeRoomAdmin.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";
import { CONTEXT } from "../../../fakes/runCommand.js";

const ROOM = "!abuse:example.org" as RoomId;
const SPAMMER = "@spammer:example.org";

function setup(): { fakes: CommandFakes; quarantine: Command } {
  const fakes = commandFakes();
  fakes.admin.addRoom(ROOM, "Abuse <script>");
  // From the table, which adds --yes and --dry-run to commands with a preview.
  const quarantine = fakes.table.find((command) => command.name === "quarantine");
  if (quarantine === undefined) throw new Error("no !quarantine in the table");
  return { fakes, quarantine };
}

function wordsOf(command: Command, text: string): { words: Words; args: unknown } {
  const words = splitWords(text, command);
  if (!words.ok) throw new Error(JSON.stringify(words.error));
  const args = command.parse(words.value);
  if (!args.ok) throw new Error(JSON.stringify(args.error));
  return { words: words.value, args: args.value };
}

async function previewOf(command: Command, text: string): Promise<Result<Preview, Refusal>> {
  const { args } = wordsOf(command, text);
  const preview = await command.confirmation?.preview(args, CONTEXT);
  if (preview === undefined) throw new Error("no preview");
  return preview;
}

function linesOf(preview: Result<Preview, Refusal>): string[] {
  if (!preview.ok) throw new Error(preview.error.reason);
  return preview.value.lines.map((line) => `${line.label}: ${line.value}`);
}

const flows: ConfirmationFlow[] = [];
afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

describe("the preview of !quarantine", () => {
  it("says what each target would touch, what Synapse does beyond them, and changes nothing", async () => {
    const { fakes, quarantine } = setup();
    const image = fakes.admin.upload(SPAMMER, { content: "a", type: "image/gif", bytes: 1_500_000 });
    fakes.admin.upload(SPAMMER, { content: "b" });
    fakes.admin.post(ROOM, image, image, "mxc://remote.example/x", "mxc://remote.example/y");

    const preview = await previewOf(quarantine, `${ROOM} ${SPAMMER} ${image} mxc://example.org/missing`);

    expect(preview.ok && preview.value.title).toBe("quarantine the media of 4 targets");
    expect(linesOf(preview)).toEqual([
      `Room: "Abuse <script>" ${ROOM}: its messages name 1 file of this server and 2 of other servers (those only where this server keeps a cached copy)`,
      `User: ${SPAMMER}: 2 uploads on this server, those already quarantined or protected included`,
      `File: ${image} · 1.4 MiB · image/gif · ${SPAMMER} · 2023-11-14 22:13:20 UTC`,
      "Left as it is: mxc://example.org/missing: this server holds no such file; nothing changed",
      `Same content: ${SAME_CONTENT_NOTE}`,
      "Protected files: Protected files (!protect) stay served: a room or user quarantine leaves them out, a protected file named alone is not quarantined, and one with the same content as a quarantined file is spared.",
      "Undo: Undo one file at a time with !quarantine --undo <mxc>; Synapse has no undo for a whole room or user.",
    ]);
    expect(fakes.admin.mediaCalls.map((call) => call.method)).toEqual(["roomMedia", "userMedia", "mediaInfo", "mediaInfo"]);
    expect([...fakes.admin.files.values()].every((file) => file.quarantinedBy === undefined)).toBe(true);
  });

  it("titles a single target by its name", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    const preview = await previewOf(quarantine, file);
    expect(preview.ok && preview.value.title).toBe(`quarantine ${file}`);
    const room = await previewOf(quarantine, ROOM);
    expect(room.ok && room.value.title).toBe(`quarantine the media of ${ROOM}`);
  });

  it("shows nothing to confirm when no target needs anything, and says why each", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.change(file, { quarantinedBy: WARDEN_USER });
    const preview = await previewOf(quarantine, `${file} mxc://remote.example/never`);
    expect(preview).toEqual({
      ok: false,
      error: {
        kind: "refused",
        reason: `${file}: already quarantined (by ${WARDEN_USER}); nothing changed; mxc://remote.example/never: this server holds no such file (it has no cached copy of that server's file); nothing changed`,
      },
    });
  });

  it("is asked for by default (confirmBefore), posts the preview, and quarantines only once confirmed", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    const chat = new RecordingChat();
    const flow = new ConfirmationFlow(new ConfirmationBook(fakes.clock, 60_000), new Set(DEFAULT_CONFIRM_BEFORE), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
    flows.push(flow);
    const { words, args } = wordsOf(quarantine, file);

    expect(await flow.gate(quarantine, args, words, CONTEXT)).toBe("shown");
    expect(chat.sent[0]?.message.plain).toContain(`Preview: quarantine ${file}`);
    expect(fakes.admin.file(file)?.quarantinedBy).toBeUndefined();

    const id = /!confirm (\S+),/.exec(chat.sent[0]?.message.plain ?? "")?.[1] ?? "";
    const outcome = await flow.confirm(id, CONTEXT.requester);
    expect(outcome).toMatchObject({ kind: "media-action", entries: [{ label: file, result: { status: "done" } }] });
    expect(fakes.admin.file(file)?.quarantinedBy).toBe(WARDEN_USER);
  });

  it("shows an undo for what it is under --dry-run: the files it would serve again and their duplicates", async () => {
    const { fakes, quarantine } = setup();
    const file = fakes.admin.upload(SPAMMER);
    fakes.admin.change(file, { quarantinedBy: "@othermod:example.org" });
    const chat = new RecordingChat();
    const flow = new ConfirmationFlow(new ConfirmationBook(fakes.clock, 60_000), new Set(DEFAULT_CONFIRM_BEFORE), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
    flows.push(flow);
    const { words, args } = wordsOf(quarantine, `--undo ${file} --dry-run`);

    expect(await flow.gate(quarantine, args, words, CONTEXT)).toBe("shown");

    expect(chat.sent.map((sent) => sent.message.plain)).toEqual([
      [
        "Preview: serve again 1 quarantined file",
        `File: ${file} · 1.0 KiB · image/png · ${SPAMMER} · 2023-11-14 22:13:20 UTC · quarantined by @othermod:example.org`,
        `Same content: ${UNDO_SAME_CONTENT_NOTE}`,
        "Dry run: nothing was done.",
      ].join("\n"),
    ]);
    expect(fakes.admin.file(file)?.quarantinedBy).toBe("@othermod:example.org");
  });

  it("asks nothing for --undo, even where confirmBefore lists quarantine", async () => {
    const { fakes, quarantine } = setup();
    const chat = new RecordingChat();
    const flow = new ConfirmationFlow(new ConfirmationBook(fakes.clock, 60_000), new Set(["quarantine"]), chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
    flows.push(flow);
    const { words, args } = wordsOf(quarantine, "--undo mxc://example.org/abc");
    expect(await flow.gate(quarantine, args, words, CONTEXT)).toBeUndefined();
    expect(chat.sent).toEqual([]);
  });
});
