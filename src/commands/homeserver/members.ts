import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { parseRoomOnly, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { present } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";

export interface MembersDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "roomMembers">;
  readonly targets: TargetRules;
}

export function membersCommand(dependencies: MembersDependencies) {
  return defineCommand<{ readonly room: RoomArgument }>({
    name: "members",
    summary: "List the users joined to a room, as this homeserver sees it.",
    details: ["Only joined members are listed (not invited, left or banned users); a long list is cut short with a count of the rest."],
    positionals: [{ name: "room", description: ROOM_EXPECTED }],
    flags: [],
    examples: ["!members #spam:example.org"],
    parse: parseRoomOnly,
    async execute(args): Promise<CommandOutcome> {
      const target = await resolveRoom(args.room, dependencies.targets.directory);
      if (!target.ok) return target.error;
      const { roomId, label } = target.value;
      const [details, members] = await Promise.all([dependencies.admin.roomDetails(roomId), dependencies.admin.roomMembers(roomId)]);
      if (!members.ok) {
        return members.error.kind === "not-found"
          ? { kind: "refused", reason: `${label} is not a room this homeserver knows, so it has no members to list.` }
          : { kind: "refused", reason: `could not list the members of ${label}: ${members.error.userMessage}` };
      }
      return {
        kind: "room-members",
        roomId,
        label,
        members: [...members.value.members].sort(),
        // The name only decorates the reply; a failed lookup of it does not hide the members.
        ...(details.ok ? present("roomName", details.value.name) : {}),
      };
    },
  });
}
