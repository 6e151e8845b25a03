import type { UserId } from "../../matrix/ids.js";
import type { AdminError, SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok } from "../../util/result.js";
import { parseRoomArgument, parseUserArgument, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { present } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome, type Refusal } from "../../model/outcomes.js";
import { resolveRoom, type TargetRules } from "../parsing/targets.js";

interface MakeAdminArguments {
  readonly room: RoomArgument;
  readonly user?: UserId;
}

export interface MakeAdminDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "makeRoomAdmin">;
  readonly targets: TargetRules;
}

export function makeAdminCommand(dependencies: MakeAdminDependencies) {
  return defineCommand<MakeAdminArguments>({
    name: "make-admin",
    summary: "Take back control of a room: give a user (Warden's own account by default) the power of the room's most powerful local user.",
    details: [
      "Uses Synapse's make-room-admin API, which acts through a user of this homeserver who is joined to the room and holds power there.",
      "A user not in the room is invited to it, unless the room is public (then they can simply join).",
      "It cannot help in a room where no user of this homeserver holds power.",
    ],
    positionals: [
      { name: "room", description: ROOM_EXPECTED },
      { name: "user", description: "the user to make an admin, as a full user ID (default: Warden's own account)", optional: true },
    ],
    flags: [],
    examples: ["!make-admin #hijacked:example.org", "!make-admin !abc:example.org @alice:example.org"],
    parse(words) {
      const room = parseRoomArgument("<room>", words.positionals[0] ?? "");
      if (!room.ok) return room;
      const userWord = words.positionals[1];
      if (userWord === undefined) return ok({ room: room.value });
      const user = parseUserArgument("[user]", userWord);
      return user.ok ? ok({ room: room.value, user: user.value }) : user;
    },
    async execute(args): Promise<CommandOutcome> {
      const target = await resolveRoom(args.room, dependencies.targets.directory);
      if (!target.ok) return target.error;
      const { roomId, label } = target.value;
      const details = await dependencies.admin.roomDetails(roomId);
      if (!details.ok) {
        return details.error.kind === "not-found"
          ? { kind: "refused", reason: `${label} is not a room this homeserver knows, so it has no local user to take power from.` }
          : { kind: "refused", reason: `could not look up ${label}: ${details.error.userMessage}` };
      }
      const granted = await dependencies.admin.makeRoomAdmin(roomId, args.user);
      if (!granted.ok) return explainFailure(granted.error, label, args.user);
      return {
        kind: "room-admin-granted",
        roomId,
        label,
        ...present("roomName", details.value.name),
        ...present("user", args.user),
      };
    },
  });
}

/** Synapse answers 400 with a short English sentence; these are the ones a moderator can act on. */
function explainFailure(error: AdminError, label: string, user: UserId | undefined): Refusal {
  const who = user ?? "Warden's account";
  const detail = error.detail ?? "";
  if (error.kind === "bad-request" && /no local admin user in room with power/i.test(detail)) {
    return {
      kind: "refused",
      reason: `the most powerful user of this homeserver in ${label} may not change its power levels, so ${who} could not be given power (the homeserver said: ${detail}).`,
    };
  }
  if (error.kind === "bad-request" && /no local admin user/i.test(detail)) {
    return {
      kind: "refused",
      reason: `no user of this homeserver who is still joined to ${label} holds power there, so there is nobody to grant power through (the homeserver said: ${detail}).`,
      hint: "make-admin only takes back rooms where a local user still has power; a room run from other servers cannot be taken over this way.",
    };
  }
  if (error.kind === "bad-request" && /server not in room/i.test(detail)) {
    return { kind: "refused", reason: `this homeserver is not in ${label} any more, so it cannot change its power levels (the homeserver said: ${detail}).` };
  }
  return { kind: "refused", reason: `could not make ${who} an admin of ${label}: ${error.userMessage}` };
}
