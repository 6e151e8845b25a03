import type { EventId, RoomId } from "../../matrix/ids.js";
import { findPurgeBoundary, isNothingToPurge } from "../../tasks/kinds/purgePoint.js";
import { launchOutcome, taskOrigin } from "./launching.js";
import type { RoomDetailsBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { TaskLauncher } from "../../tasks/launcher.js";
import type { Clock } from "../../util/clock.js";
import { formatUtc } from "../../util/duration.js";
import { err, ok } from "../../util/result.js";
import { isSingleRoom, parseRoomTargets, QUARANTINE_MEDIA_ELSEWHERE, selectionFlags, type RoomTargets } from "../waves/selection.js";
import { previewWave, startWave, type WaveCommandDependencies, type WaveOrder } from "../waves/waves.js";
import { parsePurgePoint, parseRoomArgument, POINT_EXPECTED, ROOM_EXPECTED, type PurgePoint, type RoomArgument } from "../parsing/arguments.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { type Preview, type PreviewLine } from "../../model/commandSpec.js";
import { type CommandOutcome, type Refusal } from "../../model/outcomes.js";
import { estimateLines, estimatePurge, roomLines } from "../confirmation/previews.js";
import type { Result } from "../../util/result.js";
import { resolveDestructiveTarget, type TargetRules } from "../parsing/targets.js";
import { booleanFlag, textFlag } from "../parsing/words.js";

interface PurgeArguments {
  readonly room: RoomArgument;
  /** Every room named or selected: one listed room and no selection is the single-room purge. */
  readonly targets: RoomTargets;
  readonly point: PurgePoint;
  readonly deleteLocalEvents: boolean;
  readonly reason?: string;
}

export interface PurgeDependencies extends WaveCommandDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "fetchEvent" | "startPurge" | "roomMessages" | "timestampToEvent">;
  readonly launcher: Pick<TaskLauncher, "launch">;
  readonly targets: TargetRules;
  readonly clock: Clock;
}

const PURGE_SELECTIONS = ["matching", "space", "empty", "all"] as const;

/** A purge of several rooms: a wave, with the same point for every room, resolved per room when it is sent. */
function purgeWave(args: PurgeArguments & { point: Extract<PurgePoint, { kind: "time" }> }): WaveOrder {
  return {
    kind: "purge",
    targets: args.targets,
    unknownRooms: "leave-out",
    parameters: {
      cutoffTs: args.point.timestamp,
      cutoff: formatUtc(args.point.timestamp),
      deleteLocalEvents: args.deleteLocalEvents,
      ...(args.reason === undefined ? {} : { reason: args.reason }),
    },
  };
}

function asWave(args: PurgeArguments): WaveOrder | undefined {
  if (isSingleRoom(args.targets) || args.point.kind !== "time") return undefined;
  return purgeWave({ ...args, point: args.point });
}

export function purgeCommand(dependencies: PurgeDependencies) {
  return defineCommand<PurgeArguments>({
    name: "purge",
    summary: "Delete a room's history up to a point (remote users' messages; local ones too with --local).",
    details: [
      "Room state (name, topic, members) is always kept, and so is the event named as the point.",
      "A time is compared with when each event was sent (its sender's clock), and resolved to this room's first event at or after it: that event and everything after it stay. A room's newest event always stays.",
      "Without --local, messages sent by this server's own users are kept: they may be the only copy.",
    ],
    positionals: [
      { name: "room", description: `${ROOM_EXPECTED}; several rooms (or a selection flag instead) make one wave`, repeatable: true },
      { name: "point", description: POINT_EXPECTED },
    ],
    flags: [
      { name: "local", kind: "boolean", description: "also delete messages sent by this server's users" },
      { name: "reason", kind: "text", valueName: "TEXT", description: "why, for the record" },
      ...selectionFlags(PURGE_SELECTIONS),
    ],
    misplacedFlags: [QUARANTINE_MEDIA_ELSEWHERE],
    examples: [
      "!purge #spam:example.org 30d",
      "!purge !abc:example.org 2024-05-01T12:00Z --local --reason \"spam wave\"",
      "!purge #spam1:example.org #spam2:example.org 7d",
      "!purge --matching casino 2026-05-01 --local",
      "!purge --all 180d --dry-run",
    ],
    parse(words) {
      const roomWords = words.positionals.slice(0, -1);
      const pointWord = words.positionals.at(-1) ?? "";
      // "!purge #room" with no point: say the point is missing, not that "#room" is a bad point.
      if (roomWords.length === 0 && parseRoomArgument("<room>", pointWord).ok && !parsePurgePoint("<point>", pointWord, dependencies.clock.now()).ok) {
        return err({ argument: "<point>", expected: POINT_EXPECTED });
      }
      const targets = parseRoomTargets(words, roomWords, PURGE_SELECTIONS);
      if (!targets.ok) return targets;
      const point = parsePurgePoint("<point>", pointWord, dependencies.clock.now());
      if (!point.ok) return point;
      if (!isSingleRoom(targets.value) && point.value.kind === "event") {
        return err({
          argument: "<point>",
          given: pointWord,
          expected: "a time or an age (such as 30d or 2026-05-01) when purging several rooms: an event belongs to one room",
        });
      }
      const reason = textFlag(words, "reason");
      const first = targets.value.listed[0];
      return ok({
        // The single-room form reads `room`; a wave reads `targets`.
        room: first ?? { kind: "id", roomId: "" as RoomId },
        targets: targets.value,
        point: point.value,
        deleteLocalEvents: booleanFlag(words, "local"),
        ...(reason === undefined ? {} : { reason }),
      });
    },
    execute: (args, context) => {
      const wave = asWave(args);
      return wave === undefined ? executePurge(args, context, dependencies) : startWave(wave, context, dependencies);
    },
    confirmation: {
      // Two kinds: only --local deletes what may be the only copy of local users' messages, so
      // by default only that one asks; a server can make every purge ask with "purge".
      kind: (args) => (args.deleteLocalEvents ? "purge-local" : "purge"),
      // A wave always shows what it selected first, whatever confirmBefore says.
      always: (args) => asWave(args) !== undefined,
      preview: (args, context) => {
        const wave = asWave(args);
        return wave === undefined ? previewPurge(args, dependencies) : previewWave(wave, context, dependencies);
      },
    },
  });
}

/** Where the purge stops, as recorded in the task: the moderator's point and the event it resolved to. */
interface Cutoff {
  /** The moderator's time (for an event point, the event's own sending time). */
  readonly cutoffTs: number;
  readonly cutoff: string;
  /** The event Synapse purges up to: it and everything after it stay. */
  readonly eventId: EventId;
}

/** What both the preview and the run need: the room, its details and the cut-off. */
interface PreparedPurge {
  readonly roomId: RoomId;
  readonly label: string;
  readonly details: RoomDetailsBody;
  readonly cutoff: Cutoff;
  /** For a time point, the event it resolved to, for the preview. */
  readonly boundary?: PreviewLine;
}

async function preparePurge(args: PurgeArguments, dependencies: PurgeDependencies): Promise<Result<PreparedPurge, Refusal>> {
  const target = await resolveDestructiveTarget(args.room, dependencies.targets);
  if (!target.ok) return target;
  const { roomId, label } = target.value;
  const details = await dependencies.admin.roomDetails(roomId);
  if (!details.ok) {
    return err({
      kind: "refused",
      reason:
        details.error.kind === "not-found"
          ? `${label} is not a room this homeserver knows, so it has no history to purge.`
          : `could not look up ${label}: ${details.error.userMessage}`,
    });
  }
  const cutoff = args.point.kind === "time" ? await resolveTimePoint(args.point.timestamp, roomId, label, dependencies) : await describeEventPoint(args.point.eventId, roomId, label, dependencies);
  if (!cutoff.ok) return cutoff;
  return ok({ roomId, label, details: details.value, ...cutoff.value });
}

async function previewPurge(args: PurgeArguments, dependencies: PurgeDependencies): Promise<Result<Preview, Refusal>> {
  const prepared = await preparePurge(args, dependencies);
  if (!prepared.ok) return prepared;
  const { roomId, label, details, cutoff, boundary } = prepared.value;
  const estimate = await estimatePurge(dependencies.admin, roomId, cutoff.cutoffTs);
  return ok({
    title: `purge the history of ${label}`,
    lines: [
      ...roomLines(label, details),
      { label: "Removes history before", value: cutoff.cutoff },
      // An event point names itself; a time point is shown as the event it resolved to.
      ...(boundary === undefined ? [] : [boundary]),
      ...estimateLines(estimate),
      { label: "Local users' messages", value: args.deleteLocalEvents ? "deleted too (--local)" : "kept" },
      ...(args.reason === undefined ? [] : [{ label: "Reason", value: args.reason }]),
    ],
  });
}

async function executePurge(args: PurgeArguments, context: CommandContext, dependencies: PurgeDependencies): Promise<CommandOutcome> {
  const prepared = await preparePurge(args, dependencies);
  if (!prepared.ok) return prepared.error;
  const { roomId, label, details, cutoff } = prepared.value;
  const launched = await dependencies.launcher.launch({
    kind: "purge",
    roomId,
    roomLabel: label,
    ...taskOrigin(context),
    parameters: {
      roomName: details.name ?? "",
      deleteLocalEvents: args.deleteLocalEvents,
      ...cutoff,
      ...(args.reason === undefined ? {} : { reason: args.reason }),
    },
    submit: async () => {
      // Always by event: purge_up_to_ts would stop at the wrong event on a busy server (see resolveTimePoint).
      const started = await dependencies.admin.startPurge(roomId, { eventId: cutoff.eventId }, args.deleteLocalEvents);
      if (started.ok) return ok(started.value.purge_id);
      if (isNothingToPurge(started.error)) {
        return err({ ...started.error, userMessage: `nothing to purge: no event of this room lies before ${cutoff.cutoff}` });
      }
      return started;
    },
  });
  return launchOutcome(launched, context.prefix);
}

/** A time point resolved to this room's boundary (see findPurgeBoundary), with the texts the preview and the task show. */
async function resolveTimePoint(
  timestamp: number,
  roomId: RoomId,
  label: string,
  dependencies: PurgeDependencies,
): Promise<Result<{ cutoff: Cutoff; boundary: PreviewLine }, Refusal>> {
  const at = formatUtc(timestamp);
  const found = await findPurgeBoundary(dependencies.admin, roomId, timestamp);
  if (!found.ok) {
    if (found.error.kind === "admin") return err({ kind: "refused", reason: `could not find where ${at} falls in ${label}: ${found.error.error.userMessage}` });
    const { newest } = found.error;
    return err({
      kind: "refused",
      reason:
        newest === undefined
          ? `nothing to purge: no event of ${label} was sent before ${at}.`
          : `nothing to purge: only the newest event of ${label} (${newest.eventId}, sent ${formatUtc(newest.sentTs)}), which Synapse always keeps, lies before ${at}.`,
    });
  }
  const { eventId, sentTs, newestOnly } = found.value;
  const sent = formatUtc(sentTs);
  if (!newestOnly) {
    return ok({
      cutoff: { cutoffTs: timestamp, cutoff: at, eventId },
      boundary: { label: "Kept from", value: `${eventId}, sent ${sent} (this room's first event at or after the point)` },
    });
  }
  return ok({
    cutoff: {
      cutoffTs: timestamp,
      cutoff: `${at} (nothing in this room was sent after it: its newest event stays, as Synapse always keeps a room's newest event)`,
      eventId,
    },
    boundary: {
      label: "Kept",
      value: `only the room's newest event ${eventId}, sent ${sent}: nothing was sent after the point, and Synapse always keeps a room's newest event`,
    },
  });
}

/** Checks an event point against the room and states the cut-off in absolute UTC. */
async function describeEventPoint(eventId: EventId, roomId: RoomId, label: string, dependencies: PurgeDependencies): Promise<Result<{ cutoff: Cutoff }, Refusal>> {
  const fetched = await dependencies.admin.fetchEvent(eventId);
  if (!fetched.ok) {
    const reason: Refusal =
      fetched.error.kind === "not-found"
        ? { kind: "refused", reason: `the event ${eventId} is not known to this homeserver (or was already purged).` }
        : { kind: "refused", reason: `could not look up the event ${eventId}: ${fetched.error.userMessage}` };
    return err(reason);
  }
  if (fetched.value.event.room_id !== roomId) {
    return err<Refusal>({
      kind: "refused",
      reason: `the event ${eventId} belongs to ${fetched.value.event.room_id}, not to ${label}.`,
      hint: "Give an event of the room being purged.",
    });
  }
  const sent = fetched.value.event.origin_server_ts;
  return ok({ cutoff: { eventId, cutoffTs: sent, cutoff: `${formatUtc(sent)} (the event's own time; it is kept)` } });
}
