import type { RoomDirectory } from "../../matrix/chat.js";
import type { RoomId } from "../../matrix/ids.js";
import type { RoomReference } from "../../model/waves.js";
import type { RoomDetailsBody } from "../../synapse/adminClient.js";
import { wholeHierarchy, type HierarchyRoom } from "../../synapse/paging.js";
import { err, ok, type Result } from "../../util/result.js";
import { resolveReference, type SelectionAdmin } from "./rooms.js";

const SPACE_ROOM_TYPE = "m.space";
const SPACE_CHILD_EVENT = "m.space.child";

export interface SpaceTree {
  readonly spaceId: RoomId;
  /** As typed: the alias, or the room ID. */
  readonly label: string;
  readonly details: RoomDetailsBody;
  /**
   * The space first, then the rooms Synapse's walk listed (depth first), then the children named
   * by the walked spaces that it did not list; each once, as Synapse sent them. Children of a
   * sub-space this server is not in stay unknown: Synapse does not walk it.
   */
  readonly roomIds: readonly string[];
}

/**
 * A space and the rooms of its tree. Everything that stops the walk is an error sentence,
 * never a shorter list: an exclusion built on part of a space would spare fewer rooms than
 * promised, and a selection would quietly act on less than the moderator saw named.
 */
export async function readSpace(reference: RoomReference, admin: Pick<SelectionAdmin, "roomDetails" | "roomHierarchy">, directory: RoomDirectory): Promise<Result<SpaceTree, string>> {
  const resolved = await resolveReference(reference, directory);
  if (!resolved.ok) return err(`could not find the space: ${resolved.error}`);
  const { roomId: spaceId, label } = resolved.value;
  const details = await admin.roomDetails(spaceId);
  if (!details.ok) {
    return err(details.error.kind === "not-found" ? `this homeserver does not know the space ${label}` : `could not read the space ${label}: ${details.error.userMessage}`);
  }
  if (details.value.room_type !== SPACE_ROOM_TYPE) {
    // The hierarchy of a plain room is that room alone: almost certainly not what was meant.
    return err(`${label} is not a space (its room type is ${details.value.room_type ?? "not set"})`);
  }
  if (details.value.joined_local_members === 0) {
    // Synapse walks only spaces it is in, and fails with 500 on any other root.
    return err(`no user of this homeserver is in the space ${label}, so Synapse cannot list its rooms`);
  }
  const tree = await wholeHierarchy(admin, spaceId);
  if (!tree.ok) {
    if (tree.error.kind === "not-found" && tree.error.errcode === "M_UNRECOGNIZED") {
      return err("this homeserver cannot list the rooms of a space: Synapse's admin space hierarchy API arrived in version 1.142");
    }
    return err(`could not read the rooms of the space ${label}: ${tree.error.userMessage}`);
  }
  // The root always heads Synapse's answer; kept first even if a future version does not.
  const roomIds = new Set<string>([spaceId]);
  for (const room of tree.value) roomIds.add(room.room_id);
  for (const room of tree.value) for (const child of childIds(room)) roomIds.add(child);
  return ok({ spaceId, label, details: details.value, roomIds: [...roomIds] });
}

/**
 * A space's current children, from its m.space.child events. Synapse's walk lists only rooms
 * this server is in, so a room every local user has left (the rooms `--space X --empty` is
 * for) shows only here. A child event without `via` is how a child is removed.
 */
function childIds(room: HierarchyRoom): string[] {
  return room.children_state
    .filter((event) => event.type === SPACE_CHILD_EVENT && Array.isArray(event.content["via"]) && event.content["via"].length > 0)
    .map((event) => event.state_key);
}
