import type { LimitFunction } from "p-limit";
import type { RoomDirectory } from "../../matrix/chat.js";
import type { RetentionExclude } from "../../model/retention.js";
import { err, ok, type Result } from "../../util/result.js";
import { referenceOf, resolveReference, type Candidate, type RoomInfo, type SelectionAdmin } from "./rooms.js";
import { readSpace } from "./spaces.js";

const PREFIX = "excluded by retention";

/** A retention policy's exclusions, resolved to room IDs and compiled, ready to test rooms against. */
export interface Exclusions {
  /** exclude.rooms and exclude.spaces (each space and its rooms): room ID -> why. */
  readonly rooms: ReadonlyMap<string, string>;
  readonly dm: boolean;
  readonly members: readonly { readonly pattern: string; readonly regex: RegExp }[];
}

const NONE: Exclusions = { rooms: new Map(), dm: false, members: [] };

/**
 * Resolves the policy's rooms and spaces and compiles its member patterns. Fails closed: an
 * alias that does not resolve or a space that cannot be read means Warden cannot tell which
 * rooms the policy spares, so nothing is selected (as with protectedRooms).
 */
export async function prepareExclusions(
  exclude: RetentionExclude | undefined,
  admin: Pick<SelectionAdmin, "roomDetails" | "roomHierarchy">,
  directory: RoomDirectory,
): Promise<Result<Exclusions, string>> {
  if (exclude === undefined) return ok(NONE);
  const rooms = new Map<string, string>();
  for (const text of exclude.rooms) {
    const reference = referenceOf(text);
    if (reference === undefined) return err(`exclude.rooms: ${text} is neither a room ID nor a room alias`);
    const resolved = await resolveReference(reference, directory);
    if (!resolved.ok) return err(`exclude.rooms: ${resolved.error}, so Warden cannot tell which rooms the policy spares`);
    if (!rooms.has(resolved.value.roomId)) rooms.set(resolved.value.roomId, `${PREFIX}: exclude.rooms lists ${text}`);
  }
  for (const text of exclude.spaces) {
    const reference = referenceOf(text);
    if (reference === undefined) return err(`exclude.spaces: ${text} is neither a room ID nor a room alias`);
    const space = await readSpace(reference, admin, directory);
    if (!space.ok) return err(`exclude.spaces: ${space.error}, so Warden cannot tell which rooms the policy spares`);
    const why = space.value.label === space.value.spaceId ? `${PREFIX}: in the space ${text}` : `${PREFIX}: in the space ${text} (${space.value.spaceId})`;
    for (const roomId of space.value.roomIds) if (!rooms.has(roomId)) rooms.set(roomId, why);
  }
  const members: { pattern: string; regex: RegExp }[] = [];
  for (const pattern of exclude.members) {
    try {
      // Anchored, so "@whatsapp_.*" cannot match "@not_whatsapp_x:example.org" by a substring.
      members.push({ pattern, regex: new RegExp(`^(?:${pattern})$`) });
    } catch {
      return err(`exclude.members: ${pattern} is not a valid regular expression`);
    }
  }
  return ok({ rooms, dm: exclude.dm, members });
}

/**
 * Whether a room looks like a direct-message room. Matrix keeps no DM flag on the room: "direct"
 * lives in each user's own m.direct account data, and the is_direct mark on the first invite is
 * replaced once the invitee joins. What clients do when they open a DM shows in what the admin
 * API reports: an invite-only room (the private_chat / trusted_private_chat presets), with no
 * name and no canonical alias (clients name it after the other person), not published in the
 * directory, not a space, and at most two joined members. A small private group chat without
 * a name also fits: for retention that errs on the side of keeping history. A bridge that names
 * its DM rooms does not fit; exclude.members patterns cover bridged rooms.
 */
export function looksLikeDirectMessage(info: RoomInfo): boolean {
  return (
    info.joinRules === "invite" &&
    info.name === undefined &&
    info.canonicalAlias === undefined &&
    info.public !== true &&
    info.roomType === undefined &&
    info.joinedMembers !== undefined &&
    info.joinedMembers <= 2
  );
}

/**
 * Why the exclusions leave this room out, or undefined to keep it. Members are read (through
 * `limit`) only when there are member patterns and the cheaper rules kept the room. A room whose
 * members cannot be read fails the selection: it might hold a member a pattern spares.
 */
export async function exclusionReason(
  candidate: Candidate,
  exclusions: Exclusions,
  admin: Pick<SelectionAdmin, "roomMembers">,
  limit: LimitFunction,
): Promise<Result<string | undefined, string>> {
  const listed = exclusions.rooms.get(candidate.roomId);
  if (listed !== undefined) return ok(listed);
  // A room this homeserver does not know has no details or members to judge by.
  if (candidate.info === undefined) return ok(undefined);
  if (exclusions.dm && looksLikeDirectMessage(candidate.info)) {
    return ok(`${PREFIX}: looks like a direct-message room (invite-only, no name or alias, ${String(candidate.info.joinedMembers)} joined members)`);
  }
  if (exclusions.members.length === 0) return ok(undefined);
  const members = await limit(() => admin.roomMembers(candidate.roomId));
  if (!members.ok) {
    // Gone since it was listed: no member is left to spare.
    if (members.error.kind === "not-found") return ok(undefined);
    return err(`could not read the members of ${candidate.label} to check exclude.members: ${members.error.userMessage}`);
  }
  for (const member of members.value.members) {
    const rule = exclusions.members.find(({ regex }) => regex.test(member));
    if (rule !== undefined) return ok(`${PREFIX}: member ${member} matches ${rule.pattern}`);
  }
  return ok(undefined);
}
