import type { Logger } from "pino";
import { formatMxc, type Mxc, type RoomId, type UserId } from "../../matrix/ids.js";
import type { Preview, PreviewLine } from "../../model/commandSpec.js";
import { MAX_MEDIA_TARGETS, protectedNote, SAME_CONTENT_NOTE, UNDO_SAME_CONTENT_NOTE, undoNote } from "../../model/mediaActions.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import { truncate } from "../../render/html.js";
import { fileText } from "../../render/media/media.js";
import { describeUnchanged } from "../../render/media/mediaActions.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { ROOM_EXPECTED } from "../parsing/arguments.js";
import { MXC_EXPECTED, type MediaTarget } from "../parsing/mediaTargets.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";
import { booleanFlag } from "../parsing/words.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { carryOut, lookUpFile, lookupFailed, parseTargetList, type Planned } from "./mediaRuns.js";

export interface QuarantineDependencies {
  readonly admin: Pick<
    SynapseAdminClient,
    "roomDetails" | "roomMedia" | "userMedia" | "mediaInfo" | "quarantineRoomMedia" | "quarantineUserMedia" | "quarantineMedia" | "unquarantineMedia"
  >;
  readonly targets: TargetRules;
  /** This homeserver's server name: its users' uploads are the only ones Synapse quarantines by user. */
  readonly serverName: string;
  readonly log: Logger;
}

interface QuarantineArguments {
  readonly targets: readonly MediaTarget[];
  readonly undo: boolean;
}

/** A target looked up, with what the preview says of it. */
interface Looked {
  readonly planned: Planned;
  readonly preview: PreviewLine;
}

export function quarantineCommand(dependencies: QuarantineDependencies) {
  return defineCommand<QuarantineArguments>({
    name: "quarantine",
    summary: "Stop this homeserver serving media: every file a room's messages name, every upload of a user, or single files; --undo serves a file again.",
    details: [
      "Several targets may be named at once; each is looked up before any is changed, and the reply says per target how many files were quarantined, what was left as it was and what failed.",
      "Since Synapse 1.128 every file with the same content is quarantined with a file. Protected files (!protect) stay served.",
      "Synapse has no undo for a room or a user: --undo takes files only, one mxc URI each.",
    ],
    positionals: [
      {
        name: "target",
        repeatable: true,
        description: `${ROOM_EXPECTED}, a user of this server (@abuse:example.org) or ${MXC_EXPECTED}; up to ${MAX_MEDIA_TARGETS}`,
      },
    ],
    flags: [{ name: "undo", kind: "boolean", description: "serve the named files again (files only: mxc URIs)" }],
    examples: [
      "!quarantine #spam:example.org",
      "!quarantine @abuse:example.org mxc://example.org/AbCdEf",
      "!quarantine --undo mxc://example.org/AbCdEf",
    ],
    parse(words) {
      const undo = booleanFlag(words, "undo");
      const targets = parseTargetList(words.positionals, {
        kinds: undo ? ["mxc"] : ["room", "user", "mxc"],
        argument: "<target>",
        serverName: dependencies.serverName,
        localFilesOnly: false,
        ...(undo ? { otherKind: `with --undo, ${MXC_EXPECTED}: Synapse has no undo for a room's or a user's quarantine, only for one file at a time` } : {}),
      });
      return targets.ok ? ok({ targets: targets.value, undo }) : targets;
    },
    confirmation: {
      // Serving a file again needs no preview; a quarantine reaches further than the targets named.
      kind: (args) => (args.undo ? undefined : "quarantine"),
      preview: (args, context) => preview(args, context, dependencies),
    },
    async execute(args, context): Promise<CommandOutcome> {
      const looked = await lookUpAll(args, dependencies, context.prefix, false);
      if (!looked.ok) return looked.error;
      return carryOut(args.undo ? "unquarantine" : "quarantine", looked.value.map((target) => target.planned), dependencies.log, context.requester);
    },
  });
}

async function lookUpAll(args: QuarantineArguments, dependencies: QuarantineDependencies, prefix: string, withCounts: boolean): Promise<Result<Looked[], Refusal>> {
  const looked: Looked[] = [];
  // One after another: a command may name a hundred targets, and the homeserver serves moderators too.
  for (const target of args.targets) {
    const one =
      target.kind === "room"
        ? await lookUpRoom(target, dependencies, prefix, withCounts)
        : target.kind === "user"
          ? await lookUpUser(target.userId, dependencies, prefix)
          : await lookUpFileTarget(target.mxc, args.undo, dependencies, prefix);
    if (!one.ok) return one;
    looked.push(one.value);
  }
  return ok(looked);
}

async function lookUpRoom(target: Extract<MediaTarget, { kind: "room" }>, dependencies: QuarantineDependencies, prefix: string, withCounts: boolean): Promise<Result<Looked, Refusal>> {
  const { admin, targets } = dependencies;
  const resolved = await resolveRoom(target.room, targets.directory);
  if (!resolved.ok) return resolved;
  const { roomId, label } = resolved.value;
  // A room's every file has no undo but one by one: the rooms Warden keeps are named file by file.
  if (roomId === targets.managementRoomId) {
    return err({ kind: "refused", reason: `${label} is Warden's own management room; Warden does not quarantine a whole room it keeps, so nothing was changed.`, hint: "Name its files by their mxc URIs instead." });
  }
  const protectedRooms = await targets.protectedRooms.current();
  if (!protectedRooms.ok) return err({ kind: "refused", reason: `Warden will not quarantine the media of ${label}, so nothing was changed: ${protectedRooms.error}` });
  if (protectedRooms.value.has(roomId)) {
    return err({ kind: "refused", reason: `${label} is listed in protectedRooms in Warden's config; Warden does not quarantine a whole room it keeps, so nothing was changed.`, hint: "Name its files by their mxc URIs instead." });
  }
  const details = await admin.roomDetails(roomId);
  if (!details.ok) {
    if (details.error.kind !== "not-found") return err(lookupFailed(label, details.error));
    const unchanged = { why: "unknown-room" } as const;
    return ok({ planned: { kind: "room", label, unchanged }, preview: { label: "Room", value: `${label}: ${describeUnchanged(unchanged, prefix)}` } });
  }
  const name = details.value.name;
  // Whoever made the room chose its name: one line, bounded.
  const title = name === null || name === undefined || name === "" ? label : `"${truncate(name.replace(/\s+/g, " ").trim(), 80)}" ${label}`;
  const planned: Planned = { kind: "room", label, act: () => quarantineRoom(roomId, dependencies) };
  if (!withCounts) return ok({ planned, preview: { label: "Room", value: title } });
  const media = await admin.roomMedia(roomId);
  if (!media.ok) return err(lookupFailed(`the media of ${label}`, media.error));
  // A file sent twice, or a thumbnail beside its image, is named more than once.
  const local = new Set(media.value.local).size;
  const remote = new Set(media.value.remote).size;
  return ok({
    planned,
    preview: {
      label: "Room",
      value: `${title}: its messages name ${local} ${local === 1 ? "file" : "files"} of this server and ${remote} of other servers (those only where this server keeps a cached copy)`,
    },
  });
}

async function quarantineRoom(roomId: RoomId, dependencies: QuarantineDependencies) {
  const done = await dependencies.admin.quarantineRoomMedia(roomId);
  return done.ok ? ok({ status: "done" as const, count: done.value.num_quarantined }) : done;
}

async function lookUpUser(userId: UserId, dependencies: QuarantineDependencies, prefix: string): Promise<Result<Looked, Refusal>> {
  const uploads = await dependencies.admin.userMedia(userId, { limit: 1 });
  if (!uploads.ok) {
    if (uploads.error.kind !== "not-found" || uploads.error.errcode === "M_UNRECOGNIZED") return err(lookupFailed(`the uploads of ${userId}`, uploads.error));
    const unchanged = { why: "unknown-user" } as const;
    return ok({ planned: { kind: "user", label: userId, unchanged }, preview: { label: "User", value: `${userId}: ${describeUnchanged(unchanged, prefix)}` } });
  }
  const total = uploads.value.total;
  return ok({
    planned: {
      kind: "user",
      label: userId,
      act: async () => {
        const done = await dependencies.admin.quarantineUserMedia(userId);
        return done.ok ? ok({ status: "done" as const, count: done.value.num_quarantined }) : done;
      },
    },
    preview: { label: "User", value: `${userId}: ${total} ${total === 1 ? "upload" : "uploads"} on this server, those already quarantined or protected included` },
  });
}

async function lookUpFileTarget(mxc: Mxc, undo: boolean, dependencies: QuarantineDependencies, prefix: string): Promise<Result<Looked, Refusal>> {
  const label = formatMxc(mxc);
  const file = await lookUpFile(dependencies.admin, mxc);
  if (!file.ok) return file;
  const info = file.value;
  const left = (unchanged: Parameters<typeof describeUnchanged>[0]): Result<Looked, Refusal> =>
    ok({ planned: { kind: "file", label, unchanged }, preview: { label: "File", value: `${label}: ${describeUnchanged(unchanged, prefix)}` } });
  // Synapse answers {} to both calls whatever the file's state, so the state is read first.
  if (info === undefined) return left({ why: "no-such-file", remote: mxc.origin !== dependencies.serverName });
  if (undo) {
    if (info.quarantinedBy === undefined) return left({ why: "not-quarantined" });
  } else {
    if (info.quarantinedBy !== undefined) return left({ why: "already-quarantined", by: info.quarantinedBy });
    if (info.protected === true) return left({ why: "protected" });
  }
  const act = async () => {
    const done = undo ? await dependencies.admin.unquarantineMedia(mxc) : await dependencies.admin.quarantineMedia(mxc);
    return done.ok ? ok({ status: "done" as const }) : done;
  };
  // As !media shows the file: size, type, uploader, time, and who quarantined it (for an undo).
  return ok({ planned: { kind: "file", label, act }, preview: { label: "File", value: fileText({ ...info, uri: label }) } });
}

async function preview(args: QuarantineArguments, context: CommandContext, dependencies: QuarantineDependencies): Promise<Result<Preview, Refusal>> {
  const looked = await lookUpAll(args, dependencies, context.prefix, true);
  if (!looked.ok) return looked;
  const acting = looked.value.filter((target) => !("unchanged" in target.planned));
  if (acting.length === 0) {
    // Nothing to confirm: say why each target needs nothing, as the reply would.
    return err({ kind: "refused", reason: looked.value.map((target) => target.preview.value).join("; ") });
  }
  const targetLines = looked.value.map((target) => ("unchanged" in target.planned ? { label: "Left as it is", value: target.preview.value } : target.preview));
  if (args.undo) {
    // Only --dry-run shows this: an undo never waits for confirmation.
    return ok({
      title: `serve again ${acting.length} quarantined ${acting.length === 1 ? "file" : "files"}`,
      lines: [...targetLines, { label: "Same content", value: UNDO_SAME_CONTENT_NOTE }],
    });
  }
  const only = args.targets.length === 1 ? looked.value[0]?.planned : undefined;
  return ok({
    title: only === undefined ? `quarantine the media of ${args.targets.length} targets` : only.kind === "file" ? `quarantine ${only.label}` : `quarantine the media of ${only.label}`,
    lines: [
      ...targetLines,
      { label: "Same content", value: SAME_CONTENT_NOTE },
      { label: "Protected files", value: protectedNote(context.prefix) },
      { label: "Undo", value: undoNote(context.prefix) },
    ],
  });
}
