import type { RoomId } from "../../matrix/ids.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { BLOCK_POSITIONALS, BLOCK_SELECTION_FLAGS, blockConfirmation, blockWave, parseBlockArguments, type BlockArguments } from "../waves/blockWaves.js";
import { QUARANTINE_MEDIA_ELSEWHERE } from "../waves/selection.js";
import { startWave, type WaveCommandDependencies } from "../waves/waves.js";
import { present } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome, type Refusal } from "../../model/outcomes.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";

export interface BlockDependencies extends WaveCommandDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "blockStatus" | "setBlocked">;
  readonly targets: TargetRules;
}

export function blockCommand(dependencies: BlockDependencies) {
  return defineCommand<BlockArguments>({
    name: "block",
    summary: "Block a room: nobody on this homeserver can join or create it until it is unblocked.",
    details: [
      "Works for rooms this homeserver does not know yet: they are blocked in advance.",
      "Members already in the room stay; !shutdown empties a room.",
      "Warden's management room and the rooms in protectedRooms are never blocked: that would lock the moderators out.",
    ],
    positionals: BLOCK_POSITIONALS,
    flags: BLOCK_SELECTION_FLAGS,
    misplacedFlags: [QUARANTINE_MEDIA_ELSEWHERE],
    examples: ["!block #spam:example.org", "!block !abc:remote.example", "!block --space #hostile:example.org"],
    parse: parseBlockArguments,
    confirmation: blockConfirmation("block", dependencies),
    async execute(args, context): Promise<CommandOutcome> {
      const wave = blockWave("block", args);
      if (wave !== undefined) return startWave(wave, context, dependencies);
      const target = await resolveRoom(args.room, dependencies.targets.directory);
      if (!target.ok) return target.error;
      const { roomId, label } = target.value;
      const { managementRoomId, protectedRooms } = dependencies.targets;
      if (roomId === managementRoomId) {
        return { kind: "refused", reason: `${label} is Warden's own management room; blocking it would lock the moderators out.` };
      }
      const protectedRoomIds = await protectedRooms.current();
      if (!protectedRoomIds.ok) return { kind: "refused", reason: `Warden will not block ${label}: ${protectedRoomIds.error}` };
      if (protectedRoomIds.value.has(roomId)) {
        return { kind: "refused", reason: `${label} is listed in protectedRooms in Warden's config; Warden will not block it.` };
      }
      const state = await readBlockState(roomId, label, dependencies.admin);
      if (!state.ok) return state.error;
      const facts = { kind: "room-block", action: "block", roomId, label, knownRoom: state.value.knownRoom, ...present("roomName", state.value.roomName) } as const;
      if (state.value.blocked) return { ...facts, changed: false, ...present("blockedBy", state.value.blockedBy) };
      const set = await dependencies.admin.setBlocked(roomId, true);
      if (!set.ok) return { kind: "refused", reason: `could not block ${label}: ${set.error.userMessage}` };
      return { ...facts, changed: true };
    },
  });
}

export interface BlockState {
  readonly knownRoom: boolean;
  readonly roomName?: string;
  readonly blocked: boolean;
  readonly blockedBy?: string;
}

/** Whether the homeserver knows the room (only for the reply) and whether it is blocked now. */
export async function readBlockState(
  roomId: RoomId,
  label: string,
  admin: Pick<SynapseAdminClient, "roomDetails" | "blockStatus">,
): Promise<Result<BlockState, Refusal>> {
  const [details, block] = await Promise.all([admin.roomDetails(roomId), admin.blockStatus(roomId)]);
  if (!details.ok && details.error.kind !== "not-found") {
    return err({ kind: "refused", reason: `could not look up ${label}: ${details.error.userMessage}` });
  }
  if (!block.ok) return err({ kind: "refused", reason: `could not read whether ${label} is blocked: ${block.error.userMessage}` });
  return ok({
    knownRoom: details.ok,
    blocked: block.value.block,
    ...(details.ok ? present("roomName", details.value.name) : {}),
    ...present("blockedBy", block.value.user_id),
  });
}
