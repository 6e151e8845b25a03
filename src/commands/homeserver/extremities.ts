import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { parseRoomArgument, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { booleanFlag } from "../parsing/words.js";
import { defineCommand } from "../spec.js";
import { EXTREMITIES_WARNING, type Extremity } from "../../model/extremities.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import type { Preview } from "../../model/commandSpec.js";
import { resolveRoom, type Target, type TargetRules } from "../parsing/targets.js";
import { present } from "../../model/lookups.js";
import { roomLines } from "../confirmation/previews.js";

/** How many of the newest extremities a reply lists. */
export const NEWEST_SHOWN = 5;

export interface ExtremitiesDependencies {
  readonly admin: Pick<SynapseAdminClient, "forwardExtremities" | "deleteForwardExtremities" | "roomDetails">;
  readonly targets: TargetRules;
}

interface ExtremitiesArguments {
  readonly room: RoomArgument;
  readonly delete: boolean;
}

interface Reading {
  readonly target: Target;
  readonly count: number;
  readonly newest: readonly Extremity[];
}

export function extremitiesCommand(dependencies: ExtremitiesDependencies) {
  return defineCommand<ExtremitiesArguments>({
    name: "extremities",
    summary: "Show a room's forward extremities (how many, and the newest), or delete the extra ones after a preview.",
    details: [
      "Many forward extremities make sending and joining slow in a room (Synapse issue #1760).",
      "--delete keeps the newest extremity and deletes the rest, after a preview that carries Synapse's own warning.",
    ],
    positionals: [{ name: "room", description: ROOM_EXPECTED }],
    flags: [{ name: "delete", kind: "boolean", description: "delete the extra forward extremities (after a preview)" }],
    examples: ["!extremities #busy:example.org", "!extremities !abc:example.org --delete"],
    parse(words) {
      const room = parseRoomArgument("<room>", words.positionals[0] ?? "");
      return room.ok ? ok({ room: room.value, delete: booleanFlag(words, "delete") }) : room;
    },
    async execute(args): Promise<CommandOutcome> {
      const reading = await read(args.room, dependencies);
      if (!reading.ok) return reading.error;
      const { target, count, newest } = reading.value;
      if (!args.delete) return { kind: "extremities", roomId: target.roomId, label: target.label, count, newest };
      // Synapse fails with a 500 when a room has no extremity at all; with one there is nothing to delete.
      if (count <= 1) return { kind: "refused", reason: `${target.label} has ${count} forward ${count === 1 ? "extremity" : "extremities"}; there is nothing to delete.` };
      const deleted = await dependencies.admin.deleteForwardExtremities(target.roomId);
      if (!deleted.ok) return { kind: "refused", reason: `could not delete the forward extremities of ${target.label}: ${deleted.error.userMessage}` };
      return { kind: "extremities-deleted", roomId: target.roomId, label: target.label, before: count, deleted: deleted.value.deleted };
    },
    confirmation: {
      kind: (args) => (args.delete ? "extremities" : undefined),
      preview: (args) => previewDelete(args, dependencies),
    },
  });
}

async function read(room: RoomArgument, dependencies: ExtremitiesDependencies): Promise<Result<Reading, Refusal>> {
  const target = await resolveRoom(room, dependencies.targets.directory);
  if (!target.ok) return target;
  const found = await dependencies.admin.forwardExtremities(target.value.roomId);
  if (!found.ok) {
    return err({
      kind: "refused",
      reason:
        found.error.kind === "not-found"
          ? `${target.value.label} is not a room this homeserver knows.`
          : `could not read the forward extremities of ${target.value.label}: ${found.error.userMessage}`,
    });
  }
  const newest = [...found.value.results]
    .sort((a, b) => (b.received_ts ?? 0) - (a.received_ts ?? 0) || (b.depth ?? 0) - (a.depth ?? 0))
    .slice(0, NEWEST_SHOWN)
    .map((extremity) => ({ eventId: extremity.event_id, ...present("depth", extremity.depth), ...present("receivedTs", extremity.received_ts) }));
  return ok({ target: target.value, count: found.value.count, newest });
}

async function previewDelete(args: ExtremitiesArguments, dependencies: ExtremitiesDependencies): Promise<Result<Preview, Refusal>> {
  const reading = await read(args.room, dependencies);
  if (!reading.ok) return reading;
  const { target, count, newest } = reading.value;
  if (count <= 1) return err({ kind: "refused", reason: `${target.label} has ${count} forward ${count === 1 ? "extremity" : "extremities"}; there is nothing to delete.` });
  const details = await dependencies.admin.roomDetails(target.roomId);
  return ok({
    title: `delete the extra forward extremities of ${target.label}`,
    lines: [
      ...roomLines(target.label, details.ok ? details.value : undefined),
      { label: "Forward extremities", value: `${count}; ${count - 1} would be deleted and the newest kept` },
      { label: "Newest", value: newest.map((extremity) => extremity.eventId).join(", ") },
      { label: "Warning", value: EXTREMITIES_WARNING },
    ],
  });
}
