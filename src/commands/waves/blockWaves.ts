import type { ArgumentProblem, PositionalSpec, Preview, Words } from "../../model/commandSpec.js";
import type { Refusal } from "../../model/outcomes.js";
import type { RoomId } from "../../matrix/ids.js";
import { ok, type Result } from "../../util/result.js";
import { ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import type { CommandContext } from "../spec.js";
import { isSingleRoom, parseRoomTargets, selectionFlags, type RoomTargets } from "./selection.js";
import { previewWave, type WaveCommandDependencies, type WaveOrder } from "./waves.js";

/** !block and !unblock take several rooms, or a selection; a single room keeps its direct answer. */
export interface BlockArguments {
  readonly room: RoomArgument;
  readonly targets: RoomTargets;
}

const BLOCK_SELECTIONS = ["matching", "space", "empty"] as const;

export const BLOCK_POSITIONALS: readonly PositionalSpec[] = [
  { name: "room", description: `${ROOM_EXPECTED}; several rooms (or a selection flag instead) make one wave`, repeatable: true },
];

export const BLOCK_SELECTION_FLAGS = selectionFlags(BLOCK_SELECTIONS);

export function parseBlockArguments(words: Words): Result<BlockArguments, ArgumentProblem> {
  const targets = parseRoomTargets(words, words.positionals, BLOCK_SELECTIONS);
  if (!targets.ok) return targets;
  return ok({ room: targets.value.listed[0] ?? { kind: "id", roomId: "" as RoomId }, targets: targets.value });
}

export function blockWave(kind: "block" | "unblock", args: BlockArguments): WaveOrder | undefined {
  if (isSingleRoom(args.targets)) return undefined;
  // Blocking works on rooms the homeserver does not know yet (they cannot be created or joined later).
  return { kind, targets: args.targets, unknownRooms: "keep", parameters: {} };
}

/** A wave always previews first (unless --yes); a single room runs at once, or shows the same preview with --dry-run. */
export function blockConfirmation(kind: "block" | "unblock", dependencies: WaveCommandDependencies) {
  const orderOf = (args: BlockArguments): WaveOrder => blockWave(kind, args) ?? { kind, targets: args.targets, unknownRooms: "keep", parameters: {} };
  return {
    kind: () => undefined,
    always: (args: BlockArguments) => blockWave(kind, args) !== undefined,
    preview: (args: BlockArguments, context: CommandContext): Promise<Result<Preview, Refusal>> => previewWave(orderOf(args), context, dependencies),
  };
}
