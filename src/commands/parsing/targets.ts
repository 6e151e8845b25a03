import type { RoomDirectory } from "../../matrix/chat.js";
import type { RoomId } from "../../matrix/ids.js";
import { err, ok, type Result } from "../../util/result.js";
import type { RoomArgument } from "./arguments.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import type { ProtectedRoomSource } from "./protectedRooms.js";

export interface TargetRules {
  readonly directory: RoomDirectory;
  readonly managementRoomId: RoomId;
  /** Rooms that no destructive command may touch, resolved when such a command is prepared. */
  readonly protectedRooms: ProtectedRoomSource;
}

export interface Target {
  readonly roomId: RoomId;
  /** The name the moderator used, shown back in messages. */
  readonly label: string;
}

type Refusal = Extract<CommandOutcome, { kind: "refused" }>;

/** Turns a room argument into a room ID and refuses the rooms Warden must never destroy. */
export async function resolveDestructiveTarget(argument: RoomArgument, rules: TargetRules): Promise<Result<Target, Refusal>> {
  const resolved = await resolveRoom(argument, rules.directory);
  if (!resolved.ok) return resolved;
  const { roomId } = resolved.value;
  if (roomId === rules.managementRoomId) {
    return err({ kind: "refused", reason: `${resolved.value.label} is Warden's own management room; Warden never purges or shuts it down.` });
  }
  const protectedRooms = await rules.protectedRooms.current();
  if (!protectedRooms.ok) return err({ kind: "refused", reason: `Warden will not purge or shut down ${resolved.value.label}: ${protectedRooms.error}` });
  if (protectedRooms.value.has(roomId)) {
    return err({
      kind: "refused",
      reason: `${resolved.value.label} is listed in protectedRooms in Warden's config; Warden will not purge or shut it down.`,
    });
  }
  return resolved;
}

export async function resolveRoom(argument: RoomArgument, directory: RoomDirectory): Promise<Result<Target, Refusal>> {
  if (argument.kind === "id") return ok({ roomId: argument.roomId, label: argument.roomId });
  const resolved = await directory.resolveAlias(argument.alias);
  if (!resolved.ok) {
    return err({ kind: "refused", reason: `the alias ${argument.alias} could not be resolved: ${resolved.error}` });
  }
  return ok({ roomId: resolved.value, label: `${argument.alias} (${resolved.value})` });
}
