import type { RoomDetailsBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import { parseRoomOnly, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { present, type BlockFact, type RoomFacts } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";

export interface RoomDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "blockStatus">;
  readonly targets: TargetRules;
}

export function roomCommand(dependencies: RoomDependencies) {
  return defineCommand<{ readonly room: RoomArgument }>({
    name: "room",
    summary: "Show what the homeserver knows about a room, and whether it is blocked.",
    details: [
      "Name, canonical alias, topic, creator, version, members (joined and local), encryption, whether it is public, join rules, history visibility and the number of state events.",
      "A room the homeserver does not know is reported as such, with its block status: a room can be blocked before anyone here joins it.",
    ],
    positionals: [{ name: "room", description: ROOM_EXPECTED }],
    flags: [],
    examples: ["!room #spam:example.org", "!room !abc:example.org"],
    parse: parseRoomOnly,
    async execute(args): Promise<CommandOutcome> {
      const target = await resolveRoom(args.room, dependencies.targets.directory);
      if (!target.ok) return target.error;
      const { roomId, label } = target.value;
      const [details, block] = await Promise.all([dependencies.admin.roomDetails(roomId), dependencies.admin.blockStatus(roomId)]);
      if (!details.ok && details.error.kind !== "not-found") {
        return { kind: "refused", reason: `could not look up ${label}: ${details.error.userMessage}` };
      }
      const blockFact: BlockFact = block.ok
        ? { read: true, blocked: block.value.block, ...present("blockedBy", block.value.user_id) }
        : { read: false, problem: block.error.userMessage };
      return { kind: "room-info", roomId, label, ...(details.ok ? { room: roomFacts(details.value) } : {}), block: blockFact };
    },
  });
}

/** Synapse's nulls become absent fields, so the reply can say "none" in one place. */
export function roomFacts(details: RoomDetailsBody): RoomFacts {
  return {
    joinedMembers: details.joined_members,
    joinedLocalMembers: details.joined_local_members,
    ...present("name", details.name),
    ...present("canonicalAlias", details.canonical_alias),
    ...present("topic", details.topic),
    ...present("creator", details.creator),
    ...present("version", details.version),
    ...present("encryption", details.encryption),
    ...present("public", details.public),
    ...present("joinRules", details.join_rules),
    ...present("historyVisibility", details.history_visibility),
    ...present("stateEvents", details.state_events),
    ...present("roomType", details.room_type),
  };
}
