import type { RoomId, UserId } from "../../matrix/ids.js";
import { launchOutcome, taskOrigin } from "./launching.js";
import type { RoomDetailsBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { TaskLauncher } from "../../tasks/launcher.js";
import type { TaskRecord } from "../../tasks/types.js";
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
import type { ArgumentProblem, Words } from "../../model/commandSpec.js";
import type { WaveParameterValue } from "../../model/waves.js";
import { mediaPreview, purgePhasePreview } from "../../render/waves.js";
import { formatDuration } from "../../util/duration.js";

/**
 * When the rooms leave the database:
 * - members-seen (the default): emptied now with `purge: false`, so the kicked members' clients
 *   receive the leave; purged once they have seen it, at the latest shutdownPurgeAfter later;
 * - after (`--purge-after AGE`): emptied and blocked now, purged AGE later;
 * - now (`--purge-now`): emptied and purged at once; the purge deletes the leaves before the
 *   members' clients fetch them, so the room stays in their room lists;
 * - never (`--no-purge`).
 */
type PurgeWhen = { readonly kind: "members-seen" } | { readonly kind: "after"; readonly ms: number; readonly text: string } | { readonly kind: "now" } | { readonly kind: "never" };

interface ShutdownArguments {
  readonly room: RoomArgument;
  /** Every room named or selected: one listed room and no selection is the single-room shutdown. */
  readonly targets: RoomTargets;
  readonly purgeWhen: PurgeWhen;
  readonly block: boolean;
  readonly forcePurge: boolean;
  /** --quarantine-media: each room's media is quarantined right before each of its deletes. */
  readonly quarantineMedia: boolean;
  readonly notifyAs?: UserId;
  readonly newRoomName?: string;
  readonly message?: string;
}

const SHUTDOWN_SELECTIONS = ["matching", "space", "empty"] as const;

/** The shortest and longest cooldown of --purge-after: long enough for leaves to reach other servers, short enough to be remembered. */
const PURGE_AFTER_BOUNDS = { minMs: 60_000, maxMs: 90 * 86_400_000 };

/** The default bound of the wait for members' clients (config shutdownPurgeAfter). */
export const DEFAULT_SHUTDOWN_PURGE_AFTER_MS = 86_400_000;

/** The parameters every room of the shutdown gets, its wave's and its task's alike. */
function shutdownParameters(args: ShutdownArguments, deadlineMs: number): Record<string, WaveParameterValue> {
  const { purgeWhen } = args;
  return {
    // --purge-after blocks too: nobody may rejoin a room whose history is about to go.
    block: args.block || purgeWhen.kind === "after",
    // With a purge phase, the first delete keeps the room's data (and the members' leaves).
    purge: purgeWhen.kind === "now",
    forcePurge: args.forcePurge,
    ...(purgeWhen.kind === "after" ? { purgeAfterMs: purgeWhen.ms, purgeAfter: purgeWhen.text } : {}),
    ...(purgeWhen.kind === "members-seen" ? { purgeWhen: "members-seen", purgeDeadlineMs: deadlineMs } : {}),
    ...(args.quarantineMedia ? { quarantineMedia: true } : {}),
    ...(args.notifyAs === undefined ? {} : { notifyAs: args.notifyAs }),
    ...(args.newRoomName === undefined ? {} : { newRoomName: args.newRoomName }),
    ...(args.message === undefined ? {} : { message: args.message }),
  };
}

/** Several rooms, or a selection: a wave (with a board). */
function asWave(args: ShutdownArguments, deadlineMs: number): WaveOrder | undefined {
  if (isSingleRoom(args.targets)) return undefined;
  const parameters = shutdownParameters(args, deadlineMs);
  return {
    kind: "shutdown",
    targets: args.targets,
    // Blocking works on a room the homeserver does not know; shutting it down has nothing to do.
    unknownRooms: parameters["block"] === true ? "keep" : "leave-out",
    parameters,
  };
}

/** One room with a purge phase: both steps are followed by the wave engine, and told by the room's own task messages. */
function hasPurgePhase(args: ShutdownArguments): boolean {
  return args.purgeWhen.kind === "members-seen" || args.purgeWhen.kind === "after";
}

export interface ShutdownDependencies extends WaveCommandDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "startDelete">;
  readonly launcher: Pick<TaskLauncher, "launch" | "existing">;
  readonly targets: TargetRules;
  /** The longest a shutdown's purge waits for the kicked members' clients (config shutdownPurgeAfter). */
  readonly shutdownPurgeAfterMs?: number;
}

export function shutdownCommand(dependencies: ShutdownDependencies) {
  const deadlineMs = dependencies.shutdownPurgeAfterMs ?? DEFAULT_SHUTDOWN_PURGE_AFTER_MS;
  return defineCommand<ShutdownArguments>({
    name: "shutdown",
    summary: "Empty a room: kick its local users, move them to a new room if asked, and delete it from the database once they have seen that they left.",
    details: [
      "Uses Synapse's asynchronous room delete; progress is shown until it ends.",
      `Two steps: the room is emptied now and its data kept, so the kicked members' clients receive the leave; it is deleted from the database once their recently active devices have been seen since (at the latest ${formatDuration(deadlineMs)} later, config shutdownPurgeAfter). --purge-now deletes it at once, and the members' clients then keep the room in their room list.`,
      "Without --notify-as, users are removed without a new room to go to.",
      "If some users cannot be kicked the purge fails; --force-purge deletes the room anyway.",
      "A room this homeserver does not know can only be blocked (with --block), so it cannot be joined later.",
      "--quarantine-media quarantines each room's media as a step of its own right before each of its deletes (the purge step's too): the homeserver finds a room's media through its messages, so once the room is purged its media can no longer be found. A room whose media cannot be quarantined (on a worker deployment, where the media admin API is not routed to the media worker) is not deleted, and fails with the reason.",
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
      {
        name: "purge-now",
        kind: "boolean",
        description: "delete the rooms from the database at once, for the urgent case: the purge deletes the members' leave events before their clients sync, so the room stays in their room list",
      },
      { name: "block", kind: "boolean", description: "block the room so nobody on this server can join it again" },
      {
        name: "quarantine-media",
        kind: "boolean",
        description:
          "quarantine each room's media before the room is deleted, so it is no longer served: every file its messages name, local and remote, but protected ones (since Synapse 1.128 with every file of the same content); a room whose media cannot be quarantined is not deleted",
      },
      { name: "no-purge", kind: "boolean", description: "keep the room's data in the database" },
      { name: "force-purge", kind: "boolean", description: "delete even if some local users could not be kicked" },
      { name: "notify-as", kind: "text", valueName: "USER", description: "a local user who creates a new room and moves the members there" },
      { name: "room-name", kind: "text", valueName: "TEXT", description: "the new room's name" },
      { name: "message", kind: "text", valueName: "TEXT", description: "the message posted in the new room" },
    ],
    examples: [
      "!shutdown #spam:example.org --block",
      "!shutdown #spam:example.org --block --purge-now",
      '!shutdown !abc:example.org --block --notify-as @abuse:example.org --message "This room was closed."',
      "!shutdown --space #hostile-space:example.org --block",
      "!shutdown --matching casino --block --purge-after 7d",
      "!shutdown #spam:example.org --block --quarantine-media",
    ],
    parse(words) {
      const targets = parseRoomTargets(words, words.positionals, SHUTDOWN_SELECTIONS);
      if (!targets.ok) return targets;
      const purgeWhen = parsePurgeWhen(words);
      if (!purgeWhen.ok) return purgeWhen;
      const notifyAsText = textFlag(words, "notify-as");
      const notifyAs = notifyAsText === undefined ? undefined : parseUserArgument("--notify-as", notifyAsText);
      if (notifyAs !== undefined && !notifyAs.ok) return notifyAs;
      const forcePurge = booleanFlag(words, "force-purge");
      if (purgeWhen.value.kind === "never" && forcePurge) {
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
        purgeWhen: purgeWhen.value,
        block: booleanFlag(words, "block"),
        forcePurge,
        quarantineMedia: booleanFlag(words, "quarantine-media"),
        ...(notifyAs === undefined ? {} : { notifyAs: notifyAs.value }),
        ...(newRoomName === undefined ? {} : { newRoomName }),
        ...(message === undefined ? {} : { message }),
      });
    },
    execute: (args, context) => {
      const wave = asWave(args, deadlineMs);
      return wave === undefined ? executeShutdown(args, context, dependencies, deadlineMs) : startWave(wave, context, dependencies);
    },
    confirmation: {
      kind: () => "shutdown",
      // A selection always shows what it chose first; one room named follows confirmBefore.
      always: (args) => asWave(args, deadlineMs) !== undefined,
      preview: (args, context) => {
        const wave = asWave(args, deadlineMs);
        return wave === undefined ? previewShutdown(args, dependencies, deadlineMs) : previewWave(wave, context, dependencies);
      },
    },
  });
}

/** --purge-now, --purge-after AGE and --no-purge: at most one of them; none is the default two-step removal. */
function parsePurgeWhen(words: Words): Result<PurgeWhen, ArgumentProblem> {
  const afterText = textFlag(words, "purge-after");
  const now = booleanFlag(words, "purge-now");
  const never = booleanFlag(words, "no-purge");
  if (afterText !== undefined) {
    if (never) return err({ argument: "--purge-after", expected: "not together with --no-purge: --purge-after purges later, --no-purge never" });
    if (now) return err({ argument: "--purge-after", expected: "not together with --purge-now: --purge-after purges later, --purge-now at once" });
    const ms = parseDuration(afterText, PURGE_AFTER_BOUNDS);
    if (ms === undefined) return err({ argument: "--purge-after", given: afterText, expected: "an age between 1min and 90d, such as 7d, 12h or 30min (units: s, min, h, d)" });
    return ok({ kind: "after", ms, text: afterText });
  }
  if (now && never) return err({ argument: "--purge-now", expected: "not together with --no-purge: --purge-now purges at once, --no-purge never" });
  if (now) return ok({ kind: "now" });
  return ok(never ? { kind: "never" } : { kind: "members-seen" });
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

async function previewShutdown(args: ShutdownArguments, dependencies: ShutdownDependencies, deadlineMs: number): Promise<Result<Preview, Refusal>> {
  const prepared = await prepareShutdown(args, dependencies);
  if (!prepared.ok) return prepared;
  const { label, details } = prepared.value;
  const parameters = shutdownParameters(args, deadlineMs);
  const forced = args.forcePurge ? ", forced" : "";
  const purge = hasPurgePhase(args) ? `later, in a second step${forced}` : args.purgeWhen.kind === "now" ? `yes, at once (--purge-now)${forced}` : "no (--no-purge)";
  return ok({
    title: details !== undefined ? `shut down ${label}` : `block ${label}, which this homeserver does not know`,
    lines: [
      ...roomLines(label, details),
      { label: "Local members", value: details !== undefined ? `kicked${args.notifyAs === undefined ? "" : ` and moved to a new room created by ${args.notifyAs}`}` : "none" },
      { label: "Block afterwards", value: parameters["block"] === true ? "yes" : "no" },
      { label: "Delete from database", value: details === undefined ? "nothing to delete" : purge },
      ...(details === undefined ? [] : purgePhasePreview(parameters)),
      ...mediaPreview(parameters, details !== undefined),
      ...(args.newRoomName === undefined ? [] : [{ label: "New room name", value: args.newRoomName }]),
      ...(args.message === undefined ? [] : [{ label: "Message in the new room", value: args.message }]),
    ],
  });
}

/**
 * A delete of the room is running (a shutdown sent just before): joining it would leave the media
 * unquarantined, and once a delete has purged the room its media can no longer be found.
 */
function mediaNotBeforeRunning(running: TaskRecord, prefix: string): Refusal {
  return {
    kind: "refused",
    reason: `${running.kind} ${running.id} of ${running.roomLabel} is still running, and --quarantine-media quarantines a room's media right before Warden's own delete of it; the homeserver runs one delete of a room at a time, so nothing was sent.`,
    hint: `Send the command again once ${running.id} has ended (${prefix}status ${running.id}).`,
  };
}

async function executeShutdown(args: ShutdownArguments, context: CommandContext, dependencies: ShutdownDependencies, deadlineMs: number): Promise<CommandOutcome> {
  const prepared = await prepareShutdown(args, dependencies);
  if (!prepared.ok) return prepared.error;
  const { roomId, label, details } = prepared.value;
  const parameters = shutdownParameters(args, deadlineMs);
  const { block, purge, forcePurge } = parameters;
  const taskParameters = {
    knownRoom: details !== undefined,
    roomName: details?.name ?? "",
    joinedMembers: details?.joined_members ?? 0,
    joinedLocalMembers: details?.joined_local_members ?? 0,
    block: block === true,
    // A room the homeserver does not know has no data to keep for a later purge: one delete blocks it.
    purge: purge === true || (details === undefined && args.purgeWhen.kind !== "never"),
    forcePurge: forcePurge === true,
    ...(args.notifyAs === undefined ? {} : { notifyAs: args.notifyAs }),
    ...(args.newRoomName === undefined ? {} : { newRoomName: args.newRoomName }),
    ...(args.message === undefined ? {} : { message: args.message }),
  };
  if (details !== undefined && (hasPurgePhase(args) || args.quarantineMedia)) {
    // A shutdown of this room already running answers this one (it does as much) or refuses it.
    const running = dependencies.launcher.existing("shutdown", roomId, taskParameters);
    if (running !== undefined) return args.quarantineMedia ? mediaNotBeforeRunning(running.task, context.prefix) : launchOutcome(running, context.prefix);
    // Both steps as a wave of one room, so the purge step is stored, survives restarts and can be
    // cancelled; without a board, its tasks' own messages answer, and it is sent at once. The
    // media quarantine is a step of the wave too, stored before the delete is sent.
    const wave = await dependencies.waves.start({
      kind: "shutdown",
      requester: context.requester,
      managementRoomId: context.managementRoomId,
      commandEventId: context.commandEventId,
      selection: { listed: args.targets.listedText },
      parameters,
      rooms: [{ roomId, label, ...(details.name === null || details.name === undefined ? {} : { name: details.name }), joinedMembers: details.joined_members, joinedLocalMembers: details.joined_local_members }],
      leftOut: [],
      board: false,
    });
    return { kind: "wave-started", wave };
  }
  const launched = await dependencies.launcher.launch({
    kind: "shutdown",
    roomId,
    roomLabel: label,
    ...taskOrigin(context),
    parameters: taskParameters,
    submit: async () => {
      const started = await dependencies.admin.startDelete(roomId, {
        block: taskParameters.block,
        purge: taskParameters.purge,
        forcePurge: taskParameters.forcePurge,
        ...(args.notifyAs === undefined ? {} : { newRoomUserId: args.notifyAs }),
        ...(args.newRoomName === undefined ? {} : { roomName: args.newRoomName }),
        ...(args.message === undefined ? {} : { message: args.message }),
      });
      return started.ok ? ok(started.value.delete_id) : started;
    },
  });
  return launchOutcome(launched, context.prefix);
}
