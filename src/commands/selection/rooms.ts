import type { RoomDirectory } from "../../matrix/chat.js";
import { asRoomAlias, asRoomId, type RoomId } from "../../matrix/ids.js";
import type { RoomReference } from "../../model/waves.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";

/** The admin calls selection makes; nothing that changes the homeserver. */
export type SelectionAdmin = Pick<SynapseAdminClient, "listRooms" | "roomHierarchy" | "roomDetails" | "roomMembers">;

/** What the homeserver said about a room, as far as selecting and excluding need it. */
export interface RoomInfo {
  readonly name?: string;
  readonly canonicalAlias?: string;
  readonly joinedMembers?: number;
  readonly joinedLocalMembers?: number;
  /** Published in the room directory. */
  readonly public?: boolean;
  readonly joinRules?: string;
  readonly roomType?: string;
}

/** A room met on the way, before the rules that leave rooms out are applied. */
export interface Candidate {
  readonly roomId: RoomId;
  readonly label: string;
  /** Undefined: this homeserver does not know the room (only ever for a listed room). */
  readonly info?: RoomInfo;
}

/** The fields the room list and the room details share, under the same names. */
export interface RoomFields {
  readonly name?: string | null | undefined;
  readonly canonical_alias?: string | null | undefined;
  readonly joined_members: number;
  readonly joined_local_members?: number | null | undefined;
  readonly public?: boolean | null | undefined;
  readonly join_rules?: string | null | undefined;
  readonly room_type?: string | null | undefined;
}

export function roomInfo(fields: RoomFields): RoomInfo {
  return {
    ...(fields.name === null || fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.canonical_alias === null || fields.canonical_alias === undefined ? {} : { canonicalAlias: fields.canonical_alias }),
    joinedMembers: fields.joined_members,
    ...(fields.joined_local_members === null || fields.joined_local_members === undefined ? {} : { joinedLocalMembers: fields.joined_local_members }),
    ...(fields.public === null || fields.public === undefined ? {} : { public: fields.public }),
    ...(fields.join_rules === null || fields.join_rules === undefined ? {} : { joinRules: fields.join_rules }),
    ...(fields.room_type === null || fields.room_type === undefined ? {} : { roomType: fields.room_type }),
  };
}

/**
 * Whether a room holds the words of `--matching` as typed: a part of its name or of its
 * canonical alias's localpart, ignoring case, or its whole room ID. These are the admin room
 * list's three rules, without its SQL: Synapse puts search_term inside LIKE patterns, where _
 * stands for any one character and % for any text, so "old_logs" also finds "old-logs" and
 * "100%" finds "1000"; and its alias pattern "#%words%:%" reaches past the localpart when a
 * server name carries a port. Its answer holds every room these rules accept, so each room
 * it sends is checked again here.
 */
export function containsWords(words: string, roomId: string, info: Pick<RoomInfo, "name" | "canonicalAlias">): boolean {
  if (roomId === words) return true;
  const wanted = words.toLowerCase();
  if (info.name?.toLowerCase().includes(wanted) === true) return true;
  const alias = info.canonicalAlias;
  // A localpart holds no colon: the first one ends it.
  return alias?.slice(1).split(":", 1)[0]?.toLowerCase().includes(wanted) === true;
}

/** A room reference made into a room ID; the label is what the moderator (or config) wrote. */
export async function resolveReference(
  reference: RoomReference,
  directory: RoomDirectory,
): Promise<Result<{ readonly roomId: RoomId; readonly label: string }, string>> {
  if (reference.kind === "id") {
    const roomId = asRoomId(reference.roomId);
    return roomId === undefined ? err(`${reference.roomId} is not a room ID`) : ok({ roomId, label: reference.roomId });
  }
  const alias = asRoomAlias(reference.alias);
  if (alias === undefined) return err(`${reference.alias} is not a room alias`);
  const resolved = await directory.resolveAlias(alias);
  if (!resolved.ok) return err(`the alias ${reference.alias} could not be resolved: ${resolved.error}`);
  return ok({ roomId: resolved.value, label: reference.alias });
}

/** A room as a config writes it (an ID or an alias), checked for form. */
export function referenceOf(text: string): RoomReference | undefined {
  if (asRoomId(text) !== undefined) return { kind: "id", roomId: text };
  if (asRoomAlias(text) !== undefined) return { kind: "alias", alias: text };
  return undefined;
}
