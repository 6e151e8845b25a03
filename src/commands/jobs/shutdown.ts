import type { RoomId, UserId } from "../../matrix/ids.js";
import { launchOutcome, taskOrigin } from "./launching.js";
import type { RoomDetailsBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { TaskLauncher } from "../../tasks/launcher.js";
import { err, ok, type Result } from "../../util/result.js";
import { parseUserArgument, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { type Preview } from "../../model/commandSpec.js";
import { type CommandOutcome, type Refusal } from "../../model/outcomes.js";
import { roomLines } from "../confirmation/previews.js";
import { resolveDestructiveTarget, type TargetRules } from "../parsing/targets.js";
import { booleanFlag, textFlag } from "../parsing/words.js";
import { parseDuration } from "../../util/duration.js";
import { isSingleRoom, parseRoomTargets, selectionFlags, type RoomTargets } from "../waves/selection.js";
import { previewWave, startWave, type WaveCommandDependencies, type WaveOrder } from "../waves/waves.js";

interface ShutdownArguments {
  readonly room: RoomArgument;
  /** Every room named or selected: one listed room, no selection and no --purge-after is the single-room shutdown. */
  readonly targets: RoomTargets;
  /** Two-phase removal: block and empty now, purge after this long. */
  readonly purgeAfterMs?: number;
  readonly purgeAfterText?: string;
  readonly block: boolean;
  readonly purge: boolean;
  readonly forcePurge: boolean;
  readonly notifyAs?: UserId;
  readonly newRoomName?: string;
  readonly message?: string;
}

const SHUTDOWN_SELECTIONS = ["matching", "space", "empty"] as const;

/** The shortest and longest cooldown of --purge-after: long enough for leaves to reach other servers, short enough to be remembered. */
const PURGE_AFTER_BOUNDS = { minMs: 60_000, maxMs: 90 * 86_400_000 };

/** Several rooms, or a two-phase removal: a wave. */
function asWave(args: ShutdownArguments): WaveOrder | undefined {
  if (isSingleRoom(args.targets) && args.purgeAfterMs === undefined) return undefined;
  return {
    kind: "shutdown",
    targets: args.targets,
    // Blocking works on a room the homeserver does not know; shutting it down has nothing to do.
    unknownRooms: args.block || args.purgeAfterMs !== undefined ? "keep" : "leave-out",
    parameters: {
      // --purge-after blocks too: nobody may rejoin a room whose history is about to go.
      block: args.block || args.purgeAfterMs !== undefined,
      // With --purge-after the rooms are emptied now and purged when the cooldown ends.
      purge: args.purgeAfterMs === undefined ? args.purge : false,
      forcePurge: args.forcePurge,
      ...(args.purgeAfterMs === undefined ? {} : { purgeAfterMs: args.purgeAfterMs, purgeAfter: args.purgeAfterText ?? "" }),
      ...(args.notifyAs === undefined ? {} : { notifyAs: args.notifyAs }),
      ...(args.newRoomName === undefined ? {} : { newRoomName: args.newRoomName }),
      ...(args.message === undefined ? {} : { message: args.message }),
    },
  };
}

export interface ShutdownDependencies extends WaveCommandDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "startDelete">;
  readonly launcher: Pick<TaskLauncher, "launch">;
  readonly targets: TargetRules;
}

export function shutdownCommand(dependencies: ShutdownDependencies) {
  return defineCommand<ShutdownArguments>({
    name: "shutdown",
    summary: "Empty a room: kick its local users, move them to a new room if asked, and delete it from the database.",
    details: [
      "Uses Synapse's asynchronous room delete; progress is shown until it ends.",
      "Without --notify-as, users are removed without a new room to go to.",
      "If some users cannot be kicked the delete fails; --force-purge deletes the room anyway.",
      "A room this homeserver does not know can only be blocked (with --block), so it cannot be joined later.",
    ],
    positionals: [{ name: "room", description: `${ROOM_EXPECTED}; several rooms (or a selection flag instead) make one wave`, repeatable: true }],
    flags: [
      ...selectionFlags(SHUTDOWN_SELECTIONS),
      {
        name: "purge-after",
        kind: "text",
        valueName: "AGE",
        description: "block and empty the rooms now (--block is implied), keep their history, and purge them from the database once AGE has passed (such as 7d)",
      },
      { name: "block", kind: "boolean", description: "block the room so nobody on this server can join it again" },
      { name: "no-purge", kind: "boolean", description: "keep the room's data in the database" },
      { name: "force-purge", kind: "boolean", description: "delete even if some local users could not be kicked" },
      { name: "notify-as", kind: "text", valueName: "USER", description: "a local user who creates a new room and moves the members there" },
      { name: "room-name", kind: "text", valueName: "TEXT", description: "the new room's name" },
      { name: "message", kind: "text", valueName: "TEXT", description: "the message posted in the new room" },
    ],
    examples: [
      "!shutdown #spam:example.org --block",
      '!shutdown !abc:example.org --block --notify-as @abuse:example.org --message "This room was closed."',
      "!shutdown --space #hostile-space:example.org --block",
      "!shutdown --matching casino --block --purge-after 7d",
    ],
    parse(words) {
      const targets = parseRoomTargets(words, words.positionals, SHUTDOWN_SELECTIONS);
      if (!targets.ok) return targets;
      const purgeAfterText = textFlag(words, "purge-after");
      const purgeAfterMs = purgeAfterText === undefined ? undefined : parseDuration(purgeAfterText, PURGE_AFTER_BOUNDS);
      if (purgeAfterText !== undefined && purgeAfterMs === undefined) {
        return err({ argument: "--purge-after", given: purgeAfterText, expected: "an age between 1min and 90d, such as 7d, 12h or 30min (units: s, min, h, d)" });
      }
      if (purgeAfterText !== undefined && booleanFlag(words, "no-purge")) {
        return err({ argument: "--purge-after", expected: "not together with --no-purge: --purge-after purges later, --no-purge never" });
      }
      const notifyAsText = textFlag(words, "notify-as");
      const notifyAs = notifyAsText === undefined ? undefined : parseUserArgument("--notify-as", notifyAsText);
      if (notifyAs !== undefined && !notifyAs.ok) return notifyAs;
      const noPurge = booleanFlag(words, "no-purge");
      const forcePurge = booleanFlag(words, "force-purge");
      if (noPurge && forcePurge) {
        return { ok: false, error: { argument: "--force-purge", expected: "not together with --no-purge: there is nothing to force when nothing is purged" } };
      }
      const newRoomName = textFlag(words, "room-name");
      const message = textFlag(words, "message");
      if (notifyAs === undefined && (newRoomName !== undefined || message !== undefined)) {
        return {
          ok: false,
          error: { argument: newRoomName === undefined ? "--message" : "--room-name", expected: "--notify-as USER as well: the new room is created by that user" },
        };
      }
      return ok({
        // The single-room form reads `room`; a wave reads `targets`.
        room: targets.value.listed[0] ?? { kind: "id", roomId: "" as RoomId },
        targets: targets.value,
        ...(purgeAfterMs === undefined ? {} : { purgeAfterMs, purgeAfterText: purgeAfterText ?? "" }),
        block: booleanFlag(words, "block"),
        purge: !noPurge,
        forcePurge,
        ...(notifyAs === undefined ? {} : { notifyAs: notifyAs.value }),
        ...(newRoomName === undefined ? {} : { newRoomName }),
        ...(message === undefined ? {} : { message }),
      });
    },
    execute: (args, context) => {
      const wave = asWave(args);
      return wave === undefined ? executeShutdown(args, context, dependencies) : startWave(wave, context, dependencies);
    },
    confirmation: {
      kind: () => "shutdown",
      always: (args) => asWave(args) !== undefined,
      preview: (args, context) => {
        const wave = asWave(args);
        return wave === undefined ? previewShutdown(args, dependencies) : previewWave(wave, context, dependencies);
      },
    },
  });
}

/** What both the preview and the run need: the room, and its details when the server knows it. */
interface PreparedShutdown {
  readonly roomId: RoomId;
  readonly label: string;
  readonly details: RoomDetailsBody | undefined;
}

async function prepareShutdown(args: ShutdownArguments, dependencies: ShutdownDependencies): Promise<Result<PreparedShutdown, Refusal>> {
  const target = await resolveDestructiveTarget(args.room, dependencies.targets);
  if (!target.ok) return target;
  const { roomId, label } = target.value;
  // Synapse answers a delete of an unknown room with success, so we look first.
  const details = await dependencies.admin.roomDetails(roomId);
  if (!details.ok && details.error.kind !== "not-found") {
    return err({ kind: "refused", reason: `could not look up ${label}: ${details.error.userMessage}` });
  }
  if (!details.ok && !args.block) {
    return err({
      kind: "refused",
      reason: `${label} is not a room this homeserver knows: there is nothing to shut down.`,
      hint: "Add --block to block it anyway, so nobody on this server can create or join it.",
    });
  }
  return ok({ roomId, label, details: details.ok ? details.value : undefined });
}

async function previewShutdown(args: ShutdownArguments, dependencies: ShutdownDependencies): Promise<Result<Preview, Refusal>> {
  const prepared = await prepareShutdown(args, dependencies);
  if (!prepared.ok) return prepared;
  const { label, details } = prepared.value;
  return ok({
    title: details !== undefined ? `shut down ${label}` : `block ${label}, which this homeserver does not know`,
    lines: [
      ...roomLines(label, details),
      { label: "Local members", value: details !== undefined ? `kicked${args.notifyAs === undefined ? "" : ` and moved to a new room created by ${args.notifyAs}`}` : "none" },
      { label: "Block afterwards", value: args.block ? "yes" : "no" },
      { label: "Delete from database", value: args.purge ? (args.forcePurge ? "yes, forced" : "yes") : "no (--no-purge)" },
      ...(args.newRoomName === undefined ? [] : [{ label: "New room name", value: args.newRoomName }]),
      ...(args.message === undefined ? [] : [{ label: "Message in the new room", value: args.message }]),
    ],
  });
}

async function executeShutdown(args: ShutdownArguments, context: CommandContext, dependencies: ShutdownDependencies): Promise<CommandOutcome> {
  const prepared = await prepareShutdown(args, dependencies);
  if (!prepared.ok) return prepared.error;
  const { roomId, label, details } = prepared.value;
  const launched = await dependencies.launcher.launch({
    kind: "shutdown",
    roomId,
    roomLabel: label,
    ...taskOrigin(context),
    parameters: {
      knownRoom: details !== undefined,
      roomName: details?.name ?? "",
      joinedMembers: details?.joined_members ?? 0,
      joinedLocalMembers: details?.joined_local_members ?? 0,
      block: args.block,
      purge: args.purge,
      forcePurge: args.forcePurge,
      ...(args.notifyAs === undefined ? {} : { notifyAs: args.notifyAs }),
      ...(args.newRoomName === undefined ? {} : { newRoomName: args.newRoomName }),
      ...(args.message === undefined ? {} : { message: args.message }),
    },
    submit: async () => {
      const started = await dependencies.admin.startDelete(roomId, {
        block: args.block,
        purge: args.purge,
        forcePurge: args.forcePurge,
        ...(args.notifyAs === undefined ? {} : { newRoomUserId: args.notifyAs }),
        ...(args.newRoomName === undefined ? {} : { roomName: args.newRoomName }),
        ...(args.message === undefined ? {} : { message: args.message }),
      });
      return started.ok ? ok(started.value.delete_id) : started;
    },
  });
  return launchOutcome(launched);
}
