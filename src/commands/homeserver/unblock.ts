import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { BLOCK_POSITIONALS, BLOCK_SELECTION_FLAGS, blockConfirmation, blockWave, parseBlockArguments, type BlockArguments } from "../waves/blockWaves.js";
import { QUARANTINE_MEDIA_ELSEWHERE } from "../waves/selection.js";
import { startWave, type WaveCommandDependencies } from "../waves/waves.js";
import { readBlockState } from "./block.js";
import { present } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";

export interface UnblockDependencies extends WaveCommandDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "blockStatus" | "setBlocked">;
  readonly targets: TargetRules;
}

export function unblockCommand(dependencies: UnblockDependencies) {
  return defineCommand<BlockArguments>({
    name: "unblock",
    summary: "Lift a room's block, so users of this homeserver can join it again.",
    details: ["Works for rooms this homeserver does not know as well; a room that is not blocked is left as it is."],
    positionals: BLOCK_POSITIONALS,
    flags: BLOCK_SELECTION_FLAGS,
    misplacedFlags: [QUARANTINE_MEDIA_ELSEWHERE],
    examples: ["!unblock !abc:example.org", "!unblock !a:example.org !b:example.org"],
    parse: parseBlockArguments,
    confirmation: blockConfirmation("unblock", dependencies),
    async execute(args, context): Promise<CommandOutcome> {
      const wave = blockWave("unblock", args);
      if (wave !== undefined) return startWave(wave, context, dependencies);
      const target = await resolveRoom(args.room, dependencies.targets.directory);
      if (!target.ok) return target.error;
      const { roomId, label } = target.value;
      const state = await readBlockState(roomId, label, dependencies.admin);
      if (!state.ok) return state.error;
      const facts = { kind: "room-block", action: "unblock", roomId, label, knownRoom: state.value.knownRoom, ...present("roomName", state.value.roomName) } as const;
      if (!state.value.blocked) return { ...facts, changed: false };
      const set = await dependencies.admin.setBlocked(roomId, false);
      if (!set.ok) return { kind: "refused", reason: `could not unblock ${label}: ${set.error.userMessage}` };
      return { ...facts, changed: true };
    },
  });
}
